"""The canvas overview (minimap) on a 1,000-node graph: what redrawing its node layer costs after an edit, and
what it adds to each frame while the view pans.

Baselines measured in the same run: for the node layer, the scene rendered into a picture of the overview's
size (what a minimap that draws the canvas would pay); for a pan frame, one frame of the canvas itself (its
viewport rendered whole, as benchmarks/bench_window.py times it). Runs offscreen unless a display is set.
Run: `.venv/bin/python benchmarks/bench_overview.py`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from netbuilder.analysis.layout import layered_positions
from netbuilder.project import Project
from netbuilder.ui.canvas.minimap import Overview
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.theme import LIGHT

sys.path.insert(0, str(Path(__file__).parent))
from bench_analysis import residual_tower, timed


def main() -> None:
    app = QApplication.instance() or QApplication([])
    graph, _ = residual_tower(1000)
    for node_id, position in layered_positions(graph).items():
        graph.move(node_id, position)
    document = Document(Project("tower", graph))
    controller = EditorController(document)
    scene = GraphScene(controller, LIGHT)
    view = GraphView(scene)
    view.resize(1100, 600)
    view.show()
    app.processEvents()
    overview = Overview(view)
    view.set_zoom(1.0)
    view.centerOn(QPointF(overview.bounds.center()))
    app.processEvents()
    rows = []

    def scene_in_small() -> None:
        picture = QPixmap(overview.size())
        picture.fill(Qt.GlobalColor.transparent)
        painter = QPainter(picture)
        scene.render(painter, QRectF(picture.rect()), overview.bounds)
        painter.end()

    rows.append(("node layer redrawn (ms)", 1000 * timed(overview.refresh, 21), 1000 * timed(scene_in_small, 5)))

    bar = view.horizontalScrollBar()

    def pan(frame) -> float:
        samples = []
        for step in range(60):
            bar.setValue(bar.value() + (15 if step % 40 < 20 else -15))
            started = time.perf_counter()
            frame()
            samples.append(time.perf_counter() - started)
        return statistics.median(samples) * 1000

    rows.append(("overview repaint per pan frame (ms)", pan(overview.grab), pan(view.viewport().grab)))

    print(f"{len(graph.nodes)} nodes, overview {overview.width()}x{overview.height()} px")
    print(f"{'measure':38} {'overview':>9} {'baseline':>9} {'ratio':>7}")
    for name, value, baseline in rows:
        print(f"{name:38} {value:9.3f} {baseline:9.3f} {value / baseline:6.3f}x")
    print("baselines: the scene rendered at the overview's size (node layer); one canvas frame at 100 % (pan)")
    controller.undo_stack.clear()
    document.close()


if __name__ == "__main__":
    main()
