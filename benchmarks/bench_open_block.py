"""Opening a block of the project on the canvas, and going back up, on a 1,000-node network grouped into one
block: the canvas drops its items and makes the inside's (with the opened instance's analysis).

Baseline measured in the same run: a fresh canvas (GraphScene) over the same 1,000 nodes flat, what the window
pays to show a document it opens. Runs offscreen unless a display is set.
Run: `.venv/bin/python benchmarks/bench_open_block.py`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from netbuilder.analysis.layout import layered_positions
from netbuilder.graph.grouping import group
from netbuilder.project import Project
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.theme import LIGHT

sys.path.insert(0, str(Path(__file__).parent))
from bench_analysis import residual_tower, timed


def main() -> None:
    QApplication.instance() or QApplication([])
    flat, _ = residual_tower(1000)
    for node_id, position in layered_positions(flat).items():
        flat.move(node_id, position)
    flat_document = Document(Project("flat", flat))
    flat_controller = EditorController(flat_document)

    def fresh_canvas() -> None:
        GraphScene(flat_controller, LIGHT).close()

    baseline = 1000 * timed(fresh_canvas, 5)

    graph, _ = residual_tower(1000)
    for node_id, position in layered_positions(graph).items():
        graph.move(node_id, position)
    first = next(iter(graph.nodes))
    instance = group(graph, [n for n in graph.nodes if n != first], "Tower")
    document = Document(Project("grouped", graph))
    controller = EditorController(document)
    scene = GraphScene(controller, LIGHT)

    def open_and_close() -> None:
        controller.open_path((instance,))
        controller.open_path(())

    both = 1000 * timed(open_and_close, 5)
    inside = len(graph.definitions["Tower"].graph.nodes)
    print(f"a block of {inside} nodes; baseline: a fresh canvas over {len(flat.nodes)} flat nodes")
    print(f"{'measure':34} {'ms':>8} {'baseline':>9} {'ratio':>7}")
    print(f"{'open the block and go back up':34} {both:8.1f} {baseline:9.1f} {both / baseline:6.2f}x")
    scene.close()
    for c, d in ((controller, document), (flat_controller, flat_document)):
        c.undo_stack.clear()
        d.close()


if __name__ == "__main__":
    main()
