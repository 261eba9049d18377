"""A block of the project's inputs and outputs renamed in the window: from the inspector of an instance, and by
typing over a tag at the border of an opened block. Every instance keeps its connections, one undo gives the old
names back, and a name that cannot be is refused with the graph's reason."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QApplication

from netbuilder.project.project_file import project_to_json
from netbuilder.ui.canvas.items import SMALL_FONT
from tests.ui.test_composites import group, name_typed, scene_state  # noqa: F401 - name_typed is a fixture


def inputs_and_outputs(window, instance: str) -> tuple[list[str], list[str]]:
    """The port names the canvas draws on `instance`."""
    item = window.scene.nodes[instance]
    return [p.name for p in item.inputs], [p.name for p in item.outputs]


def commit(edit, text: str) -> None:
    edit.setText(text)
    edit.editingFinished.emit()


def test_rename_ports_from_the_inspector_keeps_the_connections_and_undoes(window, name_typed):  # noqa: F811
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    top = window.controller.top
    feeding, fed = top.inputs_of(instance)["x"], top.outputs_of(instance)
    before, canvas_before = project_to_json(window.document.project), scene_state(window)
    inspector = window.inspector
    inspector.show_node(instance)
    assert set(inspector.port_name_edits) == {("in", "x"), ("out", "y")}

    commit(inspector.port_name_edits["in", "x"], "features")
    assert window.controller.undo_stack.undoText() == "Rename port x of Hidden to features"
    commit(inspector.port_name_edits["out", "y"], "hidden")
    assert [i.name for i in top.definitions["Hidden"].inlets] == ["features"]
    assert [o.name for o in top.definitions["Hidden"].outlets] == ["hidden"]
    assert top.inputs_of(instance)["features"].src == feeding.src
    assert [(e.dst, e.dst_port) for e in top.outputs_of(instance)] == [(e.dst, e.dst_port) for e in fed]
    assert inputs_and_outputs(window, instance) == (["features"], ["hidden"])  # the canvas follows
    assert set(window.scene.edges) == set(top.edges)
    assert set(inspector.port_name_edits) == {("in", "features"), ("out", "hidden")}  # the form too
    analysis = window.document.reanalyze()
    assert str(analysis.results[instance].outputs["hidden"]) == "(N, 64)"
    after, canvas_after = project_to_json(window.document.project), scene_state(window)

    window.undo_action.trigger()
    window.undo_action.trigger()
    assert project_to_json(window.document.project) == before
    assert scene_state(window) == canvas_before
    assert inputs_and_outputs(window, instance) == (["x"], ["y"])
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert project_to_json(window.document.project) == after
    assert scene_state(window) == canvas_after


def test_a_refused_port_name_says_why_and_changes_nothing(window, name_typed):  # noqa: F811
    instance = group(window, name_typed, "fc1", "relu1", name="Hidden")
    before = project_to_json(window.document.project)
    steps = window.controller.undo_stack.count()
    inspector = window.inspector
    inspector.show_node(instance)
    edit, error = inspector.port_name_edits["in", "x"], inspector.port_name_errors["in", "x"]

    commit(edit, "two words")
    assert "one word" in error.text() and not error.isHidden()
    assert edit.text() == "x"  # the field goes back
    assert "one word" in window.statusBar().currentMessage()
    edit.textEdited.emit("x2")
    assert error.isHidden()  # typing again takes the refusal away
    commit(edit, "")
    assert "one word" in error.text()
    assert project_to_json(window.document.project) == before
    assert window.controller.undo_stack.count() == steps


def open_with_tags(window, name_typed, qtbot):  # noqa: F811
    """Group fc1, relu1 and dropout as Hidden, open it; its tags by (side, name)."""
    group(window, name_typed, "fc1", "relu1", "dropout", name="Hidden")
    window.open_block_action.trigger()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return {(t.side, t.name): t for t in window.scene.port_tags}


def double_click(window, qtbot, tag) -> None:
    view = window.view
    view.setFocus()
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(tag.tag_rect.center()))


def test_double_click_a_tag_types_its_name_over_and_enter_renames_the_port(window, name_typed, qtbot):  # noqa: F811
    tags = open_with_tags(window, name_typed, qtbot)
    top = window.controller.top
    (instance,) = top.instances("Hidden")
    feeding = top.inputs_of(instance)["x"]
    window.scene.select_nodes(["n4"])  # relu1, between the ports
    double_click(window, qtbot, tags["in", "x"])
    editor = tags["in", "x"].editor
    assert editor is not None and editor.hasFocus()
    assert editor.textCursor().selectedText() == "x"  # all of it: typing replaces it
    viewport = window.view.viewport()
    qtbot.keyClicks(viewport, "featuresX")
    qtbot.keyClick(viewport, Qt.Key.Key_Backspace)  # the name's, not Delete's: the selected node stays
    assert "n4" in window.controller.graph.nodes
    width = tags["in", "x"].tag_rect.width()
    assert width > 60  # the tag grows with what is typed
    qtbot.keyClick(viewport, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: [i.name for i in top.definitions["Hidden"].inlets] == ["features"])
    tags = {(t.side, t.name): t for t in window.scene.port_tags}
    assert set(tags) == {("in", "features"), ("out", "y")}
    assert all(t.editor is None for t in window.scene.port_tags)
    drawn = QFont(QApplication.font())  # the name is drawn bold in the application's font
    drawn.setBold(True)
    tag = tags["in", "features"]
    name, shape = (
        QFontMetricsF(drawn).horizontalAdvance("features"),
        QFontMetricsF(SMALL_FONT).horizontalAdvance(tag.shape_text),
    )
    assert tag.tag_rect.width() > name + shape  # the name and the shape side by side, not over each other
    assert top.inputs_of(instance)["features"].src == feeding.src
    assert window.controller.undo_stack.undoText() == "Rename port x of Hidden to features"
    window.undo_action.trigger()
    assert {(t.side, t.name) for t in window.scene.port_tags} == {("in", "x"), ("out", "y")}


def test_a_tag_refuses_a_name_that_cannot_be_and_escape_keeps_the_name(window, name_typed, qtbot):  # noqa: F811
    tags = open_with_tags(window, name_typed, qtbot)
    before = project_to_json(window.document.project)
    viewport = window.view.viewport()
    double_click(window, qtbot, tags["out", "y"])
    qtbot.keyClicks(viewport, "9lives")
    qtbot.keyClick(viewport, Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: window.view.refusal.isVisible())
    assert "one word" in window.statusBar().currentMessage()
    assert project_to_json(window.document.project) == before
    assert tags["out", "y"].editor is None and tags["out", "y"].name == "y"

    double_click(window, qtbot, tags["out", "y"])
    qtbot.keyClicks(viewport, "out")
    qtbot.keyClick(viewport, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: tags["out", "y"].editor is None)
    assert project_to_json(window.document.project) == before


def test_renaming_the_port_of_a_block_inside_an_opened_block_redraws_its_instance(window, name_typed):  # noqa: F811
    inner = group(window, name_typed, "fc1", "relu1", name="Inner")
    window.scene.select_nodes([inner])
    group(window, name_typed, window.controller.graph.nodes[inner].label, name="Outer")
    window.open_block_action.trigger()  # Outer's inside: the Inner instance alone, between Outer's tags
    assert window.controller.graph.owner == "Outer"
    inspector = window.inspector
    inspector.show_node(inner)
    commit(inspector.port_name_edits["in", "x"], "features")
    top = window.controller.top
    assert inputs_and_outputs(window, inner) == (["features"], ["y"])
    assert top.definitions["Outer"].inlets[0].targets == ((inner, "features"),)  # Outer passes it on
    assert {(t.side, t.name) for t in window.scene.port_tags} == {("in", "x"), ("out", "y")}
    analysis = window.document.reanalyze()
    assert not analysis.has_errors(training=False)
    window.undo_action.trigger()
    assert inputs_and_outputs(window, inner) == (["x"], ["y"])


def test_leaving_the_block_or_the_project_while_a_name_is_typed(window, name_typed, qtbot):  # noqa: F811
    tags = open_with_tags(window, name_typed, qtbot)
    top = window.controller.top
    double_click(window, qtbot, tags["out", "y"])
    qtbot.keyClicks(window.view.viewport(), "out")
    window.up_level_action.trigger()  # the name loses the focus: what was typed is kept, as in a field
    qtbot.waitUntil(lambda: [o.name for o in top.definitions["Hidden"].outlets] == ["out"])
    assert window.controller.path == ()
    (instance,) = top.instances("Hidden")
    assert inputs_and_outputs(window, instance) == (["x"], ["out"])

    window.open_block_action.trigger()
    (tag,) = [t for t in window.scene.port_tags if t.side == "out"]
    double_click(window, qtbot, tag)
    qtbot.keyClicks(window.view.viewport(), "out")
    window.controller.undo_stack.setClean()
    window.close_action.trigger()  # (the editor once held the scene in a cycle that crashed when collected)
    qtbot.wait(20)
    assert window.document is None
