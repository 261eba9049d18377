"""Random sequences of the edits a person makes (add, delete, connect, disconnect, set a parameter, rename,
move, paste, apply a suggested fix, change a training setting, point at starting weights), with valid and
invalid arguments, on the pure model: Graph and Project events recorded into an undo history as the editor
does, without Qt.

After every step: the project saved to a file and loaded again is the same file; analysis never raises and
the incrementally kept one equals a fresh one; a refused edit changed nothing. Each undo returns the file
as it was before that edit, each redo the file after it, and undoing everything returns the file the
sequence started from. At the end the project is saved to disk and loaded for real, and its code package is
generated. Bounded for CI by NETBUILDER_FUZZ_EXAMPLES (tests/edit_strategies.py).
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from netbuilder.analysis import Analyzer, analyze
from netbuilder.blocks import BLOCKS
from netbuilder.codegen.model_code import CodegenError
from netbuilder.graph import Edge, GraphError, InvalidParamError, NodeNotFoundError
from netbuilder.graph.clipboard import copy_nodes, paste_nodes
from netbuilder.graph.events import GraphEvent
from netbuilder.pipeline import package_project
from netbuilder.project import (
    Project,
    SettingsError,
    load_project,
    project_from_dict,
    project_to_dict,
    project_to_json,
    save_project,
)
from netbuilder.project.events import ProjectEvent, SettingChanged, StartingWeightsChanged
from netbuilder.project.settings import SETTINGS
from tests.edit_strategies import (
    SEQUENCE_SETTINGS,
    foreign_clipboards,
    labels,
    param_values,
    positions,
    setting_values,
)

SAMPLES = Path(__file__).resolve().parents[1] / "sample_projects"
BLOCK_TYPES = sorted(BLOCKS)
MISSING_ID = "n999999"
Event = GraphEvent | ProjectEvent


@dataclass
class Step:
    """One edit as the undo history keeps it: its events, and the file before and after it."""

    events: list[Event]
    before: dict[str, Any]
    after: dict[str, Any]


class EditSequences(RuleBasedStateMachine):
    """A project edited at random; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="netbuilder-edits-"))
        self.weights = [self.folder / "a.weights.safetensors", self.folder / "b.weights.safetensors", None]
        self.project = Project.new("edits")
        self.analyzer: Analyzer | None = None
        self.done: list[Step] = []
        self.undone: list[Step] = []
        self.start: dict[str, Any] = {}

    # ---- helpers ---------------------------------------------------------------------------------------

    @property
    def graph(self):
        return self.project.graph

    def file(self) -> dict[str, Any]:
        """What the project's file holds (its text is these values, dumped), with starting weights named
        relative to the folder it is saved in."""
        return project_to_dict(self.project, self.folder)

    def edit(
        self, perform: Callable[[], Any], *, must_refuse: bool = False, refused_as: type[Exception] = GraphError
    ) -> Any:
        """Make one edit as the editor does: record its events; a typed refusal reverts what it did. An edit
        that `must_refuse` must be refused with a `refused_as`."""
        before = self.file()
        events: list[Event] = []

        def record(event: Event) -> None:
            events.append(copy.deepcopy(event))  # a Node in an event is the live one: keep it as it was

        stops = [self.graph.subscribe(record), self.project.subscribe(record)]
        try:
            result = perform()
        except (GraphError, ValueError) as err:
            for event in reversed(events):
                self.revert(event)
            assert str(err), "a refusal must say why"
            assert not must_refuse or isinstance(err, refused_as), f"refused with {type(err).__name__}: {err}"
            assert self.file() == before, f"the refused edit ({err}) changed the project"
            return None
        finally:
            for stop in stops:
                stop()
        assert not must_refuse, "an invalid edit went through"
        if events:
            self.done.append(Step(events, before, self.file()))
            self.undone.clear()
        else:
            assert self.file() == before, "an edit changed the project without telling"
        return result

    def revert(self, event: Event) -> None:
        (self.project if isinstance(event, SettingChanged | StartingWeightsChanged) else self.graph).revert(event)

    def replay(self, event: Event) -> None:
        (self.project if isinstance(event, SettingChanged | StartingWeightsChanged) else self.graph).replay(event)

    def some_node(self, data: st.DataObject) -> str:
        """An existing node's id, or now and then one that is not there (a stale view)."""
        return data.draw(st.sampled_from([*sorted(self.graph.nodes), MISSING_ID]))

    # ---- the start -------------------------------------------------------------------------------------

    @initialize(sample=st.sampled_from([None, *sorted(p.name for p in SAMPLES.glob("*.nbproj"))]))
    def open_project(self, sample: str | None) -> None:
        if sample is not None:
            self.project = load_project(SAMPLES / sample)
        self.analyzer = Analyzer(self.graph)
        self.start = self.file()

    # ---- the edits -------------------------------------------------------------------------------------

    @rule(block=st.sampled_from([*BLOCK_TYPES, "NoSuchBlock"]), label=st.none() | labels, at=positions)
    def add_node(self, block: str, label: str | None, at: tuple[float, float]) -> None:
        taken = {n.label for n in self.graph.nodes.values()}
        bad_label = label is not None and (not label.strip() or label in taken)
        added = self.edit(
            lambda: self.graph.add_node(block, label=label, position=at),
            must_refuse=block == "NoSuchBlock" or bad_label,
        )
        if added is not None:
            assert self.graph.node(added.id).label == (label if label is not None else added.label)

    @rule(data=st.data())
    def remove_node(self, data: st.DataObject) -> None:
        node_id = self.some_node(data)
        self.edit(
            lambda: self.graph.remove_node(node_id), must_refuse=node_id == MISSING_ID, refused_as=NodeNotFoundError
        )
        assert node_id not in self.graph.nodes

    @rule(data=st.data())
    def connect(self, data: st.DataObject) -> None:
        src = self.some_node(data)
        outputs = list(self.graph.spec(src).outputs) if src in self.graph.nodes else []
        out = data.draw(st.sampled_from(outputs)) if outputs else None
        upstream = self.graph.upstream([src]) if src in self.graph.nodes else set()
        free = [
            (n, p.name)
            for n in sorted(self.graph.nodes)
            if n not in upstream
            for p in self.graph.input_ports(n)
            if out is not None and out.kind in p.accepts and p.name not in self.graph.inputs_of(n)
        ]
        if free and data.draw(st.sampled_from([True, True, True, False])):  # a drag onto a free input that takes it
            dst, dst_port = data.draw(st.sampled_from(free))
            src_port = out.name
        else:  # anything at all: an occupied input, a kind it does not take, a port that is not there
            dst = self.some_node(data)
            inputs = [p.name for p in self.graph.input_ports(dst)] if dst in self.graph.nodes else []
            src_port = data.draw(st.sampled_from([*(p.name for p in outputs), "nowhere"]))
            dst_port = data.draw(st.sampled_from([*inputs, "nowhere"]))
        bogus = MISSING_ID in (src, dst) or "nowhere" in (src_port, dst_port)
        self.edit(lambda: self.graph.connect(src, src_port, dst, dst_port), must_refuse=bogus)

    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        edges = sorted(self.graph.edges, key=str)
        made_up = Edge(self.some_node(data), "y", self.some_node(data), "x")
        edge = data.draw(st.sampled_from([*edges, made_up]))
        self.edit(lambda: self.graph.disconnect(edge), must_refuse=edge not in edges)

    @rule(data=st.data())
    def set_param(self, data: st.DataObject) -> None:
        node_id = self.some_node(data)
        params = list(self.graph.spec(node_id).params) if node_id in self.graph.nodes else []
        if not params:
            self.edit(lambda: self.graph.set_param(node_id, "no_such_param", 1), must_refuse=True)
            return
        spec = data.draw(st.sampled_from(params))
        value, must_refuse = data.draw(param_values(spec))
        self.edit(
            lambda: self.graph.set_param(node_id, spec.name, value),
            must_refuse=must_refuse,
            refused_as=InvalidParamError,
        )

    @rule(data=st.data(), label=labels)
    def rename(self, data: st.DataObject, label: str) -> None:
        node_id = self.some_node(data)
        others = {n.label for n in self.graph.nodes.values() if n.id != node_id}
        bad = node_id == MISSING_ID or not label.strip() or label in others
        self.edit(lambda: self.graph.rename(node_id, label), must_refuse=bad)

    @rule(data=st.data(), to=positions | st.tuples(st.sampled_from([math.nan, math.inf, -math.inf]), st.just(0.0)))
    def move(self, data: st.DataObject, to: tuple[float, float]) -> None:
        node_id = self.some_node(data)
        if node_id == MISSING_ID:
            self.edit(lambda: self.graph.move(node_id, to), must_refuse=True, refused_as=NodeNotFoundError)
        else:  # a position no file can hold is refused, or the project could not be saved
            self.edit(lambda: self.graph.move(node_id, to), must_refuse=not math.isfinite(to[0]))

    @precondition(lambda self: self.graph.nodes)
    @rule(data=st.data(), offset=positions)
    def copy_and_paste(self, data: st.DataObject, offset: tuple[float, float]) -> None:
        chosen = data.draw(st.lists(st.sampled_from(sorted(self.graph.nodes)), min_size=1, unique=True))
        text = copy_nodes(self.graph, chosen)
        inner = sum(1 for e in self.graph.edges if e.src in chosen and e.dst in chosen)
        pasted = self.edit(lambda: paste_nodes(self.graph, text, offset))
        assert pasted is not None, "pasting a copied selection was refused"
        assert len(pasted) == len(chosen)
        assert sum(1 for e in self.graph.edges if e.src in pasted and e.dst in pasted) == inner

    @rule(text=foreign_clipboards, offset=positions)
    def paste_what_netbuilder_did_not_copy(self, text: str, offset: tuple[float, float]) -> None:
        self.edit(lambda: paste_nodes(self.graph, text, offset))

    @rule(data=st.data())
    def apply_a_suggested_fix(self, data: st.DataObject) -> None:
        fixes = [d.fix for d in analyze(self.graph).diagnostics if d.fix is not None]
        if fixes:
            fix = data.draw(st.sampled_from(fixes))
            before = len(self.done)
            self.edit(lambda: fix.apply(self.graph))
            assert len(self.done) == before + 1, f"the suggested fix {fix.describe(self.graph)!r} did nothing"

    @rule(data=st.data())
    def set_setting(self, data: st.DataObject) -> None:
        spec = data.draw(st.sampled_from(SETTINGS))
        value, must_refuse = data.draw(setting_values(spec))
        self.edit(lambda: self.project.set_setting(spec.name, value), must_refuse=must_refuse, refused_as=SettingsError)

    @rule(data=st.data())
    def point_at_starting_weights(self, data: st.DataObject) -> None:
        weights = data.draw(st.sampled_from(self.weights))
        self.edit(lambda: self.project.set_weights(weights))

    # ---- undo and redo ---------------------------------------------------------------------------------

    @precondition(lambda self: self.done)
    @rule()
    def undo(self) -> None:
        step = self.done.pop()
        for event in reversed(step.events):
            self.revert(event)
        self.undone.append(step)
        assert self.file() == step.before, "undo did not return the project to what it was before the edit"

    @precondition(lambda self: self.undone)
    @rule()
    def redo(self) -> None:
        step = self.undone.pop()
        for event in step.events:
            self.replay(event)
        self.done.append(step)
        assert self.file() == step.after, "redo did not bring the edit back as it was"

    @rule()
    def undo_everything_then_redo_everything(self) -> None:
        end, undone = self.file(), len(self.undone)
        while self.done:
            self.undo()
        assert self.file() == self.start, "undoing every edit did not return the project it started from"
        while len(self.undone) > undone:
            self.redo()
        assert self.file() == end

    # ---- after every step ------------------------------------------------------------------------------

    @invariant()
    def saved_and_loaded_is_the_same_file(self) -> None:
        # The file's text and its reading as load_project does, without the disk (teardown saves for real).
        text = project_to_json(self.project, self.folder)
        loaded = project_from_dict(json.loads(text.encode("utf-8")), path=self.folder / "edits.nbproj")
        assert project_to_json(loaded, self.folder) == text

    def save_and_load_for_real(self) -> None:
        path = self.folder / "edits.nbproj"
        saved = replace(self.project)  # save_project names and points a project at its file: keep ours as it is
        save_project(saved, path)
        assert project_to_json(load_project(path), self.folder) == path.read_text(encoding="utf-8")

    def export_the_code(self) -> None:
        """Whatever the edits left, the code package is generated (or refused with CodegenError, while the
        model has errors) and every script in it is Python that compiles."""
        try:
            package = package_project(self.project)
        except CodegenError:
            return
        for name, text in package.files.items():
            if name.endswith(".py"):
                compile(text, name, "exec")

    @invariant()
    def analysis_kept_current_equals_a_fresh_one(self) -> None:
        if self.analyzer is None:
            return
        fresh, kept = analyze(self.graph), self.analyzer.analysis()
        assert kept.diagnostics == fresh.diagnostics
        assert {n: r.outputs for n, r in kept.results.items()} == {n: r.outputs for n, r in fresh.results.items()}

    def teardown(self) -> None:
        try:
            if self.analyzer is not None:
                self.analyzer.close()
                self.save_and_load_for_real()
                self.export_the_code()
                while self.done:
                    self.undo()
                assert self.file() == self.start
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def test_random_edit_sequences_undo_to_the_start_and_save_as_they_are() -> None:
    run_state_machine_as_test(EditSequences, settings=SEQUENCE_SETTINGS)


