"""Random sequences of what a person does in the editor, through the real EditorController and its QUndoStack:
every call a view makes (add, insert on an edge, connect and replace a connection, disconnect, delete, move,
auto layout, set a parameter, rename, apply a fix, copy and paste, duplicate, paste foreign text, change a
training setting, forget the starting weights, save), with valid and invalid arguments, interleaved with
Undo, Redo and jumps in the history. An edit that adds nodes lands none on another and brings no two together.

After every step: the stack's index points at the file the person saw at that point of the history (so every
undo, redo and jump returns exactly that file, and undoing everything the starting one); a refused call
pushed nothing, changed nothing and said why; the title's star follows the saved state; the project saves
and loads as the same file; the document's analysis equals a fresh one. Bounded for CI by
NETBUILDER_FUZZ_EXAMPLES (tests/edit_strategies.py).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from netbuilder.analysis import SetParam, analyze
from netbuilder.blocks import BLOCKS
from netbuilder.graph import Edge
from netbuilder.project import (
    Project,
    ProjectError,
    load_project,
    project_from_dict,
    project_to_dict,
    project_to_json,
    save_project,
)
from netbuilder.project.settings import SETTINGS
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from tests.edit_strategies import (
    SEQUENCE_SETTINGS,
    foreign_clipboards,
    labels,
    param_values,
    positions,
    setting_values,
)
from tests.overlaps import overlapping_pairs

SAMPLES = Path(__file__).resolve().parents[2] / "sample_projects"
BLOCK_TYPES = sorted(BLOCKS)
MISSING_ID = "n999999"


class EditorSequences(RuleBasedStateMachine):
    """An editor driven at random; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="netbuilder-editor-"))
        self.controller: EditorController | None = None
        self.history: list[dict[str, Any]] = []  # the file at each index of the undo stack
        self.clean_index = 0
        self.said: list[str] = []

    # ---- helpers ---------------------------------------------------------------------------------------

    @property
    def graph(self):
        return self.controller.graph

    @property
    def stack(self):
        return self.controller.undo_stack

    @property
    def project(self) -> Project:
        return self.controller.document.project

    def file(self) -> dict[str, Any]:
        return project_to_dict(self.project, self.folder)

    def call(self, action: Callable[[], Any], *, must_refuse: bool = False) -> Any:
        """One call of the controller, as a view makes it; checks what it did to the stack and the file."""
        before, index, count = self.file(), self.stack.index(), self.stack.count()
        heard = len(self.said)
        result = action()
        now = self.file()
        if not result:  # refused, or nothing to do: nothing pushed, nothing changed, and a refusal said why
            assert (self.stack.index(), self.stack.count()) == (index, count), "a refused call touched the stack"
            assert now == before, "a refused call changed the project"
            for message in self.said[heard:]:  # what the status bar and the pointer's bubble show
                assert message and "\n" not in message and len(message) <= 400, f"not a one-line message: {message!r}"
            return result
        assert not must_refuse, "an invalid call went through"
        if (self.stack.index(), self.stack.count()) != (index, count) and self.clean_index > index:
            self.clean_index = -1  # the saved state could have been redone: a new step drops it for good
        if self.stack.index() == index + 1:  # a new step; what could be redone is gone
            assert now != before, "a step that changes nothing was pushed"
            self.history[index + 1 :] = [now]
        elif self.stack.index() == index and now != before:  # merged into the step before (a setting's edits)
            assert index > 0 and self.stack.count() == index, "an edit merged into a step it cannot be part of"
            self.history[index:] = [now]
        elif self.stack.index() == index - 1:  # merged and back where that step started: the step is gone
            assert now == self.history[index - 1], "a step dropped as a no-op left a change behind"
            del self.history[index:]
        else:
            assert now == before and self.stack.count() == count, "a call changed the project off the stack"
        return result

    def adding(self, action: Callable[[], Any], *, must_refuse: bool = False) -> Any:
        """`call` for an edit that adds nodes: none lands on a node that was there, and what it moves to make
        room comes no nearer to any node it was apart from (pasted nodes keep their arrangement, overlaps
        among the copied ones included)."""
        before, old = overlapping_pairs(self.graph), set(self.graph.nodes)
        result = self.call(action, must_refuse=must_refuse)
        new = {pair for pair in overlapping_pairs(self.graph) - before if old & set(pair)}
        assert not new, f"adding landed or moved nodes onto others: {sorted(new)}"
        return result

    def some_node(self, data: st.DataObject) -> str:
        """An existing node's id, or one that is not there (a view that has not caught up)."""
        return data.draw(st.sampled_from([*sorted(self.graph.nodes), MISSING_ID]))

    def some_nodes(self, data: st.DataObject) -> list[str]:
        return data.draw(st.lists(st.sampled_from(sorted(self.graph.nodes)), min_size=1, unique=True))

    def some_edge(self, data: st.DataObject) -> Edge:
        edges = sorted(self.graph.edges, key=str)
        return data.draw(st.sampled_from([*edges, Edge(self.some_node(data), "y", self.some_node(data), "x")]))

    # ---- the start -------------------------------------------------------------------------------------

    @initialize(
        sample=st.sampled_from([None, *sorted(p.name for p in SAMPLES.glob("*.nbproj"))]), weights=st.booleans()
    )
    def open_project(self, sample: str | None, weights: bool) -> None:
        # None: File > New, a placeholder name that the first save replaces by the file's.
        project = Project.new("Untitled 1", named=False) if sample is None else load_project(SAMPLES / sample)
        if weights:  # an imported network's starting weights, which Forget can drop
            project.weights = self.folder / "start.weights.safetensors"
        self.controller = EditorController(Document(project))
        self.controller.message.connect(self.said.append)
        self.history = [self.file()]

    # ---- what the views call ---------------------------------------------------------------------------

    @rule(block=st.sampled_from([*BLOCK_TYPES, "NoSuchBlock"]), at=positions)
    def add_block(self, block: str, at: tuple[float, float]) -> None:
        self.adding(lambda: self.controller.add_block(block, at), must_refuse=block == "NoSuchBlock")

    @precondition(lambda self: self.graph.edge_count())
    @rule(data=st.data(), at=positions)
    def drop_a_block_on_an_edge(self, data: st.DataObject, at: tuple[float, float]) -> None:
        # The scene inserts only blocks with an input and an output; others are added beside the edge.
        block = data.draw(st.sampled_from([b for b in BLOCK_TYPES if BLOCKS[b].inputs and BLOCKS[b].outputs]))
        edge = self.some_edge(data)
        self.adding(lambda: self.controller.insert_on_edge(edge, block, at), must_refuse=edge not in self.graph.edges)

    @rule(data=st.data())
    def connect(self, data: st.DataObject) -> None:
        src, dst = self.some_node(data), self.some_node(data)
        outputs = [p.name for p in self.graph.spec(src).outputs] if src in self.graph.nodes else []
        inputs = [p.name for p in self.graph.input_ports(dst)] if dst in self.graph.nodes else []
        edge = Edge(src, data.draw(st.sampled_from([*outputs, "y"])), dst, data.draw(st.sampled_from([*inputs, "x"])))
        # Dragging the end of an existing edge elsewhere takes that edge away in the same step.
        replacing = data.draw(st.none() | st.sampled_from(sorted(self.graph.edges, key=str) or [None]))
        if replacing is not None and replacing.src != edge.src:
            replacing = None
        self.call(lambda: self.controller.connect(edge, replacing), must_refuse=MISSING_ID in (src, dst))

    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        edges = [self.some_edge(data) for _ in range(data.draw(st.integers(0, 2)))]
        self.call(lambda: self.controller.disconnect(edges))

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        nodes = data.draw(st.lists(st.sampled_from([*sorted(self.graph.nodes), MISSING_ID]), max_size=3, unique=True))
        edges = data.draw(st.lists(st.sampled_from(sorted(self.graph.edges, key=str) or [None]), max_size=2))
        edges = [e for e in edges if e is not None]
        self.call(lambda: self.controller.delete(nodes, edges), must_refuse=MISSING_ID in nodes)

    @precondition(lambda self: self.graph.nodes)
    @rule(data=st.data(), to=positions)
    def drag_nodes(self, data: st.DataObject, to: tuple[float, float]) -> None:
        nodes = self.some_nodes(data)
        self.call(lambda: self.controller.move_nodes({n: (to[0] + 30 * i, to[1]) for i, n in enumerate(nodes)}))

    @rule()
    def auto_layout(self) -> None:
        self.call(self.controller.auto_layout)

    @rule(data=st.data())
    def set_param(self, data: st.DataObject) -> None:
        node_id = self.some_node(data)
        specs = list(self.graph.spec(node_id).params) if node_id in self.graph.nodes else []
        if not specs:
            self.call(lambda: self.controller.set_param(node_id, "no_such_param", 1), must_refuse=True)
            return
        spec = data.draw(st.sampled_from(specs))
        value, must_refuse = data.draw(param_values(spec))
        self.call(lambda: self.controller.set_param(node_id, spec.name, value), must_refuse=must_refuse)

    @rule(data=st.data(), label=labels)
    def rename(self, data: st.DataObject, label: str) -> None:
        node_id = self.some_node(data)
        others = {n.label for n in self.graph.nodes.values() if n.id != node_id}
        bad = node_id == MISSING_ID or not label.strip() or label in others
        self.call(lambda: self.controller.rename(node_id, label), must_refuse=bad)

    @rule(data=st.data())
    def apply_a_fix(self, data: st.DataObject) -> None:
        fixes = [d.fix for d in self.controller.document.reanalyze().diagnostics if d.fix is not None]
        if fixes:
            fix = data.draw(st.sampled_from(fixes))
            assert self.adding(lambda: self.controller.apply_fix(fix)), f"a suggested fix was refused: {self.said[-1]}"

    @precondition(lambda self: self.graph.nodes)
    @rule(data=st.data(), at=st.none() | positions)
    def copy_and_paste(self, data: st.DataObject, at: tuple[float, float] | None) -> None:
        text = self.controller.copy(self.some_nodes(data))
        assert self.adding(lambda: self.controller.paste(text, at)), f"a copied selection was refused: {self.said[-1]}"

    @precondition(lambda self: self.graph.nodes)
    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        nodes = self.some_nodes(data)
        assert self.adding(lambda: self.controller.duplicate(nodes)), f"duplicating was refused: {self.said[-1]}"

    @rule(text=foreign_clipboards)
    def paste_what_netbuilder_did_not_copy(self, text: str) -> None:
        self.call(lambda: self.controller.paste(text))

    @rule(data=st.data())
    def set_setting(self, data: st.DataObject) -> None:
        spec = data.draw(st.sampled_from(SETTINGS))
        value, must_refuse = data.draw(setting_values(spec))
        self.call(lambda: self.controller.set_setting(spec.name, value), must_refuse=must_refuse)

    @rule()
    def forget_starting_weights(self) -> None:
        self.call(self.controller.forget_starting_weights, must_refuse=self.project.weights is None)

    @rule(stem=st.sampled_from(["edits", "café net", "naïve-𝔘", "caf\udce9", "x" * 300]))
    def save_as(self, stem: str) -> None:
        # A file name that is not UTF-8 ("caf\udce9") or too long for the disk is refused with a message.
        before = (self.file(), self.project.name, self.project.path, self.controller.modified)
        try:
            saved = self.controller.save(self.folder / f"{stem}.nbproj")
        except ProjectError as err:
            assert "\n" not in str(err), f"not a one-line message: {err}"  # it names the whole path it tried
            assert (self.file(), self.project.name, self.project.path, self.controller.modified) == before
            return
        assert project_to_dict(load_project(saved), self.folder) == self.file()
        for state in self.history:  # a first save names a new project after its file, whatever the history
            state["name"] = self.project.name
        self.clean_index = self.stack.index()

    # ---- undo and redo ---------------------------------------------------------------------------------

    @rule()
    def undo(self) -> None:
        self.stack.undo()

    @rule()
    def redo(self) -> None:
        self.stack.redo()

    @rule(data=st.data())
    def jump_in_the_history(self, data: st.DataObject) -> None:
        self.stack.setIndex(data.draw(st.integers(0, self.stack.count())))

    @rule()
    def undo_everything_then_redo_everything(self) -> None:
        index = self.stack.index()
        self.stack.setIndex(0)
        assert self.file() == self.history[0], "undoing every edit did not return the project it started from"
        self.stack.setIndex(self.stack.count())
        assert self.file() == self.history[-1], "redoing every edit did not return the last edit"
        self.stack.setIndex(index)

    # ---- after every step ------------------------------------------------------------------------------

    @invariant()
    def the_history_matches_the_stack(self) -> None:
        if self.controller is None:
            return
        assert len(self.history) == self.stack.count() + 1
        assert self.file() == self.history[self.stack.index()]
        assert self.controller.modified == (self.stack.index() != self.clean_index)

    @invariant()
    def saved_and_loaded_is_the_same_file(self) -> None:
        if self.controller is None:
            return
        text = project_to_json(self.project, self.folder)
        loaded = project_from_dict(json.loads(text.encode("utf-8")), path=self.folder / "edits.nbproj")
        assert project_to_json(loaded, self.folder) == text

    @invariant()
    def the_documents_analysis_equals_a_fresh_one(self) -> None:
        if self.controller is None:
            return
        kept, fresh = self.controller.document.reanalyze(), analyze(self.graph)
        assert kept.diagnostics == fresh.diagnostics
        assert {n: r.outputs for n, r in kept.results.items()} == {n: r.outputs for n, r in fresh.results.items()}

    def teardown(self) -> None:
        try:
            if self.controller is not None:
                saved = replace(self.project)
                save_project(saved, self.folder / "last.nbproj")
                assert project_to_json(load_project(saved.path), self.folder) == saved.path.read_text("utf-8")
                self.controller.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def test_random_editing_in_the_window_undoes_redoes_and_saves_exactly(qapp) -> None:
    run_state_machine_as_test(EditorSequences, settings=SEQUENCE_SETTINGS)


