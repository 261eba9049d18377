"""Blocks of the project in the window: Group and Ungroup from the Edit menu, the palette's "This project"
blocks, opening a block's inside with a breadcrumb back, edits inside on the one undo stack, Make Unique."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QDialog, QLabel, QToolButton

from netbuilder.project.project_file import project_to_json
from netbuilder.ui.app.block_name_dialog import BlockNameDialog
from netbuilder.ui.canvas.palette import BLOCK_ROLE
from netbuilder.ui.canvas.quick_add import QuickAddPopup
from netbuilder.ui.canvas.view import READABLE_ZOOM
from netbuilder.ui.editor.composite_commands import block_name_problem


@pytest.fixture
def name_typed(monkeypatch):
    """Answer the Group dialog with the name given (None: keep the name it proposes); records each proposal."""
    proposed: list[str] = []

    def install(name: str | None = None):
        def exec_(dialog: BlockNameDialog) -> int:
            proposed.append(dialog.name)
            if name is not None:
                dialog.field.setText(name)
            return QDialog.DialogCode.Accepted

        monkeypatch.setattr(BlockNameDialog, "exec", exec_)
        return proposed

    return install


def ids(window, *labels: str) -> list[str]:
    graph = window.controller.graph
    return [graph.by_label(label).id for label in labels]


def scene_state(window) -> tuple:
    """What the canvas shows: every node item's id, block, position and ports, and every edge item."""
    scene = window.scene
    nodes = {
        node_id: (item.node.block, item.pos().x(), item.pos().y(), [p.name for p in item.inputs])
        for node_id, item in scene.nodes.items()
    }
    return nodes, set(scene.edges)


def group(window, name_typed, *labels: str, name: str | None = None) -> str:
    name_typed(name)
    window.scene.select_nodes(ids(window, *labels))
    window.group_action.trigger()
    (instance,) = window.scene.selected_node_ids()
    return instance


def test_group_makes_one_block_and_undo_redo_give_back_graph_and_canvas_exactly(window, name_typed):
    before, canvas_before = project_to_json(window.document.project), scene_state(window)
    proposed = name_typed()
    window.scene.select_nodes(ids(window, "fc1", "relu1", "dropout"))
    assert window.group_action.isEnabled()
    window.group_action.trigger()
    assert proposed == ["Block"]
    graph = window.controller.graph
    (instance,) = window.scene.selected_node_ids()
    assert graph.nodes[instance].block == "Block"
    assert set(graph.definitions["Block"].graph.nodes) == {"n3", "n4", "n5"}
    assert not {"n3", "n4", "n5"} & set(graph.nodes)
    assert set(window.scene.nodes) == set(graph.nodes)
    assert set(window.scene.edges) == set(graph.edges)
    assert [p.name for p in window.scene.nodes[instance].inputs] == ["x"]
    assert window.controller.undo_stack.undoText() == "Group 3 nodes as Block"
    after, canvas_after = project_to_json(window.document.project), scene_state(window)

    window.undo_action.trigger()
    assert project_to_json(window.document.project) == before
    assert scene_state(window) == canvas_before
    window.redo_action.trigger()
    assert project_to_json(window.document.project) == after
    assert scene_state(window) == canvas_after


def test_the_shapes_go_through_the_new_block(window, name_typed):
    instance = group(window, name_typed, "fc1", "relu1")
    analysis = window.document.reanalyze()
    assert str(analysis.results[instance].outputs["y"]) == "(N, 64)"
    out_edge = window.controller.graph.outputs_of(instance)[0]
    assert window.scene.edges[out_edge].label == "(N, 64)"
    assert window.scene.nodes[instance].severity is None


def test_a_refused_group_says_why_and_changes_nothing(window, name_typed):
    proposed = name_typed()
    before = project_to_json(window.document.project)
    window.scene.select_nodes(ids(window, "fc1", "loss"))
    window.group_action.trigger()
    assert proposed == []  # no name is asked for what cannot be grouped
    assert project_to_json(window.document.project) == before
    assert "loss is not a layer" in window.statusBar().currentMessage()
    assert window.view.refusal.isVisible()

    window.scene.select_nodes(ids(window, "flatten", "dropout"))  # fc1 and relu1 between them stay out
    window.group_action.trigger()
    assert "leaves the selection and comes back" in window.statusBar().currentMessage()
    assert project_to_json(window.document.project) == before


