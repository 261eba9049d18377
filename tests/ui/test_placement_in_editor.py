"""New blocks never land on top of others, through every path that adds them in the window (a one-click fix,
a drop on an edge, paste, duplicate, quick-add, a palette drop), on the sample projects and on a crowded
graph; each is one undoable step that puts every node back exactly where it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QApplication

from netbuilder.analysis import analyze
from netbuilder.analysis.fixes import AddNode, BypassNode, InsertNode, ReplaceNode
from netbuilder.analysis.footprint import NODE_WIDTH, footprint
from netbuilder.analysis.layout import Orientation
from netbuilder.analysis.order import topological_order
from netbuilder.analysis.placement import MARGIN
from netbuilder.graph import Graph
from netbuilder.project import Project, load_project
from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.canvas.quick_add import QuickAddPopup
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.theme import LIGHT
from tests.overlaps import overlapping_pairs
from tests.ui.conftest import forget_changes

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "sample_projects").glob("*.nbproj"))


def positions(graph: Graph) -> dict[str, tuple[float, float]]:
    return {n: node.position for n, node in graph.nodes.items()}


def crowd(graph: Graph) -> None:
    """Pack the nodes in one row, in flow order, each only MARGIN from the next: no room anywhere between."""
    for i, node_id in enumerate(topological_order(graph)):
        graph.move(node_id, (i * (NODE_WIDTH + MARGIN), 0.0))


def without(graph: Graph, node_id: str) -> None:
    """Take a node away, wiring its source to its consumers where it had one input (so a fix can put it back)."""
    inputs = list(graph.inputs_of(node_id).values())
    consumers = list(graph.outputs_of(node_id))
    graph.remove_node(node_id)
    if len(inputs) == 1:
        for edge in consumers:
            if edge.dst_port not in graph.inputs_of(edge.dst):
                graph.connect(inputs[0].src, inputs[0].src_port, edge.dst, edge.dst_port)


def cases() -> list[tuple[str, str, bool]]:
    """(sample, label of the node taken away, crowded): every sample with each node taken away in turn."""
    found = []
    for path in SAMPLES:
        for node in load_project(path).graph.nodes.values():
            found += [(path.name, node.label, False), (path.name, node.label, True)]
    return found


def broken(sample: str, label: str, crowded: bool):
    project = load_project(next(p for p in SAMPLES if p.name == sample))
    without(project.graph, project.graph.by_label(label).id)
    if crowded:
        crowd(project.graph)
    return project


@pytest.mark.parametrize(("sample", "label", "crowded"), cases())
def test_every_fix_leaves_no_node_on_another_and_one_undo_puts_everything_back(qtbot, sample, label, crowded) -> None:
    count = len([d for d in analyze(broken(sample, label, crowded).graph).diagnostics if d.fix is not None])
    for index in range(count):
        controller = EditorController(Document(broken(sample, label, crowded)))
        graph = controller.graph
        fix = [d.fix for d in analyze(graph).diagnostics if d.fix is not None][index]
        before, overlaps = positions(graph), overlapping_pairs(graph)
        assert controller.apply_fix(fix)
        after = positions(graph)
        assert overlapping_pairs(graph) <= overlaps, f"{fix.describe(graph)} brought nodes together"
        if isinstance(fix, InsertNode | AddNode):
            (new,) = set(graph.nodes) - set(before)
            assert not any(new in pair for pair in overlapping_pairs(graph))
        controller.undo_stack.undo()
        assert positions(graph) == before
        controller.undo_stack.redo()
        assert positions(graph) == after
        controller.close()


@pytest.mark.parametrize(
    ("block", "before", "port", "kind"),
    [("Softmax", "loss", "input", BypassNode), ("BatchNorm1d", "relu1", "x", ReplaceNode)],
)
def test_a_fix_that_removes_or_replaces_a_node_leaves_none_on_another(qtbot, block, before, port, kind) -> None:
    project = load_project(next(p for p in SAMPLES if p.name == "digits_cnn.nbproj"))
    graph = project.graph
    target = graph.by_label(before).id
    InsertNode(graph.inputs_of(target)[port], block).apply(graph)
    crowd(graph)
    controller = EditorController(Document(project))
    (fix,) = [d.fix for d in analyze(graph).diagnostics if isinstance(d.fix, kind)]
    start = positions(graph)
    assert controller.apply_fix(fix)
    assert overlapping_pairs(graph) == set()
    controller.undo_stack.undo()
    assert positions(graph) == start
    controller.close()


def test_the_insert_flatten_fix_goes_between_pool_and_fc_and_moves_what_follows(qtbot) -> None:
    project = broken("digits_cnn.nbproj", "flatten", True)
    controller = EditorController(Document(project))
    graph = controller.graph
    pool, fc = graph.by_label("pool1"), graph.by_label("fc")
    (fix,) = [d.fix for d in analyze(graph).diagnostics if isinstance(d.fix, InsertNode)]
    fc_before = fc.position
    assert controller.apply_fix(fix)
    flatten = graph.nodes[graph.inputs_of(fc.id)["x"].src]
    assert pool.position[0] < flatten.position[0] < fc.position[0]
    assert flatten.position[1] == pool.position[1] == fc.position[1]  # on the chain's line
    assert fc.position[0] > fc_before[0]
    assert overlapping_pairs(graph) == set()
    controller.close()


@pytest.fixture
def editor(qtbot):
    project = load_project(next(p for p in SAMPLES if p.name == "digits_cnn.nbproj"))
    crowd(project.graph)
    controller = EditorController(Document(project))
    yield controller
    controller.close()


def test_a_drop_on_an_edge_with_no_room_goes_between_its_ends_in_one_step(editor) -> None:
    graph = editor.graph
    pool, fc = graph.by_label("pool1").id, graph.by_label("flatten").id
    edge = graph.inputs_of(fc)["x"]
    before = positions(graph)
    new = editor.insert_on_edge(edge, "Dropout", graph.nodes[fc].position)
    assert graph.nodes[pool].position[0] < graph.nodes[new].position[0] < graph.nodes[fc].position[0]
    assert overlapping_pairs(graph) == set()
    assert editor.undo_stack.count() == 1
    editor.undo_stack.undo()
    assert positions(graph) == before


def test_a_drop_on_a_long_edge_centres_the_block_on_the_drop_point(qtbot) -> None:
    project = Project.new("long edge")
    graph = project.graph
    first = graph.add_node("Input", params={"shape": (8,)}, position=(0.0, 0.0)).id
    last = graph.add_node("ReLU", position=(800.0, 0.0)).id
    graph.connect(first, "x", last, "x")
    controller = EditorController(Document(project))
    new = controller.insert_on_edge(graph.inputs_of(last)["x"], "Dropout", (484.0, 55.0))
    width, height = footprint(graph, new)
    assert graph.nodes[new].position == (484.0 - width / 2, 55.0 - height / 2)
    assert graph.nodes[last].position == (800.0, 0.0)
    controller.close()


def test_paste_under_the_pointer_centres_the_group_there_or_takes_the_nearest_free_spot(editor) -> None:
    graph = editor.graph
    text = editor.copy([graph.by_label("conv1").id, graph.by_label("relu1").id])
    before = positions(graph)
    new = editor.paste(text, (3000.0, 2000.0))
    (x0, y0), (x1, _) = (graph.nodes[n].position for n in new)
    height = footprint(graph, new[0])[1]
    assert ((x0 + x1 + NODE_WIDTH) / 2, y0 + height / 2) == (3000.0, 2000.0)
    on_top = editor.paste(text, graph.nodes[graph.by_label("pool1").id].position)
    assert len(on_top) == 2 and overlapping_pairs(graph) == set()
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    assert positions(graph) == before


@pytest.mark.parametrize("count", [1, 3, 8])
def test_paste_and_duplicate_away_from_the_pointer_land_beside_the_originals(editor, count) -> None:
    graph = editor.graph
    chosen = topological_order(graph)[:count]
    before = positions(graph)
    for new in (editor.paste(editor.copy(chosen)), editor.duplicate(chosen)):
        assert len(new) == count
        assert overlapping_pairs(graph) == set()
        # Beside them: within a node's height and margin of the originals' box, not thrown far away.
        top = max(graph.nodes[n].position[1] + footprint(graph, n)[1] for n in graph.nodes if n not in new)
        assert min(graph.nodes[n].position[1] for n in new) <= top + MARGIN
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    assert positions(graph) == before


@pytest.fixture
def canvas(qtbot, editor):
    scene = GraphScene(editor, LIGHT)
    view = GraphView(scene)
    qtbot.addWidget(view)
    view.resize(1200, 600)
    view.show()
    qtbot.waitExposed(view)
    yield scene, view
    scene.close()


@pytest.mark.parametrize("block", ["Conv2d", "Dropout", "Adam", "Dataset"])
def test_a_block_added_on_top_of_a_node_moves_to_free_space(canvas, editor, block) -> None:
    # A palette drop, a double-click in the palette and quick-add (Tab) all add through drop_block; Dropout
    # lands on a node and not on an edge here, the point being inside conv1.
    scene, _ = canvas
    graph = editor.graph
    before = positions(graph)
    conv = graph.nodes[graph.by_label("conv1").id].position
    new = scene.drop_block(block, QPointF(conv[0] + 10, conv[1] + 10))
    assert new is not None and overlapping_pairs(graph) == set()
    assert scene.nodes[new].pos() == QPointF(*graph.nodes[new].position)
    editor.undo_stack.undo()
    assert positions(graph) == before


def test_paste_from_the_window_goes_under_the_pointer_only_when_it_is_over_the_canvas(
    qtbot, window, monkeypatch
) -> None:
    graph = window.controller.graph
    view = window.view
    window.scene.select_nodes([next(iter(graph.nodes))])
    window.copy()
    target = QPointF(4000.0, 3000.0)
    view.centerOn(target)
    pointer = view.viewport().mapToGlobal(view.mapFromScene(target))
    monkeypatch.setattr(QCursor, "pos", staticmethod(lambda: pointer))
    monkeypatch.setattr(QApplication, "widgetAt", staticmethod(lambda point: view.viewport()))
    window.paste()
    (new,) = window.scene.selected_node_ids()
    x, y = graph.nodes[new].position
    width, height = footprint(graph, new)
    assert abs(x + width / 2 - target.x()) < 5 and abs(y + height / 2 - target.y()) < 5  # a pixel at the zoom
    monkeypatch.setattr(QApplication, "widgetAt", staticmethod(lambda point: window.menuBar()))
    window.paste()
    (again,) = window.scene.selected_node_ids()
    assert graph.nodes[again].position[0] < 2000.0  # beside the original, not at the pointer
    assert overlapping_pairs(graph) == set()


def test_quick_add_over_a_node_puts_the_block_beside_it_in_one_step(qtbot, window) -> None:
    graph = window.controller.graph
    before, steps = positions(graph), window.controller.undo_stack.count()
    x, y = graph.nodes[graph.by_label("fc1").id].position
    window.view.quick_add_requested.emit(QPointF(x + 20, y + 10))  # Tab with the pointer on fc1
    (popup,) = window.findChildren(QuickAddPopup)
    popup.search.setText("Dropout")
    popup.choose_current()
    (new,) = set(graph.nodes) - set(before)
    assert graph.nodes[new].block == "Dropout" and overlapping_pairs(graph) == set()
    assert window.controller.undo_stack.count() == steps + 1
    window.controller.undo_stack.undo()
    assert positions(graph) == before


def test_top_to_bottom_in_the_window_fixes_go_below_and_an_insert_moves_what_follows_down(
    qtbot, window, settings, recovery, project_path
) -> None:
    window.layout_actions[Orientation.TOP_TO_BOTTOM].trigger()  # lays the chain out in a column, no room between
    graph = window.controller.graph
    fc1, relu1, dropout, fc2 = (graph.by_label(label).id for label in ("fc1", "relu1", "dropout", "fc2"))
    before = positions(graph)

    # The Problems tab's one-click fix, as it applies it: insert a node on fc1 -> relu1.
    assert window.controller.apply_fix(InsertNode(graph.inputs_of(relu1)["x"], "BatchNorm1d"))
    (new,) = set(graph.nodes) - set(before)
    y = graph.nodes[new].position[1]
    assert before[fc1][1] + footprint(graph, fc1)[1] < y < graph.nodes[relu1].position[1]  # below fc1
    shift = graph.nodes[relu1].position[1] - before[relu1][1]
    assert shift > 0
    for node_id in (relu1, dropout, fc2):  # what follows moved straight down, together
        assert graph.nodes[node_id].position == (before[node_id][0], before[node_id][1] + shift)
    assert overlapping_pairs(graph) == set()

    # An optimizer added by its fix goes below the loss it follows.
    optimizer = graph.by_label("optimizer").id
    assert window.controller.delete([optimizer])
    (fix,) = [d.fix for d in analyze(graph).diagnostics if isinstance(d.fix, AddNode) and d.fix.block == "Adam"]
    assert window.controller.apply_fix(fix)
    loss, adam = graph.nodes[fix.near], graph.nodes[graph.outputs_of(fix.near)[0].dst]
    assert adam.position[1] >= loss.position[1] + footprint(graph, loss.id)[1]
    assert overlapping_pairs(graph) == set()

    # The next window starts with the direction remembered, and its editor places by it.
    later = MainWindow(settings, recovery)
    qtbot.addWidget(later, before_close_func=forget_changes)
    assert later.open_path(project_path)
    assert later.controller.orientation is Orientation.TOP_TO_BOTTOM
