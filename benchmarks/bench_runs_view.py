"""What an edit of a large graph costs the Runs view's "Changes from now" column.

After each pause in editing, the Runs view compares every run's project with the project now
(`run_comparison.changes`). The table works a row's changes out only when it is asked for them (the rows in
view; a sort or a filter by them asks for all), and sizes the column by the rows in view. Measured in the same
run on a chain of 1,000 layers with 100 runs of it: the view following an edit (the project written as its file
holds it, the rows in view compared, the column sized and painted) against working out every run's changes, the
baseline a table without laziness would pay. Medians of 10 edits.
Run: `.venv/bin/python benchmarks/bench_runs_view.py`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from netbuilder.project import Project, save_project
from netbuilder.project.project_file import project_to_dict
from netbuilder.project.run_history import RunHistory, RunRecord
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.training.runs_view import RunsView

LAYERS = 1000
RUNS = 100
EDITS = 10


def chain(folder: Path) -> Project:
    project = Project.new("chain")
    graph = project.graph
    previous, port = graph.add_node("Dataset", label="data", position=(0.0, 0.0)).id, "x"
    for i in range(LAYERS):
        node = graph.add_node("Dropout", label=f"drop{i}", position=(i * 100.0, 0.0)).id
        graph.connect(previous, port, node, "x")
        previous, port = node, "y"
    save_project(project, folder / "chain.nbproj")
    return project


def main() -> None:
    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp())
    project = chain(folder)
    history = RunHistory(project.path)
    ran = project_to_dict(project)
    for n in range(RUNS):
        history.add(RunRecord(run_id=f"2026-01-01_10-{n // 60:02d}-{n % 60:02d}", status="stopped", project=ran))
    controller = EditorController(Document(project))
    view = RunsView(controller, history)
    view.resize(1400, 400)
    view.show()
    app.processEvents()
    node = project.graph.by_label("drop0").id
    lazy, every = [], []
    for edit in range(EDITS):
        controller.set_param(node, "p", 0.1 + edit / 100)
        start = time.perf_counter()
        view._follow_current()  # what the view does once edits pause (its timer), here at once
        app.processEvents()
        lazy.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        for row in range(view.model.rowCount()):
            view.model.changes_of(row)
        every.append((time.perf_counter() - start) * 1000)
    shown = view.model.changes_of(0)
    print(f"{RUNS} runs of a {LAYERS}-layer chain; a run's changes: {shown}")
    print(f"view following an edit (rows in view): {statistics.median(lazy):7.1f} ms")
    print(f"every run's changes (baseline):        {statistics.median(every):7.1f} ms")
    print(f"ratio: {statistics.median(every) / statistics.median(lazy):.1f}x less work per edit")
    view.close()
    controller.close()


if __name__ == "__main__":
    main()