def test_the_name_dialog_proposes_a_free_name_and_refuses_a_taken_one(window, name_typed, qtbot):
    group(window, name_typed, "fc1")
    dialog = BlockNameDialog(window.controller.top, 2, window)
    qtbot.addWidget(dialog)
    assert dialog.name == "Block2"
    ok = dialog.buttons.buttons()[0]
    assert ok.isEnabled()
    dialog.field.setText("Block")
    assert not ok.isEnabled() and "already exists" in dialog.problem.text()
    dialog.field.setText("Linear")
    assert not ok.isEnabled()
    assert block_name_problem(window.controller.top, "two words")
    assert block_name_problem(window.controller.top, "") == "type a name for the new block"


def test_ungroup_puts_the_inside_back_and_the_block_leaves_the_palette(window, name_typed):
    before = project_to_json(window.document.project)
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    assert window.palette.project_blocks() == ["Hidden"]
    item = window.palette.items["Hidden"]
    assert item.parent().text(0) == "This project" and "made of 2 blocks" in item.toolTip(0)
    window.scene.select_nodes([instance])
    assert window.ungroup_action.isEnabled()
    window.ungroup_action.trigger()
    assert sorted(window.scene.selected_node_ids()) == ["n3", "n4"]
    assert window.palette.project_blocks() == []
    assert "This project" not in window.palette.category_items
    window.undo_action.trigger()
    assert window.palette.project_blocks() == ["Hidden"]
    window.undo_action.trigger()
    assert project_to_json(window.document.project) == before


def test_a_drop_from_the_palette_adds_an_instance(window, name_typed):
    group(window, name_typed, "fc1", "relu1", name="Hidden")
    new = window.scene.drop_block("Hidden", QPointF(400, 600))
    graph = window.controller.graph
    assert graph.nodes[new].block == "Hidden"
    assert window.scene.nodes[new].definition is graph.definitions["Hidden"]
    assert window.palette.items["Hidden"].data(0, BLOCK_ROLE) == "Hidden"


def test_open_a_block_shows_its_inside_with_its_ports_and_the_breadcrumb_leads_back(window, name_typed, qtbot):
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    window.document.reanalyze()
    window.open_block_action.trigger()
    controller = window.controller
    inside = controller.top.definitions["Hidden"].graph
    assert controller.path == (instance,) and controller.graph is inside
    assert set(window.scene.nodes) == {"n3", "n4"}
    assert window.scene.edges[next(iter(inside.edges))].label == "(N, 64)"  # the opened instance's shapes
    tags = {(t.side, t.name): t for t in window.scene.port_tags}
    assert set(tags) == {("in", "x"), ("out", "y")}
    assert tags["in", "x"].shape_text == "(N, 64)" and tags["out", "y"].shape_text == "(N, 64)"
    crumbs = window.breadcrumb.crumbs
    assert window.breadcrumb.isVisible()
    assert [c.text() for c in crumbs if c.text() != "›"] == [window.document.title, "hidden1 (Hidden)"]
    assert isinstance(crumbs[-1], QLabel)
    qtbot.mouseClick(crumbs[0], Qt.MouseButton.LeftButton)
    assert controller.path == () and controller.graph is controller.top
    assert instance in window.scene.nodes and not window.scene.port_tags
    assert not window.breadcrumb.isVisible()

    window.scene.select_nodes([instance])
    window.open_block_action.trigger()
    window.up_level_action.trigger()
    assert controller.path == ()
    assert window.scene.selected_node_ids() == [instance]  # where one was is selected


