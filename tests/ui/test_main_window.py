"""The window as a person uses it: open, edit, fix, save, reopen, be asked before losing work (recovering
after a crash: test_recovery_window.py)."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QMimeData, QPoint, QRect, QSize, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from netbuilder.graph import Edge
from netbuilder.project import load_project
from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.app.window_geometry import SETTLE_MS
from tests.ui.conftest import SAMPLES, forget_changes

SAMPLE_FILES = sorted(SAMPLES.glob("*.nbproj"))


@pytest.fixture
def window(qtbot, settings, recovery):
    win = MainWindow(settings, recovery)
    qtbot.addWidget(win, before_close_func=forget_changes)
    win.show()
    return win


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_every_sample_opens_with_no_problem_shown(window, path, qtbot):
    assert window.open_path(path)
    qtbot.waitUntil(lambda: window.document.analysis is not None)
    assert window.problems.counts() == (0, 0)
    assert not any(item.severity for item in window.scene.nodes.values())
    assert len(window.scene.nodes) == len(window.document.graph.nodes)
    assert all(edge.label not in ("", "?") for edge in window.scene.edges.values())
    assert window.windowTitle().startswith(load_project(path).name)


def test_editing_a_field_updates_graph_edge_shapes_and_code(window, qtbot):
    window.open_path(SAMPLES / "digits_mlp.nbproj")
    g = window.document.graph
    fc1 = g.by_label("fc1").id
    window.scene.select_nodes([fc1])
    editor = window.inspector.fields["out_features"].editor
    editor.setFocus()
    editor.selectAll()
    QTest.keyClicks(editor, "48")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert g.nodes[fc1].params["out_features"] == 48
    edge = window.scene.edges[g.outputs_of(fc1)[0]]
    qtbot.waitUntil(lambda: edge.label == "(N, 48)")
    window.bottom_tabs.setCurrentWidget(window.code)
    qtbot.waitUntil(lambda: "nn.Linear(64, 48)" in window.code.code_text())
    assert window.undo_action.text() == "&Undo Set out_features of fc1"
    assert window.isWindowModified() and "[*]" in window.windowTitle()


def test_the_fix_button_removes_the_problem(window, qtbot):
    window.open_path(SAMPLES / "digits_mlp.nbproj")
    g = window.document.graph
    window.controller.set_param(g.by_label("fc2").id, "out_features", 7)
    qtbot.waitUntil(lambda: window.problems.counts() == (1, 0))
    window.problems.select_diagnostic(window.problems.shown_diagnostics()[0])
    window.problems.apply_current_fix()
    qtbot.waitUntil(lambda: window.problems.counts() == (0, 0))
    assert g.nodes[g.by_label("fc2").id].params["out_features"] == 10


def test_save_then_open_gives_the_same_graph_and_positions(window, tmp_path, qtbot):
    source = tmp_path / "cnn.nbproj"
    shutil.copy(SAMPLES / "digits_cnn.nbproj", source)
    window.open_path(source)
    g = window.document.graph
    window.controller.add_block("Dropout", (333.0, 444.0))
    window.controller.move_nodes({g.by_label("fc").id: (1234.5, 67.25)})
    assert window.isWindowModified()
    assert window.save()
    assert not window.isWindowModified()
    saved = {n.id: (n.block, n.label, n.params, n.position) for n in g.nodes.values()}
    edges = sorted(map(str, g.edges))
    window.close_project()
    assert window.open_path(source)
    again = window.document.graph
    assert {n.id: (n.block, n.label, n.params, n.position) for n in again.nodes.values()} == saved
    assert sorted(map(str, again.edges)) == edges


def test_closing_with_unsaved_changes_asks_first(window, answer, qtbot):
    window.open_path(SAMPLES / "digits_cnn.nbproj")
    window.controller.add_block("ReLU", (0.0, 300.0))
    asked = answer(QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard)
    assert not window.close()  # Cancel: the window stays, the work too
    assert window.isVisible() and window.controller.modified
    assert window.close()  # Discard
    assert len(asked) == 2 and "not saved" in asked[0]


def test_opening_another_project_over_unsaved_work_can_save_it(window, answer, tmp_path):
    source = tmp_path / "mlp.nbproj"
    shutil.copy(SAMPLES / "digits_mlp.nbproj", source)
    window.open_path(source)
    window.controller.add_block("ReLU", (0.0, 300.0))
    answer(QMessageBox.StandardButton.Save)
    assert window.open_path(SAMPLES / "spirals_mlp.nbproj")
    assert any(n.block == "ReLU" and n.position == (0.0, 300.0) for n in load_project(source).graph.nodes.values())


def test_an_unreadable_file_is_explained_and_nothing_changes(window, tmp_path, monkeypatch):
    bad = tmp_path / "bad.nbproj"
    bad.write_text("{ not json")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append(text)))
    assert not window.open_path(bad)
    assert shown and "line 1" in shown[0]
    assert window.document is None


def test_undo_menu_names_the_command(window):
    window.open_path(SAMPLES / "digits_cnn.nbproj")
    window.controller.add_block("Conv2d", (0.0, 400.0))
    assert window.undo_action.text() == "&Undo Add Conv2d"
    window.undo_action.trigger()
    assert window.redo_action.text() == "&Redo Add Conv2d"
    assert not window.isWindowModified()


def test_export_writes_the_package(window, tmp_path):
    window.open_path(SAMPLES / "digits_cnn.nbproj")
    assert window.export_to(tmp_path / "out")
    assert {"model.py", "train.py", "predict.py", "requirements.txt"} <= {p.name for p in (tmp_path / "out").iterdir()}


def test_a_project_file_dropped_on_the_window_opens_it(window):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(SAMPLES / "lstm_classifier.nbproj"))])
    enter = QDragEnterEvent(
        QPoint(300, 300), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPoint(300, 300).toPointF(),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)
    assert window.document is not None and window.document.path == SAMPLES / "lstm_classifier.nbproj"


def test_the_start_page_lists_the_samples_and_opens_one(window):
    samples = window.start_page.samples_list
    titles = [samples.item(i).text().splitlines()[0] for i in range(samples.count())]
    assert titles == [load_project(p).name for p in SAMPLE_FILES]
    samples.itemActivated.emit(samples.item(titles.index("Digits CNN")))
    assert window.document is not None and window.document.project.name == "Digits CNN"
    assert window.stack.currentWidget() is window.view


def test_a_new_project_saved_as_a_file_takes_the_files_name(window, tmp_path, monkeypatch, qtbot):
    window.new_project()
    assert window.windowTitle().startswith("Untitled")
    flatten = window.controller.add_block("Flatten", (200.0, 0.0))
    window.controller.connect(Edge(window.document.graph.by_label("data").id, "x", flatten, "x"))
    window.bottom_tabs.setCurrentWidget(window.code)
    qtbot.waitUntil(lambda: "class Untitled" in window.code.code_text())
    path = tmp_path / "cifar_style_cnn.nbproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    assert window.save()
    assert window.windowTitle().startswith("cifar_style_cnn (cifar_style_cnn.nbproj)")
    assert load_project(path).name == "cifar_style_cnn"
    recent = window.start_page.recent_list
    assert recent.item(0).text().splitlines()[0] == "cifar_style_cnn"
    qtbot.waitUntil(lambda: "class CifarStyleCnn(nn.Module)" in window.code.code_text())
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda *a: None))  # no train.py: no loss yet
    assert window.export_to(tmp_path / "out")
    assert (tmp_path / "out" / "README.md").read_text().startswith("# cifar\\_style\\_cnn\n")  # Markdown-escaped


def test_a_window_closed_maximised_opens_maximised_and_restores_down_to_its_own_size(qtbot, settings, recovery):
    first = MainWindow(settings, recovery)
    qtbot.addWidget(first)
    first.show()
    first.setGeometry(QRect(60, 70, 640, 460))
    qtbot.wait(SETTLE_MS + 150)
    # as some window managers maximise: the window is resized to the screen first, then told it is maximised
    first.setGeometry(QGuiApplication.primaryScreen().availableGeometry())
    first.setWindowState(Qt.WindowState.WindowMaximized)
    qtbot.waitUntil(first.isMaximized)
    assert first.close()

    again = MainWindow(settings, recovery)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(again.isMaximized)
    again.showNormal()
    qtbot.waitUntil(lambda: not again.isMaximized())
    assert again.geometry().size() == QSize(640, 460)


def test_a_window_closed_at_its_normal_size_opens_at_it(qtbot, settings, recovery):
    first = MainWindow(settings, recovery)
    qtbot.addWidget(first)
    first.show()
    first.setGeometry(QRect(40, 50, 660, 470))
    assert first.close()
    again = MainWindow(settings, recovery)
    qtbot.addWidget(again)
    again.show()
    assert not again.isMaximized() and again.geometry().size() == QSize(660, 470)


def code_lines_shown(win: MainWindow) -> float:
    win.bottom_tabs.setCurrentWidget(win.code)
    editor = win.code.editor
    return editor.viewport().height() / editor.fontMetrics().lineSpacing()


def test_at_a_first_start_problems_and_code_take_about_a_third_of_the_height(qtbot, settings, recovery):
    win = MainWindow(settings, recovery)
    qtbot.addWidget(win, before_close_func=forget_changes)
    win.resize(1366, 800)
    win.show()
    assert win.open_path(SAMPLES / "digits_mlp.nbproj")
    qtbot.waitUntil(lambda: 0.28 < win.bottom_dock.height() / 800 < 0.4)  # with the tabs beneath, a third
    assert code_lines_shown(win) >= 9  # it was 7


def test_problems_and_code_keep_the_height_a_person_gave_them(qtbot, settings, recovery):
    first = MainWindow(settings, recovery)
    qtbot.addWidget(first, before_close_func=forget_changes)
    first.resize(1366, 800)
    first.show()
    assert first.open_path(SAMPLES / "digits_mlp.nbproj")
    first.resizeDocks([first.bottom_dock], [420], Qt.Orientation.Vertical)  # as dragging the splitter does
    qtbot.waitUntil(lambda: first.bottom_dock.height() > 0.45 * 800)  # well above a first start's third
    given = first.bottom_dock.height()
    assert first.close()
    again = MainWindow(settings, recovery)
    qtbot.addWidget(again, before_close_func=forget_changes)
    again.resize(1366, 800)  # the offscreen screen is smaller: its restored geometry was cut to fit
    again.show()
    assert again.open_path(SAMPLES / "digits_mlp.nbproj")
    qtbot.waitUntil(lambda: again.bottom_dock.height() == given)


def test_a_first_start_closed_on_the_start_page_still_gives_the_third_next_time(qtbot, settings, recovery):
    first = MainWindow(settings, recovery)
    qtbot.addWidget(first)
    first.show()
    assert first.close()  # no project opened: the docks never showed
    again = MainWindow(settings, recovery)
    qtbot.addWidget(again, before_close_func=forget_changes)
    again.resize(1366, 800)
    again.show()
    assert again.open_path(SAMPLES / "digits_mlp.nbproj")
    qtbot.waitUntil(lambda: 0.28 < again.bottom_dock.height() / 800 < 0.4)
