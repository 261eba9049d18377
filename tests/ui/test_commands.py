"""Every kind of edit is one undoable command: undo restores the graph exactly, redo brings the edit back."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoCommand

from netbuilder.analysis import analyze
from netbuilder.graph import Edge, Graph
from netbuilder.ui.editor.controller import EditorController


def snapshot(graph: Graph) -> tuple:
    nodes = {n.id: (n.block, n.label, dict(n.params), n.position) for n in graph.nodes.values()}
    return nodes, sorted(map(str, graph.edges))


def fix_of(controller: EditorController):
    controller.graph.set_param(controller.graph.by_label("fc2").id, "out_features", 7)
    (problem,) = analyze(controller.graph).diagnostics
    return problem.fix


EDITS = {
    "add": lambda c, ids: c.add_block("Conv2d", (10.0, 400.0)),
    "delete node with edges": lambda c, ids: c.delete([ids["relu"]]),
    "delete edge": lambda c, ids: c.disconnect([c.graph.inputs_of(ids["relu"])["x"]]),
    "connect": lambda c, ids: c.connect(Edge(ids["fc1"], "y", ids["relu"], "x")),
    "move connection": lambda c, ids: c.connect(
        Edge(ids["flatten"], "y", ids["relu"], "x"), replacing=c.graph.inputs_of(ids["relu"])["x"]
    ),
    "replace connection": lambda c, ids: c.connect(Edge(ids["flatten"], "y", ids["relu"], "x")),
    "move nodes": lambda c, ids: c.move_nodes({ids["fc1"]: (5.0, 5.0), ids["relu"]: (6.0, 6.0)}),
    "set param": lambda c, ids: c.set_param(ids["fc1"], "out_features", 48),
    "rename": lambda c, ids: c.rename(ids["fc1"], "hidden"),
    "insert on edge": lambda c, ids: c.insert_on_edge(c.graph.inputs_of(ids["relu"])["x"], "Dropout", (700.0, 50.0)),
    "paste": lambda c, ids: c.paste(c.copy([ids["fc1"], ids["relu"]])),
    "duplicate": lambda c, ids: c.duplicate([ids["fc1"], ids["relu"]]),
    "auto layout": lambda c, ids: c.auto_layout(),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_undo_then_redo_round_trip(edit, document, controller):
    ids = {n.label: n.id for n in document.graph.nodes.values()} | {"data": document.graph.by_label("digits").id}
    stack = controller.undo_stack
    if edit == "connect":  # start from a free input
        document.graph.disconnect(document.graph.inputs_of(ids["relu"])["x"])
    before = snapshot(document.graph)
    EDITS[edit](controller, ids)
    after = snapshot(document.graph)
    assert after != before, "the edit changed nothing"
    assert stack.count() >= 1
    while stack.canUndo():
        stack.undo()
    assert snapshot(document.graph) == before
    while stack.canRedo():
        stack.redo()
    assert snapshot(document.graph) == after


def test_fix_is_one_undoable_command(document, controller):
    fix = fix_of(controller)
    before = snapshot(document.graph)
    assert controller.apply_fix(fix)
    assert controller.undo_stack.count() == 1
    assert controller.undo_stack.undoText().startswith("Fix: set out_features of fc2 to 10")
    assert analyze(document.graph).diagnostics == []
    controller.undo_stack.undo()
    assert snapshot(document.graph) == before


def test_refused_edit_leaves_graph_and_stack_unchanged(document, controller):
    messages = []
    controller.message.connect(messages.append)
    ids = {n.label: n.id for n in document.graph.nodes.values()}
    before = snapshot(document.graph)
    assert not controller.connect(Edge(ids["relu"], "y", ids["fc1"], "x"))  # occupied, and a cycle
    assert not controller.connect(Edge(ids["digits"], "target", ids["fc2"], "x"))  # kind mismatch
    assert not controller.rename(ids["fc1"], "relu")
    assert not controller.set_param(ids["fc1"], "out_features", 0)
    assert snapshot(document.graph) == before
    assert controller.undo_stack.count() == 0
    assert len(messages) == 4 and "already" in messages[2]


def test_a_failing_multi_step_edit_is_rolled_back(document, controller):
    before = snapshot(document.graph)
    text = controller.copy([document.graph.by_label("fc1").id])
    broken = text.replace('"Linear"', '"NoSuchBlock"')
    assert controller.paste(broken) == []
    assert snapshot(document.graph) == before


def test_paste_keeps_internal_edges_and_makes_labels_unique(document, controller):
    g = document.graph
    fc1, relu = g.by_label("fc1").id, g.by_label("relu").id
    new = controller.paste(controller.copy([fc1, relu]))
    labels = sorted(g.nodes[n].label for n in new)
    assert labels == ["fc3", "relu1"]
    internal = [e for e in g.edges if e.src in new and e.dst in new]
    assert len(internal) == 1
    assert not any(e.dst in new and e.src not in new for e in g.edges)


def test_delete_then_undo_restores_the_edges(document, controller):
    g = document.graph
    relu = g.by_label("relu").id
    edges_before = sorted(map(str, g.edges))
    controller.delete([relu])
    assert relu not in g.nodes
    controller.undo_stack.undo()
    assert sorted(map(str, g.edges)) == edges_before
    assert g.nodes[relu].label == "relu"


def test_undo_text_names_the_edit(document, controller):
    controller.add_block("Conv2d", (0.0, 0.0))
    assert controller.undo_stack.undoText() == "Add Conv2d"


def test_the_editor_owns_the_unsaved_state_and_saving_marks_it_clean(controller, tmp_path):
    changes = []
    controller.modified_changed.connect(changes.append)
    assert not controller.modified
    controller.add_block("ReLU", (0.0, 0.0))
    assert controller.modified and changes == [True]
    controller.save(tmp_path / "saved.nbproj")
    assert not controller.modified and changes == [True, False]
    assert controller.document.path == tmp_path / "saved.nbproj"
    controller.undo_stack.undo()  # away from the saved state again
    assert controller.modified
    controller.mark_unsaved()
    controller.undo_stack.redo()  # back where it was saved, but the saved state was forgotten
    assert controller.modified


def test_any_undo_command_goes_through_the_editor(controller):
    done = []

    class Note(QUndoCommand):
        def redo(self):
            done.append("redo")

        def undo(self):
            done.append("undo")

    assert controller.push(Note("Note"))
    assert done == ["redo"] and controller.undo_stack.undoText() == "Note"
    controller.undo_stack.undo()
    assert done == ["redo", "undo"]


def test_a_training_setting_is_an_undoable_edit_that_the_analysis_follows(qtbot, document, controller):
    project = document.project
    before = project.training.epochs
    with qtbot.waitSignal(document.analysis_changed, timeout=2000):  # the Code tab's train.py holds the settings
        assert controller.set_setting("epochs", before + 3)
    assert project.training.epochs == before + 3
    assert controller.undo_stack.undoText() == f"Set epochs to {before + 3}"
    controller.undo_stack.undo()
    assert project.training.epochs == before
    controller.undo_stack.redo()
    assert project.training.epochs == before + 3


def test_edits_of_one_setting_in_a_row_are_one_step_gone_when_back_where_they_started(document, controller):
    project = document.project
    before = project.training.batch_size
    controller.set_setting("batch_size", before + 1)
    controller.set_setting("batch_size", before + 2)
    assert controller.undo_stack.count() == 1 and project.training.batch_size == before + 2
    controller.set_setting("seed", project.training.seed + 1)  # another setting: its own step
    assert controller.undo_stack.count() == 2
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    assert project.training.batch_size == before
    controller.undo_stack.redo()
    controller.set_setting("batch_size", before)  # merged back to where it started: the step goes
    assert controller.undo_stack.count() == 0 and project.training.batch_size == before


def test_a_refused_setting_changes_nothing_and_says_why(document, controller):
    messages = []
    controller.message.connect(messages.append)
    before = document.project.training
    assert not controller.set_setting("epochs", 0)
    assert document.project.training == before and controller.undo_stack.count() == 0
    assert messages and "epochs" in messages[0]


def test_forgetting_the_starting_weights_is_undone_like_any_edit(document, controller, tmp_path):
    weights = tmp_path / "start.weights.safetensors"
    document.project.weights = weights
    assert controller.forget_starting_weights()
    assert document.project.weights is None and controller.modified
    assert controller.undo_stack.undoText() == "Forget the starting weights"
    assert not controller.forget_starting_weights()  # none left to forget
    controller.undo_stack.undo()
    assert document.project.weights == weights