def test_undoing_a_delete_puts_the_node_back_in_its_place_in_the_file() -> None:
    project = Project.new("order")
    first = project.graph.add_node("Linear").id
    project.graph.add_node("ReLU")
    start = project_to_json(project)
    events: list[Event] = []
    stop = project.graph.subscribe(lambda event: events.append(copy.deepcopy(event)))
    project.graph.remove_node(first)
    stop()
    for event in reversed(events):
        project.graph.revert(event)
    assert project_to_json(project) == start  # a save after Delete, Undo shows no change


FOREIGN = {
    "a node without its fields": {"nodes": [{"id": "a"}], "edges": []},
    "a label that is not text": {
        "nodes": [{"id": "a", "block": "ReLU", "label": 7, "params": {}, "position": [0, 0]}],
        "edges": [],
    },
    "a position that is not two numbers": {
        "nodes": [{"id": "a", "block": "ReLU", "label": "r", "params": {}, "position": ["0", 0]}],
        "edges": [],
    },
    "a position beyond any number": {
        "nodes": [{"id": "a", "block": "ReLU", "label": "r", "params": {}, "position": [10**400, 0]}],
        "edges": [],
    },
    "two nodes under one id (which would its edges join?)": {
        "nodes": [{"id": "a", "block": "ReLU", "label": f"r{i}", "params": {}, "position": [0, 0]} for i in (1, 2)],
        "edges": [],
    },
    "an edge to a node that was not copied": {
        "nodes": [{"id": "a", "block": "ReLU", "label": "r", "params": {}, "position": [0, 0]}],
        "edges": [["a", "y", "b", "x"]],
    },
}


@pytest.mark.parametrize("what", sorted(FOREIGN))
def test_pasting_what_another_program_put_on_the_clipboard_says_so_and_adds_nothing(what: str) -> None:
    graph = Project.new("paste").graph
    graph.add_node("Linear")
    with pytest.raises(ValueError, match="the clipboard holds no netbuilder nodes"):
        paste_nodes(graph, json.dumps(FOREIGN[what]), (40.0, 40.0))
    assert [node.block for node in graph.nodes.values()] == ["Linear"]


def test_a_node_with_the_longest_label_can_be_copied_and_pasted_beside_itself() -> None:
    graph = Project.new("paste").graph
    longest = graph.add_node("ReLU", label="x" * 256).id  # the most a label holds (MAX_NAME_CHARS)
    (pasted,) = paste_nodes(graph, copy_nodes(graph, [longest]), (40.0, 40.0))
    assert graph.node(pasted).label != graph.node(longest).label
    graph.rename(pasted, graph.node(pasted).label)  # the label it got is one the graph accepts
