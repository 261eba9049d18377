"""The canvas driven with real mouse events: connecting, refusing, re-wiring, dropping, moving."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder.ui.canvas.scene import BLOCK_MIME, GraphScene
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.theme import LIGHT


@pytest.fixture
def canvas(qtbot, controller):
    scene = GraphScene(controller, LIGHT)
    view = GraphView(scene)
    qtbot.addWidget(view)
    view.resize(1400, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_zoom(0.6)
    view.centerOn(QPointF(900, 100))
    yield scene, view
    scene.close()


def at(view: GraphView, point: QPointF) -> QPoint:
    return view.mapFromScene(point)


def drag(view: GraphView, start: QPointF, end: QPointF) -> None:
    viewport = view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, start))
    for i in range(1, 6):
        QTest.mouseMove(viewport, at(view, start + (end - start) * (i / 5)))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, end))


def test_connecting_two_ports_with_the_mouse(canvas, document, controller):
    scene, view = canvas
    g = document.graph
    relu, fc1 = g.by_label("relu").id, g.by_label("fc1").id
    g.disconnect(g.inputs_of(relu)["x"])
    drag(view, scene.nodes[fc1].output_position("y"), scene.nodes[relu].input_position("x"))
    assert g.inputs_of(relu)["x"].src == fc1
    assert controller.undo_stack.undoText() == "Connect"


def test_refused_connection_leaves_the_graph_unchanged_and_says_why_by_the_pointer(canvas, document, controller):
    scene, view = canvas
    g = document.graph
    messages = []
    controller.message.connect(messages.append)
    edges = sorted(map(str, g.edges))
    data, fc2 = g.by_label("digits").id, g.by_label("fc2").id
    end = scene.nodes[fc2].input_position("x")
    drag(view, scene.nodes[data].output_position("target"), end)
    assert sorted(map(str, g.edges)) == edges and controller.undo_stack.count() == 0
    assert messages and "takes tensor" in messages[-1]  # in the status bar
    bubble = view.refusal
    assert bubble.isVisible() and bubble.text() == messages[-1]  # and at the cursor
    pointer = at(view, end)
    assert 0 < bubble.x() - pointer.x() < 40 and 0 < bubble.y() - pointer.y() < 40
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(5, 5))
    assert not bubble.isVisible()  # the next gesture puts it away


def test_a_drag_started_from_an_empty_input_says_where_to_start_by_the_pointer(canvas, document, controller):
    scene, view = canvas
    g = document.graph
    relu = g.by_label("relu").id
    g.disconnect(g.inputs_of(relu)["x"])
    start = scene.nodes[relu].input_position("x")
    drag(view, start, start + QPointF(-120, 0))
    assert "x" not in g.inputs_of(relu) and controller.undo_stack.count() == 0
    assert view.refusal.isVisible() and "drag from an output port" in view.refusal.text()


def test_a_connection_that_would_close_a_cycle_is_refused_by_the_pointer(canvas, document, controller):
    scene, view = canvas
    g = document.graph
    relu, fc1 = g.by_label("relu").id, g.by_label("fc1").id
    old = g.inputs_of(fc1)["x"]
    drag(view, scene.nodes[relu].output_position("y"), scene.nodes[fc1].input_position("x"))
    assert g.inputs_of(fc1)["x"] == old and controller.undo_stack.count() == 0
    assert view.refusal.isVisible() and "cycle" in view.refusal.text()


def test_dropping_onto_a_connected_input_replaces_its_edge_in_one_undoable_step(canvas, document, controller):
    scene, view = canvas
    g = document.graph
    flatten, relu = g.by_label("flatten").id, g.by_label("relu").id
    old = g.inputs_of(relu)["x"]
    drag(view, scene.nodes[flatten].output_position("y"), scene.nodes[relu].input_position("x"))
    assert g.inputs_of(relu)["x"].src == flatten and old not in g.edges
    assert controller.undo_stack.count() == 1 and controller.undo_stack.undoText() == "Replace Connection"
    assert not view.refusal.isVisible()
    controller.undo_stack.undo()
    assert g.inputs_of(relu)["x"] == old
    assert scene.edges[old].isVisible()


def test_a_drag_lights_up_connected_inputs_that_take_its_kind(canvas, document):
    scene, view = canvas
    g = document.graph
    flatten, relu = g.by_label("flatten").id, g.by_label("relu").id
    viewport = view.viewport()
    start = at(view, scene.nodes[flatten].output_position("y"))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + QPoint(30, 30))
    assert scene.nodes[relu].highlighted_ports == {"x"}  # connected, and replaced if dropped on
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(30, 30))
    assert scene.nodes[relu].highlighted_ports == set()


def test_dragging_a_connected_input_moves_the_edge(canvas, document):
    scene, view = canvas
    g = document.graph
    relu, flatten = g.by_label("relu").id, g.by_label("flatten").id
    fc1 = g.by_label("fc1").id
    edge = g.inputs_of(fc1)["x"]
    # grab the edge at fc1's input and drop it on relu's input: relu now takes flatten's output
    g.disconnect(g.inputs_of(relu)["x"])
    drag(view, scene.nodes[fc1].input_position("x"), scene.nodes[relu].input_position("x"))
    assert "x" not in g.inputs_of(fc1)
    assert g.inputs_of(relu)["x"].src == flatten == edge.src


def test_dragging_an_input_into_empty_space_disconnects_it(canvas, document, controller):
    scene, view = canvas
    g = document.graph
    fc1 = g.by_label("fc1").id
    start = scene.nodes[fc1].input_position("x")
    drag(view, start, start + QPointF(0, 250))
    assert "x" not in g.inputs_of(fc1)
    controller.undo_stack.undo()
    assert "x" in g.inputs_of(fc1)


def send_drop(view: GraphView, block: str, point: QPointF) -> None:
    data = QMimeData()
    data.setData(BLOCK_MIME, block.encode())
    position = QPointF(at(view, point))
    actions = Qt.DropAction.CopyAction
    for event in (
        QDragEnterEvent(position.toPoint(), actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
        QDragMoveEvent(position.toPoint(), actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
        QDropEvent(position, actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
    ):
        QApplication.sendEvent(view.viewport(), event)


def test_dropping_a_palette_block_creates_a_node_where_it_was_dropped(canvas, document):
    scene, view = canvas
    before = set(document.graph.nodes)
    point = QPointF(600, 500)
    send_drop(view, "Conv2d", point)
    (new,) = set(document.graph.nodes) - before
    node = document.graph.nodes[new]
    assert node.block == "Conv2d"
    assert abs(node.position[0] - point.x()) < 3 and abs(node.position[1] - point.y()) < 3
    assert scene.nodes[new].isSelected()


def test_dropping_a_block_on_an_edge_inserts_it(canvas, document, controller):
    scene, view = canvas
    g = document.graph
    fc1, relu = g.by_label("fc1").id, g.by_label("relu").id
    edge_item = scene.edges[g.inputs_of(relu)["x"]]
    send_drop(view, "Dropout", edge_item.path().pointAtPercent(0.5))
    dropout = g.inputs_of(relu)["x"].src
    assert g.nodes[dropout].block == "Dropout"
    assert g.inputs_of(dropout)["x"].src == fc1
    assert controller.undo_stack.count() == 1


def test_moving_nodes_is_one_command_on_release(canvas, document, controller):
    scene, view = canvas
    g = document.graph
    fc1 = g.by_label("fc1").id
    item = scene.nodes[fc1]
    start = item.mapToScene(QPointF(60, 12))
    old = g.nodes[fc1].position
    drag(view, start, start + QPointF(100, 80))
    new = g.nodes[fc1].position
    assert new != old and abs(new[0] - old[0] - 100) < 2 and abs(new[1] - old[1] - 80) < 2
    assert controller.undo_stack.count() == 1
    controller.undo_stack.undo()
    assert g.nodes[fc1].position == old and item.pos() == QPointF(*old)


def test_edge_labels_show_shapes_and_follow_edits(canvas, document, controller, qtbot):
    scene, _ = canvas
    g = document.graph
    fc1, relu = g.by_label("fc1").id, g.by_label("relu").id
    label = scene.edges[g.inputs_of(relu)["x"]]
    assert label.label == "(N, 32)"
    controller.set_param(fc1, "out_features", 48)
    qtbot.waitUntil(lambda: label.label == "(N, 48)")
    assert not label.wrong


def test_a_wrong_edge_is_drawn_red(canvas, document, controller, qtbot):
    scene, _ = canvas
    g = document.graph
    controller.set_param(g.by_label("fc1").id, "in_features", 10)
    edge = scene.edges[g.inputs_of(g.by_label("fc1").id)["x"]]
    qtbot.waitUntil(lambda: edge.wrong)
    assert scene.nodes[g.by_label("fc1").id].severity == "error"