def test_an_edit_naming_a_node_that_an_undo_took_away_is_refused_with_a_message(controller) -> None:
    said: list[str] = []
    controller.message.connect(said.append)
    added = controller.add_block("Linear", (0.0, 0.0))
    controller.undo_stack.undo()  # the inspector or a selection may still name it until it catches up
    before, count = project_to_dict(controller.document.project, Path()), controller.undo_stack.count()
    assert not controller.set_param(added, "out_features", 8)
    assert not controller.rename(added, "head")
    assert not controller.delete([added])
    assert not controller.move_nodes({added: (5.0, 5.0)})
    assert not controller.apply_fix(SetParam(added, "out_features", 8))
    assert controller.duplicate([added]) == []
    assert controller.paste('{"nodes": [{"id": "a"}], "edges": []}') == []
    assert said[:6] == [f"no node {added!r}"] * 6 and "no netbuilder nodes" in said[6]
    assert project_to_dict(controller.document.project, Path()) == before
    assert (controller.undo_stack.count(), controller.undo_stack.index()) == (count, count - 1)


def test_a_training_setting_given_as_text_is_refused_with_a_message(controller) -> None:
    said: list[str] = []
    controller.message.connect(said.append)
    assert not controller.set_setting("val_fraction", "abc")  # shown as a percentage: only a number can be
    assert not controller.set_setting("grad_clip", None)
    assert said == ["val_fraction: expected a number from 0 to 0.9, got 'abc'", said[1]]
    assert said[1].startswith("grad_clip: expected a number")
    assert controller.undo_stack.count() == 0 and controller.document.project.training.val_fraction == 0.2


def test_a_connection_dragged_back_onto_its_own_input_leaves_the_document_unchanged(document, controller) -> None:
    edge = next(iter(document.graph.edges))
    assert controller.connect(edge, replacing=edge)
    assert controller.undo_stack.count() == 0 and not controller.modified
    assert edge in document.graph.edges


def test_deleting_nodes_then_undoing_gives_back_the_same_file(document, controller) -> None:
    start = project_to_json(document.project)
    middle = [n.id for n in document.graph.nodes.values()][1:4]
    assert controller.delete(middle)
    controller.undo_stack.undo()
    assert project_to_json(document.project) == start  # the same nodes, edges and order: a save shows no change
    controller.undo_stack.redo()
    assert not set(middle) & set(document.graph.nodes)
