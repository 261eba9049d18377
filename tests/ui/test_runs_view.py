"""The Runs view as a person uses it, over runs written straight into the project's history (no training): the
table's columns and sorting, the filter, rename, star and delete kept on disk, the selected runs' curves
overlaid, the exports, and each run opened as a copy, shown, or made the starting weights."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QLineEdit, QMessageBox, QTabBar

from netbuilder.project import load_project
from netbuilder.project.project_file import project_to_dict
from netbuilder.project.run_history import MAX_RUNS_WITH_FILES, RunHistory, RunRecord
from netbuilder.ui.app.run_graph_dialog import RunGraphDialog
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.training.runs_table import CHANGES, DURATION, FINAL, NAME, SAME_AS_NOW, STAR, SWEEP
from netbuilder.ui.training.runs_view import RunsView
from tests.ui.conftest import forget_changes

pytestmark = pytest.mark.usefixtures("no_thread_left_running")


def record(run_id: str, project: dict | None, accuracies: list[float], **fields) -> RunRecord:
    """A finished run of len(accuracies) epochs whose validation accuracy went through `accuracies` (and its
    loss down as 1 - accuracy)."""
    history = [
        {
            "epoch": epoch,
            "train_loss": 1.2 - accuracy,
            "val_loss": 1.0 - accuracy,
            "val_accuracy": accuracy,
            "learning_rate": 0.002,
        }
        for epoch, accuracy in enumerate(accuracies, start=1)
    ]
    values = {
        "status": "completed",
        "started": 1_780_000_000.0 + int(run_id[-2:]) * 60,
        "seconds": 12.0,
        "device": "cpu",
        "settings": {"epochs": len(accuracies), "batch_size": 64, "seed": 0},
        "epochs_done": len(accuracies),
        "history": history,
        "final": history[-1] if history else {},
        "project": project,
    }
    values.update(fields)
    return RunRecord(run_id=run_id, **values)


def keep(history: RunHistory, run: RunRecord, weights: bytes | None = b"") -> RunRecord:
    """Add `run` to `history` with a file in its folder (its model.pt) unless `weights` is None."""
    if weights is not None:
        folder = history.run_dir(run.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.pt").write_bytes(weights)
        run.weights = f"{run.run_id}/model.pt"
    history.add(run)
    return run


@pytest.fixture
def project(project_path):
    return load_project(project_path)


@pytest.fixture
def history(project_path, project) -> RunHistory:
    """Three runs of the digits MLP: a, b, c with final accuracies 0.90, 0.85, 0.95 and durations 5 s, 100 s,
    20 s; b is named."""
    runs = RunHistory(project_path)
    now = project_to_dict(project)
    keep(runs, record("2026-01-01_10-00-01", now, [0.8, 0.9], seconds=5.0))
    keep(runs, record("2026-01-01_10-00-02", now, [0.7, 0.85], seconds=100.0, name="wide layers"))
    keep(runs, record("2026-01-01_10-00-03", now, [0.95, 0.9, 0.95], seconds=20.0))
    return runs


@pytest.fixture
def make_view(qtbot, project):
    made = []

    def make(history: RunHistory) -> RunsView:
        document = Document(project)
        controller = EditorController(document)
        view = RunsView(controller, history)
        qtbot.addWidget(view)
        view.resize(1200, 400)
        view.show()
        view.activateWindow()  # the table's keys (Delete, F2, Space) are its own shortcuts: they need the focus
        qtbot.waitActive(view)
        qtbot.waitUntil(lambda: view.overlay is not None)  # built once the view is really in view
        made.append((view, controller))
        return view

    yield make
    for view, controller in made:
        view.shutdown()
        controller.close()  # and its document


def column(view: RunsView, number: int) -> list[str]:
    return [view.proxy.index(row, number).data() for row in range(view.proxy.rowCount())]


def select(view: RunsView, *rows: int) -> None:
    selection = view.table.selectionModel()
    selection.clearSelection()
    for row in rows:
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        selection.select(view.proxy.index(row, 0), flags)
    selection.setCurrentIndex(view.proxy.index(rows[0], NAME), QItemSelectionModel.SelectionFlag.NoUpdate)


def save_as(monkeypatch, path: Path, chosen_filter: str = "") -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(path), chosen_filter)))


def test_newest_run_first_with_its_figures(make_view, history):
    view = make_view(history)
    assert column(view, NAME) == ["2026-01-01_10-00-03", "wide layers", "2026-01-01_10-00-01"]
    headers = [view.proxy.headerData(i, Qt.Orientation.Horizontal) for i in range(view.proxy.columnCount())]
    assert headers[FINAL] == "Final val accuracy" and headers[FINAL + 1] == "Best val accuracy"
    assert column(view, FINAL) == ["95.0%", "85.0%", "90.0%"]
    assert column(view, FINAL + 1) == ["95.0%", "85.0%", "90.0%"]
    assert column(view, DURATION) == ["20 s", "1 min 40 s", "5 s"]
    assert column(view, CHANGES) == [SAME_AS_NOW] * 3
    assert view.pages.currentWidget() is not view.empty_label


def test_sorting_goes_by_numbers_not_words(make_view, history):
    view = make_view(history)
    view.table.sortByColumn(DURATION, Qt.SortOrder.AscendingOrder)
    assert column(view, DURATION) == ["5 s", "20 s", "1 min 40 s"]  # as words, "1 min" would come first
    view.table.sortByColumn(FINAL, Qt.SortOrder.DescendingOrder)
    assert column(view, FINAL) == ["95.0%", "90.0%", "85.0%"]
    view.metric_box.setCurrentIndex(view.metric_box.findData("val_loss"))
    assert view.proxy.headerData(FINAL, Qt.Orientation.Horizontal) == "Final val loss"
    view.table.sortByColumn(FINAL, Qt.SortOrder.AscendingOrder)
    assert column(view, FINAL) == ["0.05", "0.1", "0.15"]


def test_no_runs_says_how_to_get_some(make_view, project_path):
    view = make_view(RunHistory(project_path))
    assert view.pages.currentWidget() is view.empty_label
    assert "Train the network (Training dock, or netbuilder train)" in view.empty_label.text()


def test_filter_keeps_the_runs_whose_words_match(make_view, history, project):
    sweep = {"id": "sweep-2026-01-01_11-00-00", "values": {"optimizer.lr": 0.01}}
    keep(history, record("2026-01-01_10-00-04", project_to_dict(project), [0.5], sweep=sweep, status="failed"))
    view = make_view(history)
    view.refresh()
    view.filter_box.setText("WIDE")
    assert column(view, NAME) == ["wide layers"]
    view.filter_box.setText("optimizer.lr")
    assert column(view, NAME) == ["2026-01-01_10-00-04"]
    assert column(view, SWEEP) == ["best · optimizer.lr=0.01"]
    view.filter_box.setText("failed sweep")
    assert view.proxy.rowCount() == 1
    view.filter_box.setText("")
    assert view.proxy.rowCount() == 4


def test_a_sweeps_best_run_is_marked_by_the_chosen_metric(make_view, project_path, project):
    history = RunHistory(project_path)
    now = project_to_dict(project)
    for index, (lr, accuracies) in enumerate([(0.1, [0.5, 0.6]), (0.01, [0.7, 0.9]), (0.001, [0.8, 0.8])]):
        sweep = {"id": "sweep-1", "values": {"optimizer.lr": lr}, "index": index, "of": 3}
        keep(history, record(f"2026-01-01_10-00-0{index + 1}", now, accuracies, sweep=sweep), weights=None)
    view = make_view(history)
    marked = [text for text in column(view, SWEEP) if text.startswith("best")]
    assert marked == ["best · optimizer.lr=0.01"]
    select(view, 0)
    view.select_sweep()
    assert len(view.selected_records()) == 3


def test_rename_is_kept_beside_the_project(qtbot, make_view, history, project_path):
    view = make_view(history)
    index = view.proxy.index(2, NAME)
    view.table.setCurrentIndex(index)
    view.rename_current()
    editor = view.table.viewport().findChild(QLineEdit)
    qtbot.waitUntil(editor.hasFocus)
    editor.setText("  baseline  ")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.table.state() != QAbstractItemView.State.EditingState)  # Qt commits on its next turn
    assert column(view, NAME)[2] == "baseline"
    assert [r.name for r in RunHistory(project_path).records] == ["baseline", "wide layers", ""]


def test_star_by_click_is_kept_and_keeps_the_runs_files(qtbot, make_view, history, project_path, project):
    view = make_view(history)
    oldest = view.proxy.index(2, STAR)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=view.table.visualRect(oldest).center())
    assert oldest.data() == "★"
    assert RunHistory(project_path).records[0].starred
    for n in range(MAX_RUNS_WITH_FILES + 1):  # enough runs that the oldest would lose its files
        keep(history, record(f"2026-01-01_11-00-{n:02d}", project_to_dict(project), [0.5]))
    kept = RunHistory(project_path).records
    assert history.file_path(kept[0], kept[0].weights) is not None  # starred: its model.pt stays
    assert kept[1].weights is None  # the next oldest lost its files


def test_delete_asks_then_removes_the_run_and_its_files(qtbot, make_view, history, project_path, answer):
    view = make_view(history)
    select(view, 1)
    asked = answer(QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes)
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus)
    QTest.keyClick(view.table, Qt.Key.Key_Delete)
    assert view.proxy.rowCount() == 3  # cancelled: nothing went
    QTest.keyClick(view.table, Qt.Key.Key_Delete)
    assert "wide layers" in asked[1]
    assert column(view, NAME) == ["2026-01-01_10-00-03", "2026-01-01_10-00-01"]
    assert not (history.folder / "2026-01-01_10-00-02").exists()
    assert [r.run_id for r in RunHistory(project_path).records] == ["2026-01-01_10-00-01", "2026-01-01_10-00-03"]


def test_selected_runs_are_overlaid_one_colour_each_with_a_legend(make_view, history):
    view = make_view(history)
    overlay = view.ensure_overlay()
    select(view, 0, 2)
    visible = [curve for curve in overlay.curves if curve.isVisible()]
    assert len(visible) == 2
    assert [list(curve.yData) for curve in visible] == [pytest.approx([0.05, 0.1, 0.05]), pytest.approx([0.2, 0.1])]
    assert len({curve.opts["pen"].color().name() for curve in visible}) == 2
    legend = [label.text for label in overlay.labels if label.scene() is not None]
    assert len(legend) == 2 and "2026-01-01_10-00-03" in legend[0] and "2026-01-01_10-00-01" in legend[1]
    overlay.chooser.setCurrentIndex(overlay.chooser.findData("val_accuracy"))
    assert list(visible[0].yData) == pytest.approx([95.0, 90.0, 95.0])  # accuracy in percent
    select(view, 1)
    assert [curve.isVisible() for curve in overlay.curves] == [True, False]
    legend = [label.text for label in overlay.labels if label.scene() is not None]
    assert len(legend) == 1 and "wide layers" in legend[0]


def test_the_table_exports_as_shown_with_plain_numbers(monkeypatch, make_view, history, tmp_path):
    view = make_view(history)
    view.filter_box.setText("2026")  # the ids: all three
    view.table.sortByColumn(DURATION, Qt.SortOrder.AscendingOrder)
    save_as(monkeypatch, tmp_path / "runs")
    view.export_table()
    rows = list(csv.reader(io.StringIO((tmp_path / "runs.csv").read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["starred", "Name", "Started"] and rows[0][FINAL] == "Final val accuracy"
    assert [row[NAME] for row in rows[1:]] == ["2026-01-01_10-00-01", "2026-01-01_10-00-03", "wide layers"]
    assert [float(row[DURATION]) for row in rows[1:]] == [5.0, 20.0, 100.0]
    assert [float(row[FINAL]) for row in rows[1:]] == [0.9, 0.95, 0.85]
    assert rows[1][CHANGES] == SAME_AS_NOW and rows[1][STAR] == "0"


@pytest.mark.parametrize(("name", "chosen", "start"), [("curves.png", "", b"\x89PNG"), ("curves", "SVG", b"<")])
def test_the_curves_export_as_png_or_svg(monkeypatch, make_view, history, tmp_path, name, chosen, start):
    view = make_view(history)
    select(view, 0, 1, 2)
    save_as(monkeypatch, tmp_path / name, chosen)
    view.export_curves()
    written = tmp_path / ("curves.png" if start.startswith(b"\x89") else "curves.svg")
    data = written.read_bytes()
    assert data.startswith(start) and len(data) > 1000
    if written.suffix == ".svg":
        assert b"<svg" in data and b"wide layers" in data  # the legend names the runs
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_changes_follow_an_edit_of_the_graph(qtbot, make_view, history):
    view = make_view(history)
    controller = view.editor
    assert controller.set_param("n3", "out_features", 128)
    qtbot.waitUntil(lambda: column(view, CHANGES)[0] != SAME_AS_NOW, timeout=3000)
    assert column(view, CHANGES) == ["fc1.out_features 64 → 128"] * 3
    assert "fc1.out_features 64 → 128" in view.proxy.index(0, CHANGES).data(Qt.ItemDataRole.ToolTipRole)
    controller.undo_stack.undo()
    qtbot.waitUntil(lambda: column(view, CHANGES)[0] == SAME_AS_NOW, timeout=3000)


# ---- in the window ---------------------------------------------------------------------------------------------


def runs_of(window) -> RunsView:
    window.runs_action.trigger()  # View > Runs: the dock comes forward
    assert window.runs_dock.isVisible() and window.runs.isVisible()
    return window.runs


def test_a_run_that_ends_appears_at_once(window, project_path):
    view = runs_of(window)
    assert view.pages.currentWidget() is view.empty_label
    keep(window.training.history, record("2026-01-01_10-00-01", project_to_dict(window.document.project), [0.9]))
    window.training.runs_changed.emit()  # as the dock does when a run ends
    assert column(view, NAME) == ["2026-01-01_10-00-01"]
    assert view.pages.currentWidget() is not view.empty_label


def test_open_as_a_copy_gives_the_runs_graph_in_a_new_document(window):
    old = project_to_dict(window.document.project)
    old["graph"]["nodes"][2]["params"]["out_features"] = 32
    keep(window.training.history, record("2026-01-01_10-00-01", old, [0.9], name="narrow"))
    window.training.runs_changed.emit()
    view = runs_of(window)
    select(view, 0)
    view.open_copy_action.trigger()
    assert window.document.project.name == "Digits MLP (run narrow)"
    assert window.document.path is None and window.controller.modified
    assert window.document.project.graph.nodes["n3"].params["out_features"] == 32
    assert window.runs is not view and window.runs.pages.currentWidget() is window.runs.empty_label
    forget_changes(window)


def test_use_weights_makes_the_runs_weights_the_starting_weights_in_one_undo_step(qtbot, window, answer):
    import torch
    from safetensors.torch import load_file

    from netbuilder.training.program import load_program

    project = window.document.project
    history = window.training.history
    state = load_program(project).new_model().state_dict()
    run = keep(history, record("2026-01-01_10-00-01", project_to_dict(project), [0.9]))
    torch.save(state, history.run_dir(run.run_id) / "model.pt")
    keep(history, record("2026-01-01_10-00-02", project_to_dict(project), [0.9]), weights=None)
    window.training.runs_changed.emit()
    view = runs_of(window)
    select(view, 0)  # the newest: its files are not kept
    assert not view.use_weights_button.isEnabled()
    assert "weights are gone" in view.use_weights_button.toolTip()
    select(view, 1)
    assert view.use_weights_button.isEnabled()
    stack = window.controller.undo_stack
    steps = stack.count()
    view.use_weights_action.trigger()
    qtbot.waitUntil(lambda: project.weights is not None, timeout=60_000)
    assert stack.count() == steps + 1
    tensors = load_file(project.weights)  # keyed by node, as imported weights are
    assert torch.equal(tensors["n3.weight"], state["fc1.weight"]) and len(tensors) == len(state)
    assert window.training.starting_row.isVisible()
    stack.undo()
    assert project.weights is None

    asked = answer(QMessageBox.StandardButton.Cancel)
    assert window.controller.set_param("n3", "bias", False)  # fc1 no longer fits; fc2 still does
    view.use_weights_action.trigger()
    qtbot.waitUntil(lambda: bool(asked), timeout=60_000)
    assert "fc1" in asked[0] and "fc2" not in asked[0]
    assert project.weights is None  # cancelled


def test_show_graph_draws_the_runs_graph_read_only_beside_the_changes(window):
    old = project_to_dict(window.document.project)
    old["graph"]["nodes"][2]["params"]["out_features"] = 32  # fc1 was narrower then
    keep(window.training.history, record("2026-01-01_10-00-09", old, [0.6]))
    window.training.runs_changed.emit()
    view = runs_of(window)
    select(view, 0)
    view.show_graph_action.trigger()
    dialog = window.findChild(RunGraphDialog)
    assert dialog.isVisible() and not dialog.view.isInteractive()
    assert dialog.document.project.graph.nodes["n3"].params["out_features"] == 32
    assert len(dialog.scene.nodes) == len(window.document.project.graph.nodes)
    assert [dialog.changes.item(i).text() for i in range(dialog.changes.count())] == ["fc1.out_features 32 → 64"]
    dialog.reject()  # Escape and Close end here too
    assert dialog.document is None


def test_a_sweeps_runs_show_its_plot(make_view, project_path, project):
    history = RunHistory(project_path)
    now = project_to_dict(project)
    for index, lr in enumerate((0.1, 0.01, 0.001)):
        sweep = {"id": "sweep-1", "values": {"optimizer.lr": lr}, "index": index, "of": 3}
        keep(history, record(f"2026-01-01_10-00-0{index + 1}", now, [0.5 + index / 10], sweep=sweep), weights=None)
    keep(history, record("2026-01-01_10-00-09", now, [0.5]), weights=None)  # a run of no sweep
    view = make_view(history)
    view.refresh()
    tab = view.tabs.indexOf(view.sweep_plot)
    select(view, 0)
    assert not view.tabs.isTabEnabled(tab)
    select(view, 1)
    view.select_sweep()
    assert len(view.selected_records()) == 3 and view.tabs.currentIndex() == tab
    assert {r.run_id for r in view.sweep_plot.records} == {r.run_id for r in history.records if r.sweep}
    assert view.sweep_plot.chosen_metric == "val_accuracy"


def test_the_tables_keys_act_on_runs_not_on_the_canvas(qtbot, window, answer):
    now = project_to_dict(window.document.project)
    for n in (1, 2):
        keep(window.training.history, record(f"2026-01-01_10-00-0{n}", now, [0.9]))
    window.training.runs_changed.emit()
    view = runs_of(window)
    window.scene.nodes["n3"].setSelected(True)  # the window's Delete and Select All would act on the canvas
    assert window.delete_action.isEnabled()
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus)
    QTest.keyClick(view.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(view.selected_records()) == 2
    assert window.scene.selected_node_ids() == ["n3"]
    asked = answer(QMessageBox.StandardButton.Yes)
    QTest.keyClick(view.table, Qt.Key.Key_Delete)
    assert "2 runs" in asked[0] and view.proxy.rowCount() == 0
    assert "n3" in window.document.project.graph.nodes


def test_the_headline_metric_comes_first_once_runs_come(make_view, project_path, project):
    history = RunHistory(project_path)
    view = make_view(history)
    keep(history, record("2026-01-01_10-00-01", project_to_dict(project), [0.9]))
    view.refresh()
    assert view.metric_box.currentData() == "val_accuracy"
    view.metric_box.setCurrentIndex(view.metric_box.findData("val_loss"))
    keep(history, record("2026-01-01_10-00-02", project_to_dict(project), [0.8]))
    view.refresh()
    assert view.metric_box.currentData() == "val_loss"  # the person's choice stays


def test_no_run_is_deleted_while_a_sweep_writes_the_history(window):
    keep(window.training.history, record("2026-01-01_10-00-01", project_to_dict(window.document.project), [0.9]))
    window.training.runs_changed.emit()
    view = runs_of(window)
    select(view, 0)
    said = []
    view.message.connect(said.append)
    window.training.set_sweeping(True)
    view.delete_action.trigger()  # no question asked: the conftest would fail the test
    assert said == ["Runs can be deleted once the sweep has ended"] and view.proxy.rowCount() == 1
    window.training.set_sweeping(False)


def test_choosing_the_runs_tab_builds_its_plots_which_a_glimpse_at_opening_did_not(qtbot, window):
    view = window.runs
    assert view.overlay is None  # the dock was tabbed away since the project opened: nothing loaded for it
    bar = next(bar for bar in window.findChildren(QTabBar) if "Runs" in [bar.tabText(i) for i in range(bar.count())])
    runs_tab = next(i for i in range(bar.count()) if bar.tabText(i) == "Runs")
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(runs_tab).center())
    qtbot.waitUntil(lambda: view.overlay is not None)
    assert view.tabs.count() == 2  # Curves and Sweep