def test_the_breadcrumb_leads_through_nested_blocks(window, name_typed, qtbot):
    group(window, name_typed, "fc1", "relu1", name="Inner")
    outer = group(window, name_typed, "inner1", "dropout", name="Outer")
    window.scene.select_nodes([outer])
    window.open_block_action.trigger()
    window.scene.select_nodes(ids(window, "inner1"))
    window.open_block_action.trigger()
    assert window.controller.graph is window.controller.top.definitions["Inner"].graph
    crumbs = [c for c in window.breadcrumb.crumbs if c.text() != "›"]
    assert [c.text() for c in crumbs] == [window.document.title, "outer1 (Outer)", "inner1 (Inner)"]
    assert all(c.isVisible() for c in crumbs)
    assert window.breadcrumb.width() > sum(c.width() for c in crumbs)
    qtbot.mouseClick(crumbs[1], Qt.MouseButton.LeftButton)
    assert window.controller.path == (outer,)
    assert set(window.scene.nodes) == {"n5", *ids(window, "inner1")}


def test_an_edit_inside_changes_every_instance_and_undoes_across_levels(window, name_typed):
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    graph = window.controller.top
    other = window.scene.drop_block("Hidden", QPointF(500, 500))
    window.controller.connect(graph.outputs_of(instance)[0].__class__(instance, "y", other, "x"))
    before = project_to_json(window.document.project)
    window.scene.select_nodes([instance])
    window.open_block_action.trigger()
    assert isinstance(window.breadcrumb.crumbs[0], QToolButton)

    window.controller.set_param("n3", "out_features", 48)
    analysis = window.document.reanalyze()
    assert str(analysis.results[instance].outputs["y"]) == "(N, 48)"
    assert str(analysis.results[other].outputs["y"]) == "(N, 48)"
    assert window.scene.edges[next(iter(window.controller.graph.edges))].label == "(N, 48)"
    window.up_level_action.trigger()
    window.undo_action.trigger()  # from the top: the edit inside is undone
    analysis = window.document.reanalyze()
    assert project_to_json(window.document.project) == before
    assert str(analysis.results[other].outputs["y"]) == "(N, 64)"
    window.redo_action.trigger()
    assert graph.definitions["Hidden"].graph.nodes["n3"].params["out_features"] == 48


def test_undoing_the_group_while_inside_goes_back_up(window, name_typed):
    before = project_to_json(window.document.project)
    group(window, name_typed, "fc1", "relu1")
    window.open_block_action.trigger()
    assert window.controller.path
    window.undo_action.trigger()
    assert window.controller.path == () and window.controller.graph is window.controller.top
    assert set(window.scene.nodes) == set(window.controller.top.nodes)
    assert project_to_json(window.document.project) == before


def test_make_unique_forks_the_block_for_one_instance(window, name_typed):
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    top = window.controller.top
    other = window.scene.drop_block("Hidden", QPointF(500, 500))
    before = project_to_json(window.document.project)
    window.scene.select_nodes([other])
    assert window.make_unique_action.isEnabled()
    window.make_unique_action.trigger()
    assert top.nodes[other].block == "Hidden2" and top.nodes[instance].block == "Hidden"
    assert window.scene.selected_node_ids() == [other]
    assert window.palette.project_blocks() == ["Hidden", "Hidden2"]
    fork = top.definitions["Hidden2"].graph
    fork.set_param("n3", "out_features", 8)  # the fork is its own: the first block is untouched
    assert top.definitions["Hidden"].graph.nodes["n3"].params["out_features"] == 64
    fork.set_param("n3", "out_features", 64)
    window.undo_action.trigger()
    assert project_to_json(window.document.project) == before
    window.scene.select_nodes([instance])
    assert window.make_unique_action.isEnabled()
    window.controller.delete([other])
    window.scene.select_nodes([instance])
    assert not window.make_unique_action.isEnabled()  # the only instance is unique already


def test_the_inspector_names_an_instances_block_and_opens_it(window, name_typed, qtbot):
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    window.inspector.show_node(instance)
    assert window.inspector.block_name_edit.text() == "Hidden"
    qtbot.mouseClick(window.inspector.open_button, Qt.MouseButton.LeftButton)
    assert window.controller.path == (instance,)
    window.inspector.show_node("n3")
    assert window.inspector.fields["out_features"].isEnabled()
    window.inspector._commit_param("n3", window.inspector.fields["out_features"], 16)
    assert window.controller.graph.nodes["n3"].params["out_features"] == 16


