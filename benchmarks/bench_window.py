"""The window's budgets: launch to window shown, opening and drawing a 1,000-node graph, repainting while
panning it, and the time from a parameter edit to updated shapes on screen.

Each figure is compared with a baseline measured in the same run: a bare QMainWindow for launch, and the
same geometry drawn with Qt's plainest items (rectangles and lines) for drawing and panning. Runs offscreen
unless a display is set. Run: `make bench` or `.venv/bin/python benchmarks/bench_window.py`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QSettings
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView

from netbuilder.analysis.layout import layered_positions
from netbuilder.project import Project, save_project
from netbuilder.project.recovery import Recovery
from netbuilder.ui.app.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).parent))
from bench_analysis import residual_tower, timed

LAUNCH = """
import os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtWidgets import QApplication
app = QApplication([])
{build}
window.show()
app.processEvents()
window.repaint()
print(time.time(), "torch" in sys.modules)
"""
OURS = (
    "from netbuilder.ui.app.application import create_window\n"
    "from pathlib import Path\nwindow = create_window(Path('sample_projects/digits_cnn.nbproj'))"
)
BARE = "from PySide6.QtWidgets import QMainWindow\nwindow = QMainWindow(); window.resize(1366, 768)"


def launch_seconds(build: str) -> tuple[float, bool]:
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-c", LAUNCH.format(build=build)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HOME": tempfile.mkdtemp()},
    ).stdout.split()
    return float(out[0]) - started, out[1] == "True"


def main() -> None:
    _app = QApplication.instance() or QApplication([])  # held for the whole run
    rows = []

    ours, torch_loaded = min(launch_seconds(OURS) for _ in range(3))
    bare, _ = min(launch_seconds(BARE) for _ in range(3))
    rows.append(("launch to window shown (s)", ours, bare, 1.5))

    folder = Path(tempfile.mkdtemp())
    graph, linears = residual_tower(1000)
    for node_id, position in layered_positions(graph).items():
        graph.move(node_id, position)
    path = save_project(Project("tower", graph), folder / "tower.nbproj")
    window = MainWindow(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat), Recovery(folder / "r"))
    window.resize(1366, 768)
    window.show()

    def open_and_draw() -> None:
        window.open_path(path)
        window.view.frame_all()
        window.view.viewport().grab()
        if window.document is not None:
            window.controller.undo_stack.setClean()

    opened = timed(open_and_draw, 3)
    rects = [window.scene.nodes[n].sceneBoundingRect() for n in window.scene.nodes]
    lines = [
        (e.source.output_position(e.edge.src_port), e.target.input_position(e.edge.dst_port))
        for e in window.scene.edges.values()
    ]

    plain_scene = QGraphicsScene()
    plain_view = QGraphicsView(plain_scene)
    plain_view.resize(window.view.size())
    plain_view.show()

    def plain_draw() -> None:
        plain_scene.clear()
        for rect in rects:
            plain_scene.addRect(rect)
        for a, b in lines:
            plain_scene.addLine(a.x(), a.y(), b.x(), b.y())
        plain_view.fitInView(plain_scene.itemsBoundingRect())
        plain_view.viewport().grab()

    rows.append(("open + draw 1,000 nodes (s)", opened, timed(plain_draw, 3), 1.5))

    def pan_frames(view: QGraphicsView, zoom: float) -> float:
        view.resetTransform()
        view.scale(zoom, zoom)
        view.centerOn(QPointF(rects[len(rects) // 2].center()))
        bar = view.horizontalScrollBar()
        frames = []
        for step in range(60):
            bar.setValue(bar.value() + (15 if step % 40 < 20 else -15))
            started = time.perf_counter()
            view.viewport().grab()  # renders the whole viewport: one frame
            frames.append(time.perf_counter() - started)
        return statistics.median(frames)

    for zoom in (1.0, 0.3):
        rows.append(
            (
                f"pan repaint per frame at {zoom:.0%} (ms)",
                pan_frames(window.view, zoom) * 1000,
                pan_frames(plain_view, zoom) * 1000,
                16.0,
            )
        )

    middle = linears[len(linears) // 2]
    view = window.view
    view.resetTransform()
    view.centerOn(window.scene.nodes[middle].sceneBoundingRect().center())
    sizes = iter([48, 64] * 50)

    def edit_to_screen() -> None:
        window.controller.set_param(middle, "out_features", next(sizes))
        window.document.reanalyze()  # what the zero-delay timer does on the next turn of the event loop
        view.viewport().grab()

    edit = timed(edit_to_screen, 9) * 1000
    rows.append(("edit -> shapes on screen (ms)", edit, None, None))
    window.controller.undo_stack.setClean()

    print(f"{'measure':40} {'netbuilder':>11} {'baseline':>10} {'ratio':>7} {'budget':>8}")
    for name, value, baseline, budget in rows:
        ratio = f"{value / baseline:.1f}x" if baseline else "-"
        base = f"{baseline:.3f}" if baseline is not None else "-"
        print(f"{name:40} {value:11.3f} {base:>10} {ratio:>7} {budget if budget else '-':>8}")
    print(f"torch loaded on the launch path: {torch_loaded}")
    print("baselines: a bare QMainWindow (launch); the same rectangles and lines as plain Qt items (drawing)")


if __name__ == "__main__":
    main()
