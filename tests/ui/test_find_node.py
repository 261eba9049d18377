"""Find node on the canvas: Ctrl+F opens a field over the canvas; what is typed (part of a label or a block type,
any case) selects the first match in the data's order and centres the view on it; Enter / F3 / Shift+F3 cycle;
the count says where one is, or that nothing matches; Escape closes and gives the keyboard back to the canvas."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.canvas.find_bar import FindBar
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import READABLE_ZOOM, GraphView
from tests.ui.conftest import forget_changes, shown_canvas

NO = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def canvas(qtbot, controller):
    """The digits classifier in a 700 x 450 view, zoomed far out and looking away from it."""
    scene, view = shown_canvas(qtbot, controller, 0.2, QPointF(-5000, -5000))
    bar = FindBar(view)
    yield scene, view, bar
    scene.close()


def label_of(scene: GraphScene, node_id: str) -> str:
    return scene.graph.nodes[node_id].label


def selected_labels(scene: GraphScene) -> list[str]:
    return [label_of(scene, n) for n in scene.selected_node_ids()]


def centred_on(view: GraphView, scene: GraphScene, label: str) -> bool:
    centre = view.mapToScene(view.viewport().rect().center())
    node = scene.nodes[scene.graph.by_label(label).id].sceneBoundingRect().center()
    return (centre - node).manhattanLength() < 4


def test_typing_selects_the_first_match_and_brings_it_into_view_at_a_readable_zoom(canvas):
    scene, view, bar = canvas
    bar.open()
    QTest.keyClicks(bar.field, "fc")
    assert selected_labels(scene) == ["fc1"]
    assert centred_on(view, scene, "fc1")
    assert view.zoom == pytest.approx(READABLE_ZOOM)
    assert bar.count.text() == "1 of 2"


def test_enter_f3_and_shift_f3_cycle_through_the_matches_with_a_count(canvas):
    scene, view, bar = canvas
    bar.open()
    QTest.keyClicks(bar.field, "FC")
    seen = []
    for key, modifier in (
        (Qt.Key.Key_Return, NO),
        (Qt.Key.Key_Return, NO),
        (Qt.Key.Key_F3, SHIFT),
        (Qt.Key.Key_F3, NO),
        (Qt.Key.Key_Return, SHIFT),
    ):
        QTest.keyClick(bar.field, key, modifier)
        seen.append((selected_labels(scene), bar.count.text()))
    assert seen == [
        (["fc2"], "2 of 2"),
        (["fc1"], "1 of 2"),  # after the last, the first again
        (["fc2"], "2 of 2"),
        (["fc1"], "1 of 2"),
        (["fc2"], "2 of 2"),
    ]
    assert centred_on(view, scene, "fc2")


def test_block_types_match_too_in_any_case(canvas):
    scene, _view, bar = canvas
    bar.open()
    QTest.keyClicks(bar.field, "linear")
    assert [label_of(scene, n) for n in bar.matches] == ["fc1", "fc2"]
    bar.field.setText("RELU")
    assert [label_of(scene, n) for n in bar.matches] == ["relu"]
    assert bar.count.text() == "1 of 1"


def test_a_found_node_is_not_zoomed_out_to_reach_it(canvas):
    scene, view, bar = canvas
    view.set_zoom(1.5)
    bar.open()
    QTest.keyClicks(bar.field, "adam")
    assert view.zoom == pytest.approx(1.5)
    assert centred_on(view, scene, "adam")


def test_it_says_when_no_node_matches_and_leaves_the_selection(canvas):
    scene, _view, bar = canvas
    bar.open()
    QTest.keyClicks(bar.field, "relu")
    QTest.keyClicks(bar.field, "xyz")
    assert bar.count.text() == "no node matches 'reluxyz'"
    assert not bar.next_button.isEnabled() and not bar.previous_button.isEnabled()
    assert selected_labels(scene) == ["relu"]
    QTest.keyClick(bar.field, Qt.Key.Key_F3)
    assert bar.count.text() == "no node matches 'reluxyz'"


def test_escape_closes_and_gives_the_keyboard_back_to_the_canvas(canvas, qtbot):
    scene, view, bar = canvas
    view.activateWindow()
    bar.open()
    qtbot.waitUntil(bar.field.hasFocus)
    QTest.keyClicks(bar.field, "loss")
    QTest.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.isVisible()
    assert view.hasFocus()
    assert selected_labels(scene) == ["loss"]  # what was found stays selected


def test_reopening_counts_again_without_moving(canvas):
    scene, view, bar = canvas
    bar.open()
    QTest.keyClicks(bar.field, "fc")
    QTest.keyClick(bar.field, Qt.Key.Key_Escape)
    view.centerOn(QPointF(-5000, -5000))
    bar.open()
    assert bar.field.selectedText() == "fc"
    assert bar.count.text() == "1 of 2"
    assert not centred_on(view, scene, "fc1")


@pytest.fixture
def window(qtbot, settings, recovery, project_path):
    win = MainWindow(settings, recovery)
    qtbot.addWidget(win, before_close_func=forget_changes)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_path(project_path)
    return win


def test_ctrl_f_on_the_canvas_finds_nodes_and_elsewhere_still_searches_blocks(window, qtbot):
    window.activateWindow()
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    QTest.keySequence(window.view, QKeySequence(QKeySequence.StandardKey.Find))
    assert window.find_bar.isVisible()
    assert QApplication.focusWidget() is window.find_bar.field
    QTest.keyClick(window.find_bar.field, Qt.Key.Key_Escape)
    window.inspector.setFocus()
    QTest.keySequence(window.inspector, QKeySequence(QKeySequence.StandardKey.Find))
    assert QApplication.focusWidget() is window.palette.search  # the palette keeps Ctrl+F away from the canvas
    assert not window.find_bar.isVisible()


def test_edit_find_opens_it_and_shows_the_shortcut(window):
    assert window.find_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
    assert window.find_action in window.menuBar().actions()[1].menu().actions()
    window.find_action.trigger()
    assert window.find_bar.isVisible()
