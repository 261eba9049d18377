"""Ports follow the direction the network is drawn in: left to right on a node's sides, top to bottom along its
top edge (inputs) and bottom edge (outputs), so edges leave downward and arrive from above. Hit-testing, wires
dragged from ports, an opened block's tags and the View > Layout Direction choice follow."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath

from netbuilder.analysis.footprint import footprint
from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.graph.grouping import group
from netbuilder.ui.canvas.diagram_export import drawn_direction
from netbuilder.ui.canvas.items import NodeItem
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.theme import LIGHT
from tests.ui.test_canvas import drag

LTR, TTB = Orientation.LEFT_TO_RIGHT, Orientation.TOP_TO_BOTTOM


@pytest.fixture
def scene(controller):
    scene = GraphScene(controller, LIGHT, TTB)
    yield scene
    scene.close()


def card(item: NodeItem) -> tuple[float, float, float, float]:
    """left, top, right, bottom of a node's card in scene coordinates, by the footprint every view shares."""
    width, height = footprint(item.scene().graph, item.node_id)
    return item.pos().x(), item.pos().y(), item.pos().x() + width, item.pos().y() + height


def ends(path: QPainterPath) -> tuple[QPointF, QPointF, QPointF, QPointF]:
    """A cubic edge's start, its two control points and its end."""
    points = [path.elementAt(i) for i in range(4)]
    return tuple(QPointF(p.x, p.y) for p in points)


def test_top_to_bottom_inputs_are_on_the_top_edge_and_outputs_on_the_bottom(scene):
    g = scene.graph
    loss = scene.nodes[g.by_label("loss").id]
    data = scene.nodes[g.by_label("digits").id]
    left, top, right, bottom = card(loss)
    firsts = [loss.input_position(port) for port in ("input", "target")]
    assert [p.y() for p in firsts] == [top, top]
    width = right - left
    assert [p.x() - left for p in firsts] == [width / 4, 3 * width / 4]  # spread evenly across the width
    assert loss.output_position("loss") == QPointF(left + width / 2, bottom)
    left, top, right, bottom = card(data)
    outputs = [data.output_position(port) for port in ("x", "target")]
    assert [p.y() for p in outputs] == [bottom, bottom]
    assert outputs[0].x() < outputs[1].x()


def test_left_to_right_keeps_the_ports_on_the_sides(controller):
    scene = GraphScene(controller, LIGHT)
    try:
        loss = scene.nodes[scene.graph.by_label("loss").id]
        left, _, right, bottom = card(loss)
        assert {loss.input_position(p).x() for p in ("input", "target")} == {left}
        assert loss.input_position("input").y() < loss.input_position("target").y() < bottom
        assert loss.output_position("loss").x() == right
    finally:
        scene.close()


def test_eight_inputs_fit_across_a_card_each_found_where_it_is_drawn(scene, controller):
    concat = controller.add_block("Concat", (0.0, 600.0))
    controller.set_param(concat, "inputs", 8)
    item = scene.nodes[concat]
    left, top, right, _ = card(item)
    points = [item.input_position(f"in{i}") for i in range(1, 9)]
    xs = [p.x() for p in points]
    assert xs == sorted(xs) and left < xs[0] and xs[-1] < right
    assert min(b - a for a, b in itertools.pairwise(xs)) == pytest.approx((right - left) / 8)
    for i, point in enumerate(points, start=1):
        assert item.port_at(point) == ("in", f"in{i}")
        assert item.port_at(point + QPointF(4, 3)) == ("in", f"in{i}")  # a little off still finds it
    assert item.port_at(QPointF(left, top + 55)) is None  # where a side port was, nothing now


def test_an_edge_between_stacked_nodes_leaves_downward_and_arrives_from_above(scene, controller):
    g = scene.graph
    fc1, relu = g.by_label("fc1").id, g.by_label("relu").id
    controller.move_nodes({fc1: (0.0, 0.0), relu: (0.0, 200.0)})
    edge = next(item for edge, item in scene.edges.items() if (edge.src, edge.dst) == (fc1, relu))
    start, first, second, end = ends(edge.path())
    _, _, _, fc1_bottom = card(scene.nodes[fc1])
    _, relu_top, _, _ = card(scene.nodes[relu])
    assert start == scene.nodes[fc1].output_position("y") and start.y() == fc1_bottom
    assert end == scene.nodes[relu].input_position("x") and end.y() == relu_top
    assert first.y() > start.y() and second.y() < end.y()  # a vertical S: below the source, above the target
    assert first.x() == start.x() and second.x() == end.x()
    assert edge.label and fc1_bottom < edge.label_box.center().y() < relu_top  # the shape label in the gap


def test_a_skip_edge_down_a_column_arcs_beside_the_nodes_it_passes(scene, controller):
    g = scene.graph
    data, loss = g.by_label("digits").id, g.by_label("loss").id
    column = ["digits", "flatten", "fc1", "relu", "fc2", "loss"]
    controller.move_nodes({g.by_label(label).id: (0.0, 140.0 * i) for i, label in enumerate(column)})
    skip = next(item for edge, item in scene.edges.items() if (edge.src, edge.dst) == (data, loss))
    middle = skip.path().pointAtPercent(0.5)
    _, _, fc1_right, _ = card(scene.nodes[g.by_label("fc1").id])
    assert middle.x() > fc1_right  # enters the right-hand input: passes on the right, clear of the cards