def test_the_context_menu_offers_the_block_actions(window, name_typed):
    window.scene.select_nodes(ids(window, "fc1"))
    assert window.open_block_action not in window.canvas_menu_actions()
    instance = group(window, name_typed, "fc1", "relu1")
    window.scene.select_nodes([instance])
    actions = window.canvas_menu_actions()
    assert window.ungroup_action in actions and window.open_block_action in actions
    assert window.up_level_action not in actions
    window.open_block_action.trigger()
    assert window.up_level_action in window.canvas_menu_actions()


def test_expose_an_inner_parameter_from_the_inspector_and_each_instance_sets_its_own(window, name_typed, qtbot):
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    top = window.controller.top
    other = window.scene.drop_block("Hidden", QPointF(500, 500))
    window.scene.select_nodes([instance])
    window.open_block_action.trigger()
    window.inspector.show_node("n3")
    assert not window.inspector.expose_buttons["out_features"].isChecked()
    qtbot.mouseClick(window.inspector.expose_buttons["out_features"], Qt.MouseButton.LeftButton)
    assert [p.name for p in top.block_spec("Hidden").params if p.name == "out_features"] == ["out_features"]
    assert window.inspector.expose_buttons["out_features"].isChecked()  # the form was built again
    assert window.controller.undo_stack.undoText() == "Expose out_features as a parameter of Hidden"

    window.up_level_action.trigger()
    window.scene.select_nodes([instance])
    assert "out_features" in window.inspector.fields  # the instance's own field
    window.inspector._commit_param(instance, window.inspector.fields["out_features"], 20)
    analysis = window.document.reanalyze()
    assert str(analysis.results[instance].outputs["y"]) == "(N, 20)"
    assert top.nodes[other].params["out_features"] == 64
    window.undo_action.trigger()  # the value
    window.undo_action.trigger()  # the exposing
    assert "out_features" not in top.nodes[instance].params
    assert all(p.name != "out_features" for p in top.block_spec("Hidden").params)


def test_group_inside_an_opened_block_and_undo(window, name_typed):
    group(window, name_typed, "fc1", "relu1", name="Hidden")
    window.open_block_action.trigger()
    before = project_to_json(window.document.project)
    inner = group(window, name_typed, "fc1", "relu1", name="Core")  # the whole inside, ports and all
    top = window.controller.top
    assert window.controller.graph.nodes[inner].block == "Core"
    assert set(window.scene.nodes) == {inner}
    assert {(t.side, t.name) for t in window.scene.port_tags} == {("in", "x"), ("out", "y")}
    analysis = window.document.reanalyze()
    (instance,) = top.instances("Hidden")
    assert str(analysis.results[instance].outputs["y"]) == "(N, 64)"
    window.undo_action.trigger()
    assert project_to_json(window.document.project) == before
    assert set(window.scene.nodes) == {"n3", "n4"}


def test_a_problem_clicked_while_inside_a_block_is_shown_at_the_top(window, name_typed):
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    window.open_block_action.trigger()
    window.reveal_node("n6")
    assert window.controller.path == ()
    assert window.scene.selected_node_ids() == ["n6"]
    assert instance in window.scene.nodes


def test_the_palette_follows_a_renamed_block(window, name_typed):
    group(window, name_typed, "fc1", "relu1", name="Hidden")
    window.controller.top.rename_definition("Hidden", "Trunk")
    assert window.palette.project_blocks() == ["Trunk"]
    (instance,) = window.controller.top.instances("Trunk")
    assert window.scene.nodes[instance].spec.type == "Trunk"


def test_a_fix_from_the_problems_tab_while_inside_a_block_fixes_the_top_graph(window, name_typed):
    group(window, name_typed, "fc1", "relu1", name="Hidden")
    top = window.controller.top
    fc2 = top.by_label("fc2").id
    top.set_param(fc2, "out_features", 5)  # the loss wants the 10 classes of the digits
    window.open_block_action.trigger()
    analysis = window.document.reanalyze()
    (wrong,) = [d for d in analysis.diagnostics if d.fix is not None and d.fix.node == fc2]
    assert window.problems.select_diagnostic(wrong)
    assert window.problems.apply_current_fix()
    assert top.nodes[fc2].params["out_features"] == 10
    assert window.controller.path == ()


