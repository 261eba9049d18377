"""A project imported in part shows the calls its import could not map when it is opened again, until the gaps
are filled (an edit makes the model check clean) or the person dismisses the list; Undo brings it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from netbuilder.graph import Edge
from netbuilder.project import Project, load_project, save_project
from netbuilder.project.import_gaps import ImportGap
from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.import_export.model_importer import ImportedModel
from tests.ui.conftest import SAMPLES, forget_changes

CUMSUM = ImportGap("torch.cumsum", "model.py:17: return self.fc2(x.cumsum(1))", "no netbuilder block does this")
SIGMOID = ImportGap("torch.special.expit", "model.py:18: return expit(y)", "no netbuilder block does this")


@pytest.fixture
def window(qtbot, settings, recovery):
    win = MainWindow(settings, recovery)
    qtbot.addWidget(win, before_close_func=forget_changes)
    win.show()
    return win


def partial(tmp_path: Path, *, cut: bool = True) -> Path:
    """x -> fc1, and fc2 whose input was the missing cumsum (`cut`), or x -> fc1 -> fc2 with a gap after it."""
    project = Project.new("partial")
    graph = project.graph
    x = graph.add_node("Input", label="x", params={"shape": (4,)}, position=(0, 0)).id
    fc1 = graph.add_node("Linear", label="fc1", params={"out_features": 3}, position=(200, 0)).id
    fc2 = graph.add_node("Linear", label="fc2", params={"out_features": 2}, position=(400, 0)).id
    graph.connect(x, "x", fc1, "x")
    if not cut:
        graph.connect(fc1, "y", fc2, "x")
    project.import_gaps = (CUMSUM, CUMSUM) if cut else (SIGMOID,)
    return save_project(project, tmp_path / "partial.nbproj")


def saved_gaps(window: MainWindow, path: Path) -> list:
    window.controller.save(path)
    return json.loads(path.read_text(encoding="utf-8")).get("import_gaps", [])


def test_reopening_a_partial_import_shows_its_missing_calls_with_their_source_lines(window, qtbot, tmp_path):
    assert window.open_path(partial(tmp_path))
    banner = window.import_gaps_banner
    assert banner.isVisible() and not banner.scroll.isVisible()
    assert banner.banner.text.text().startswith(
        "Imported in part: 2 calls of the original model have no netbuilder block and are missing from the graph."
    )
    qtbot.mouseClick(banner.show_button, Qt.MouseButton.LeftButton)
    assert banner.scroll.isVisible() and banner.show_button.text() == "Hide"
    assert banner.details.text() == (
        "• torch.cumsum: no netbuilder block does this; at model.py:17: return self.fc2(x.cumsum(1)), "
        "model.py:17: return self.fc2(x.cumsum(1))"
    )
    qtbot.mouseClick(banner.show_button, Qt.MouseButton.LeftButton)
    assert not banner.scroll.isVisible()

    window.close_project()
    assert not banner.isVisible()


def test_the_list_goes_once_an_edit_makes_the_model_check_clean_and_comes_back_with_undo(window, qtbot, tmp_path):
    path = partial(tmp_path)
    assert window.open_path(path)
    graph = window.document.graph
    assert window.document.analysis.has_errors(training=False)
    assert window.controller.connect(Edge(graph.by_label("fc1").id, "y", graph.by_label("fc2").id, "x"))
    assert not window.import_gaps_banner.isVisible() and window.document.project.import_gaps == ()
    assert window.statusBar().currentMessage().startswith("The import is complete: the model checks clean")

    window.undo_action.trigger()  # the edit and the list's end are one step
    assert window.document.project.import_gaps == (CUMSUM, CUMSUM) and window.import_gaps_banner.isVisible()
    assert not graph.inputs_of(graph.by_label("fc2").id)
    window.redo_action.trigger()
    assert window.document.project.import_gaps == () and not window.import_gaps_banner.isVisible()
    assert saved_gaps(window, path) == []
    assert load_project(path).import_gaps == ()


def test_an_edit_that_leaves_errors_keeps_the_list(window, qtbot, tmp_path):
    assert window.open_path(partial(tmp_path))
    fc1 = window.document.graph.by_label("fc1").id
    assert window.controller.set_param(fc1, "out_features", 5)
    assert window.document.project.import_gaps == (CUMSUM, CUMSUM) and window.import_gaps_banner.isVisible()


def test_dismiss_forgets_the_list_as_an_edit_that_undo_reverts(window, qtbot, tmp_path):
    path = partial(tmp_path, cut=False)  # the missing call was the last: the model checks clean without it
    assert window.open_path(path)
    assert not window.document.analysis.has_errors(training=False)
    assert window.import_gaps_banner.isVisible() and not window.isWindowModified()
    qtbot.mouseClick(window.import_gaps_banner.dismiss_button, Qt.MouseButton.LeftButton)
    assert not window.import_gaps_banner.isVisible() and window.isWindowModified()
    assert window.undo_action.text() == "&Undo Dismiss the import's missing calls"
    window.undo_action.trigger()
    assert window.import_gaps_banner.isVisible() and window.document.project.import_gaps == (SIGMOID,)
    window.redo_action.trigger()
    assert saved_gaps(window, path) == []


def test_the_list_is_not_dismissed_while_a_run_trains(window, qtbot, tmp_path):
    assert window.open_path(partial(tmp_path, cut=False))
    window._training_running(True)  # the graph is locked, the banner's Dismiss with it
    assert not window.import_gaps_banner.dismiss_button.isEnabled()
    assert window.import_gaps_banner.show_button.isEnabled()
    window._training_running(False)
    assert window.import_gaps_banner.dismiss_button.isEnabled()


def test_export_is_refused_while_the_list_stands(window, qtbot, tmp_path, monkeypatch):
    assert window.open_path(partial(tmp_path, cut=False))
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: said.append(text)))
    assert not window.export_to(tmp_path / "out")
    assert said[0].startswith("Imported in part: 1 call of the original model has no netbuilder block")
    assert "Dismiss the list there" in said[0] and not (tmp_path / "out").exists()
    assert window.controller.dismiss_import_gaps()
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda *args: None))  # no train.py: no Dataset
    assert window.export_to(tmp_path / "out") and (tmp_path / "out" / "model.py").is_file()


class PartialResult:
    """An import that left gaps, as the window reads netbuilder.importers.ImportResult."""

    complete = False

    def __init__(self, project: Project) -> None:
        self.project = project

    def report(self) -> str:
        return "imported partial in part: 3 nodes; 2 call(s) have no netbuilder block and are missing from the graph:"


def test_right_after_an_import_its_report_lists_the_calls_and_the_banner_follows_once_it_is_closed(
    window, qtbot, tmp_path
):
    window._imported(ImportedModel(PartialResult(load_project(partial(tmp_path)))))
    assert window.import_report.isVisible() and not window.import_gaps_banner.isVisible()
    qtbot.mouseClick(window.import_report.close_button, Qt.MouseButton.LeftButton)
    assert not window.import_report.isVisible() and window.import_gaps_banner.isVisible()


def test_train_waits_while_the_list_stands(window, qtbot, tmp_path):
    """A sample that trains, given the gaps of an import: Train is off and says why until they are dismissed."""
    project = load_project(SAMPLES / "digits_cnn.nbproj")
    project.import_gaps = (SIGMOID,)
    path = save_project(project, tmp_path / "gapped.nbproj")
    assert window.open_path(path)
    panel = window.training
    assert not panel.train_button.isEnabled()
    assert "dismiss them, before training" in panel._why_not_train()
    qtbot.mouseClick(window.import_gaps_banner.dismiss_button, Qt.MouseButton.LeftButton)
    assert panel.train_button.isEnabled()
    window.undo_action.trigger()
    assert not panel.train_button.isEnabled()