def test_dragging_from_an_output_to_an_input_connects_top_to_bottom(qtbot, controller):
    scene = GraphScene(controller, LIGHT, TTB)
    view = GraphView(scene)
    qtbot.addWidget(view)
    view.resize(1400, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_zoom(0.6)
    view.centerOn(QPointF(900, 100))
    g = scene.graph
    relu, fc1 = g.by_label("relu").id, g.by_label("fc1").id
    g.disconnect(g.inputs_of(relu)["x"])
    drag(view, scene.nodes[fc1].output_position("y"), scene.nodes[relu].input_position("x"))
    assert g.inputs_of(relu)["x"].src == fc1
    assert controller.undo_stack.undoText() == "Connect"
    messages = []
    controller.message.connect(messages.append)
    loss = g.by_label("loss").id
    g.disconnect(g.inputs_of(loss)["target"])
    drag(view, scene.nodes[loss].input_position("target"), scene.nodes[loss].input_position("target") + QPointF(0, -80))
    assert messages == ["drag from an output port (at the bottom of a node) to an input"]
    scene.close()


def test_switching_the_direction_moves_the_ports_and_redraws_the_edges(controller):
    scene = GraphScene(controller, LIGHT)
    try:
        g = scene.graph
        fc1, relu = scene.nodes[g.by_label("fc1").id], scene.nodes[g.by_label("relu").id]
        edge = next(item for e, item in scene.edges.items() if (e.src, e.dst) == (fc1.node_id, relu.node_id))
        sideways = QPainterPath(edge.path())
        scene.orientation = TTB
        left, top, right, _ = card(relu)
        assert relu.input_position("x") == QPointF((left + right) / 2, top)
        assert ends(edge.path())[0] == fc1.output_position("y") == QPointF((left + right) / 2 - 300, card(fc1)[3])
        assert ends(edge.path())[3] == relu.input_position("x")
        assert scene.nodes[g.by_label("flatten").id].boundingRect().contains(QPointF(84, -5))  # dots drawn over
        scene.orientation = LTR
        assert edge.path() == sideways
        assert relu.input_position("x").x() == left
    finally:
        scene.close()


def test_an_opened_blocks_tags_sit_above_its_inputs_and_below_its_output(controller):
    g = controller.graph
    instance = group(g, [g.by_label("fc1").id, g.by_label("relu").id], "Hidden")
    controller.open_instance(instance)
    scene = GraphScene(controller, LIGHT, TTB)
    try:
        inlet = next(tag for tag in scene.port_tags if tag.side == "in")
        outlet = next(tag for tag in scene.port_tags if tag.side == "out")
        fed = inlet.targets[0][0].input_position(inlet.targets[0][1])
        passed = outlet.targets[0][0].output_position(outlet.targets[0][1])
        assert inlet.tag_rect.bottom() < fed.y() and inlet.tag_rect.left() < fed.x() < inlet.tag_rect.right()
        assert outlet.tag_rect.top() > passed.y() and outlet.tag_rect.left() < passed.x() < outlet.tag_rect.right()
        scene.orientation = LTR  # back beside them
        fed = inlet.targets[0][0].input_position(inlet.targets[0][1])
        assert inlet.tag_rect.right() < fed.x() and inlet.tag_rect.top() < fed.y() < inlet.tag_rect.bottom()
    finally:
        scene.close()


def test_the_window_tells_the_canvas_the_chosen_direction(window):
    assert window.scene.orientation is LTR
    window.layout_actions[TTB].trigger()
    assert window.scene.orientation is TTB
    item = next(item for item in window.scene.nodes.values() if item.inputs)
    assert item.input_position(item.inputs[0].name).y() == item.pos().y()
    window.layout_actions[LTR].trigger()
    assert window.scene.orientation is LTR
    assert item.input_position(item.inputs[0].name).x() == item.pos().x()


def test_a_diagram_without_a_window_takes_the_direction_the_project_is_laid_out_in(document):
    graph = document.graph
    assert drawn_direction(graph) is LTR
    for node_id, position in layered_positions(graph, TTB).items():
        graph.move(node_id, position)
    assert drawn_direction(graph) is TTB
    for node_id, position in layered_positions(graph, LTR).items():
        graph.move(node_id, position)
    assert drawn_direction(graph) is LTR


@pytest.mark.parametrize("orientation", [LTR, TTB])
def test_an_inlet_tag_keeps_clear_of_a_node_in_the_column_before_its_input(controller, orientation):
    """A ViT's encoder adds a learned position embedding to its input: the embedding sits in the column before
    the Add, where the input's tag would go."""

    g = controller.graph
    fc1 = g.by_label("fc1").id
    token = g.add_node("Parameter", label="position", params={"shape": (1, 32)}).id
    add = g.add_node("Add", label="add").id
    g.connect(token, "y", add, "in2")
    source = g.inputs_of(fc1)["x"]
    g.connect(source.src, source.src_port, add, "in1")
    instance = group(g, [token, add], "Embed")
    controller.open_instance(instance)
    inside = controller.graph
    for node_id, position in layered_positions(inside, orientation).items():
        inside.move(node_id, position)
    scene = GraphScene(controller, LIGHT, orientation)
    try:
        (inlet,) = [tag for tag in scene.port_tags if tag.side == "in"]
        for item in scene.nodes.values():
            assert not item.sceneBoundingRect().intersects(inlet.tag_rect), item.node_id
    finally:
        scene.close()