def test_rename_a_block_from_the_inspector(window, name_typed):
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    inspector = window.inspector
    inspector.show_node(instance)
    inspector.block_name_edit.setText("Linear")
    inspector.block_name_edit.editingFinished.emit()
    assert "already exists" in inspector.block_name_error.text()
    assert inspector.block_name_edit.text() == "Hidden"
    inspector.block_name_edit.setText("two words")
    inspector.block_name_edit.editingFinished.emit()
    assert "one word" in inspector.block_name_error.text()
    inspector.block_name_edit.setText("Trunk")
    inspector.block_name_edit.editingFinished.emit()
    top = window.controller.top
    assert top.nodes[instance].block == "Trunk" and window.palette.project_blocks() == ["Trunk"]
    assert inspector.block_name_edit.text() == "Trunk"  # the form follows
    window.open_block_action.trigger()
    assert window.breadcrumb.crumbs[-1].text() == "hidden1 (Trunk)"
    window.undo_action.trigger()
    assert top.nodes[instance].block == "Hidden"
    assert window.breadcrumb.crumbs[-1].text() == "hidden1 (Hidden)"


def test_a_problem_inside_a_block_opens_it_at_the_inner_node(window, name_typed):
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    inner = window.controller.top.definitions["Hidden"].graph
    inner.set_param("n3", "in_features", 5)  # what arrives has 64 features
    analysis = window.document.reanalyze()
    (problem,) = [d for d in analysis.diagnostics if d.node == instance]
    assert problem.path == ("fc1",)
    assert window.problems.select_diagnostic(problem)
    window.problems.node_activated.emit(instance)
    assert window.controller.path == (instance,)
    assert window.scene.selected_node_ids() == ["n3"]
    assert window.scene.nodes["n3"].severity == "error"


def test_a_problems_row_names_the_block_and_the_inner_node_it_is_at(window, name_typed):
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    window.controller.top.definitions["Hidden"].graph.set_param("n3", "in_features", 5)
    window.document.reanalyze()
    label = window.controller.top.nodes[instance].label
    rows = [window.problems.tree.topLevelItem(i) for i in range(window.problems.tree.topLevelItemCount())]
    assert f"{label} › fc1" in [row.text(0) for row in rows]  # not the inner port, which the block does not have


def test_quick_add_lists_the_projects_own_blocks_and_adds_one(window, name_typed, qtbot):
    group(window, name_typed, "fc1", "relu1", name="Hidden")
    point = window.view.mapToScene(window.view.viewport().rect().center())
    window._quick_add(point)
    popup = window.findChild(QuickAddPopup)
    qtbot.keyClicks(popup.search, "hidd")
    assert popup.results()[0] == "Hidden"
    before = len(window.controller.top.instances("Hidden"))
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert len(window.controller.top.instances("Hidden")) == before + 1


@pytest.mark.parametrize("project_path", ["residual_cnn"], indirect=True)
def test_a_long_network_opens_readable_at_its_start_and_closing_a_block_shows_where_one_was(window, name_typed, qtbot):
    view, scene = window.view, window.scene
    qtbot.waitUntil(lambda: view.zoom == pytest.approx(READABLE_ZOOM))  # too long to read whole in this window
    viewport = QRectF(view.viewport().rect())
    (image,) = ids(window, "image")  # the Dataset, where the data enters
    assert viewport.contains(QRectF(view.mapFromScene(scene.nodes[image].sceneBoundingRect()).boundingRect()))
    assert window.overview.isVisible()  # what is out of view
    instance = group(window, name_typed, "flatten", "fc", name="Head")  # at the far end
    window.open_block_action.trigger()
    window.up_level_action.trigger()
    shown = QRectF(view.mapFromScene(scene.nodes[instance].sceneBoundingRect()).boundingRect())
    assert view.zoom == pytest.approx(READABLE_ZOOM) and viewport.contains(shown)
