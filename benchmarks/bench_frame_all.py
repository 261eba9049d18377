"""The whole of a large network on screen: what a frame costs once Frame All has zoomed out to show every node
of the 1,000-node residual tower (about 0.5 %), for a pan (the items' cached pictures reused) and for a zoom
step (every item drawn again), in both layout directions.

The baseline, measured in the same run, is the same geometry drawn with Qt's plainest items (a rectangle
per node, a line per edge) at the same zoom, as benchmarks/bench_window.py does. Runs offscreen unless a
display is set. Run: `make bench` or `.venv/bin/python benchmarks/bench_frame_all.py`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView

from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.project import Project
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.theme import LIGHT

sys.path.insert(0, str(Path(__file__).parent))
from bench_analysis import residual_tower


def frame_ms(view: QGraphicsView, zoom_step: bool) -> float:
    """Median milliseconds of drawing the whole viewport after a one-pixel pan or a 1 % zoom step."""
    samples = []
    for i in range(9):
        if zoom_step:
            view.scale(1.01 if i % 2 else 1 / 1.01, 1.01 if i % 2 else 1 / 1.01)
        else:
            view.translate(1 if i % 2 else -1, 0)
            view.scene().invalidate()
        started = time.perf_counter()
        view.viewport().grab()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    _app = QApplication.instance() or QApplication([])  # held for the whole run
    print("| direction | zoom | pan frame ms | plain items ms | zoom step ms | plain items ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for orientation in Orientation:
        graph, _ = residual_tower(1000)
        for node_id, position in layered_positions(graph, orientation).items():
            graph.move(node_id, position)
        document = Document(Project("tower", graph))
        scene = GraphScene(EditorController(document), LIGHT)
        view = GraphView(scene)
        view.resize(1366, 768)
        view.show()
        view.frame_all()
        plain_scene = QGraphicsScene()
        for item in scene.nodes.values():
            plain_scene.addRect(item.sceneBoundingRect())
        for edge in scene.edges.values():
            start, end = edge.path().pointAtPercent(0), edge.path().pointAtPercent(1)
            plain_scene.addLine(start.x(), start.y(), end.x(), end.y())
        plain = QGraphicsView(plain_scene)
        plain.resize(view.size())
        plain.show()
        plain.setTransform(view.transform())
        plain.centerOn(view.mapToScene(view.viewport().rect().center()))
        ours_pan, plain_pan = frame_ms(view, False), frame_ms(plain, False)
        ours_zoom, plain_zoom = frame_ms(view, True), frame_ms(plain, True)
        direction = orientation.value.replace("_", " ")
        print(
            f"| {direction} | {view.zoom:.2%} | {ours_pan:.1f} | {plain_pan:.1f} | {ours_zoom:.1f} | {plain_zoom:.1f} |"
        )
        scene.close()
        document.close()


if __name__ == "__main__":
    main()
