"""The canvas's overview (minimap): every node in scene proportion and in its category's colour, the visible
area marked, a click or drag moves the view there, it hides while the graph fits, and View > Overview turns it
off for good (remembered)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, QSettings, Qt
from PySide6.QtTest import QTest

from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.canvas.minimap import Overview
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.theme import LIGHT
from tests.ui.conftest import forget_changes, shown_canvas


@pytest.fixture
def canvas(qtbot, controller):
    """The digits classifier (about 1,700 x 300 scene pixels) in a 700 x 450 view at 100 %: it does not fit."""
    scene, view = shown_canvas(qtbot, controller, 1.0, QPointF(300, 100))
    overview = Overview(view)
    yield scene, view, overview
    scene.close()


def view_centre(view: GraphView) -> QPointF:
    return view.mapToScene(view.viewport().rect().center())


def test_the_overview_shows_every_node_in_scene_proportion_and_its_colour(canvas):
    scene, _view, overview = canvas
    assert overview.isVisible()
    graph = scene.graph
    drawn = {n: overview.to_overview(scene.nodes[n].sceneBoundingRect()) for n in graph.nodes}
    frame = QRectF(overview.rect())
    assert all(frame.contains(rect.center()) for rect in drawn.values())
    # one scale for both axes: distances between nodes shrink by the same factor across and down
    first = graph.by_label("digits").id
    ratios = []
    for node_id in graph.nodes:
        scene_delta = (
            scene.nodes[node_id].sceneBoundingRect().center() - scene.nodes[first].sceneBoundingRect().center()
        )
        drawn_delta = drawn[node_id].center() - drawn[first].center()
        if abs(scene_delta.x()) > 100:
            ratios.append(drawn_delta.x() / scene_delta.x())
        if abs(scene_delta.y()) > 100:
            ratios.append(drawn_delta.y() / scene_delta.y())
    assert len(ratios) >= 6
    assert max(ratios) - min(ratios) < 0.01 * max(ratios)
    # each node is drawn in its category's colour (those outside the shaded visible area, whose colour is pure)
    image = overview.grab().toImage()
    ratio = image.devicePixelRatio()
    visible = overview.to_overview(overview.visible_area())
    checked = 0
    for node_id, rect in drawn.items():
        if visible.adjusted(-2, -2, 2, 2).contains(rect.center()):
            continue
        pixel = image.pixelColor(round(rect.center().x() * ratio), round(rect.center().y() * ratio))
        assert pixel.name() == LIGHT.category(graph.spec(node_id).category).name(), graph.nodes[node_id].label
        checked += 1
    assert checked >= 3


def test_the_visible_area_is_marked_where_the_view_is(canvas):
    _scene, view, overview = canvas
    marked = overview.to_overview(overview.visible_area())
    assert abs(overview.to_scene(marked.center()).x() - 300) < 2
    view.centerOn(QPointF(1200, 100))
    marked = overview.to_overview(overview.visible_area())
    assert abs(overview.to_scene(marked.center()).x() - 1200) < 2


def test_a_click_in_the_overview_centres_the_view_there_and_a_drag_follows(canvas):
    scene, view, overview = canvas
    adam = scene.nodes[scene.graph.by_label("adam").id].sceneBoundingRect().center()
    pixel = 1 / overview._scale  # scene pixels per overview pixel: how close a click can aim
    target = overview.to_overview(QRectF(adam, adam)).center().toPoint()
    QTest.mouseClick(overview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target)
    assert (view_centre(view) - adam).manhattanLength() < 3 * pixel
    start, end = QPoint(overview.width() // 2, overview.height() // 2), QPoint(8, 8)
    QTest.mousePress(overview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(overview, end)
    QTest.mouseRelease(overview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert (view_centre(view) - overview.to_scene(QPointF(end))).manhattanLength() < 3 * pixel


def test_it_sits_in_the_bottom_right_corner_of_the_canvas(canvas):
    _scene, view, overview = canvas
    viewport = view.viewport().geometry()
    assert overview.geometry().right() < viewport.right() and overview.geometry().bottom() < viewport.bottom()
    assert overview.geometry().left() > viewport.center().x() and overview.geometry().top() > viewport.center().y()
    view.resize(900, 600)
    viewport = view.viewport().geometry()
    assert viewport.right() - overview.geometry().right() < 20
    assert viewport.bottom() - overview.geometry().bottom() < 20


def test_it_hides_while_the_whole_graph_is_in_view(canvas):
    scene, view, overview = canvas
    view.set_zoom(0.2)
    view.centerOn(scene.itemsBoundingRect().center())
    assert not overview.isVisible()
    view.set_zoom(1.0)
    assert overview.isVisible()


def test_an_edit_is_drawn_after_a_moment(canvas, controller, qtbot):
    _scene, _view, overview = canvas
    before = QRectF(overview.bounds)
    node_id = controller.add_block("ReLU", (4000.0, 1200.0))
    qtbot.waitUntil(lambda: node_id in overview.rects)
    assert overview.bounds.right() > before.right() + 2000 and overview.bounds.bottom() > before.bottom() + 800
    assert overview.rects[node_id][:2] == (4000.0, 1200.0)


@pytest.fixture
def open_window(qtbot, settings, recovery, project_path):
    def make() -> MainWindow:
        win = MainWindow(settings, recovery)
        qtbot.addWidget(win, before_close_func=forget_changes)
        win.show()
        assert win.open_path(project_path)
        qtbot.wait(10)  # the window frames the graph on the next turn of the event loop
        win.view.set_zoom(2.0)  # the graph no longer fits
        return win

    return make


def test_view_overview_turns_it_off_and_the_choice_is_remembered(open_window, settings: QSettings):
    first = open_window()
    assert first.overview_action.isChecked() and first.overview.isVisible()
    first.overview_action.trigger()
    assert not first.overview.isVisible()
    first.view.set_zoom(3.0)  # the view moving does not bring it back
    assert not first.overview.isVisible()
    assert settings.value("canvas/overview", type=bool) is False
    first.close()
    second = open_window()
    assert not second.overview_action.isChecked() and not second.overview.isVisible()
    second.overview_action.trigger()
    assert second.overview.isVisible()


def test_a_block_that_grows_ports_is_drawn_taller(canvas, controller, qtbot):
    _scene, _view, overview = canvas
    node_id = controller.add_block("Add", (0.0, 600.0))
    qtbot.waitUntil(lambda: node_id in overview.rects)
    height = overview.rects[node_id][3]
    controller.set_param(node_id, "inputs", 4)
    qtbot.waitUntil(lambda: overview.rects[node_id][3] > height)
