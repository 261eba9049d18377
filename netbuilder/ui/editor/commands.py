"""Undoable edits. Each command performs model methods once, recording the model's own events (the graph's,
and the project's for training settings and starting weights); undo applies the inverse of each event in
reverse order and redo replays them. So every edit (a fix, a paste, an auto layout, a setting) is undoable
without bespoke undo code, and node ids stay stable across undo and redo.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QUndoCommand

from netbuilder.analysis import Fix
from netbuilder.analysis.footprint import footprint
from netbuilder.analysis.layout import Orientation
from netbuilder.analysis.placement import place_between, place_group, place_node
from netbuilder.graph import Edge, Graph
from netbuilder.graph.clipboard import paste_nodes
from netbuilder.graph.events import (
    DefinitionEdited,
    GraphEvent,
    NodeAdded,
    NodeRemoved,
)
from netbuilder.project import Project
from netbuilder.project.events import ProjectEvent, SettingChanged
from netbuilder.project.settings import SETTING

PASTE_OFFSET = (40.0, 40.0)  # a paste away from the canvas starts this far from the copied nodes


def _snapshot(event: GraphEvent) -> GraphEvent:
    """Events holding a Node keep a copy: the graph may mutate or drop the live object later."""
    if isinstance(event, NodeAdded | NodeRemoved):
        return dataclasses.replace(event, node=copy.deepcopy(event.node))
    if isinstance(event, DefinitionEdited):  # an edit inside a composite block holds its node too
        return dataclasses.replace(event, event=_snapshot(event.event))
    return event


class RecordedCommand(QUndoCommand):
    """A named edit: `perform(graph)` runs on the first redo (raising GraphError or ValueError refuses the whole
    edit and leaves the model as it was); later redos replay what it did and undos invert it. With `project`,
    the project's events (training settings, starting weights) are recorded too. Commands with the same
    `merge_id` (>= 0) in a row merge into one step, gone when the step ends where it started."""

    def __init__(
        self,
        graph: Graph,
        text: str,
        perform: Callable[[Graph], object],
        *,
        project: Project | None = None,
        merge_id: int = -1,
    ) -> None:
        super().__init__(text)
        self.graph = graph
        self.project = project
        self._perform = perform
        self._merge_id = merge_id
        self._events: list[GraphEvent | ProjectEvent] | None = None
        self._fresh = False
        self.result: object = None

    def prepare(self) -> None:
        """Perform the edit now, recording it; a refusal undoes what was done and propagates. The controller
        calls this before QUndoStack.push, whose own call to redo() then changes nothing."""
        self._events = []
        try:
            self.result = self.record(lambda: self._perform(self.graph))
        except BaseException:
            for event in reversed(self._events):
                self._revert(event)
            self._events = None
            raise
        self._fresh = True
        if not self._events:
            self.setObsolete(True)

    def record(self, perform: Callable[[], object], *, project: Project | None = None) -> object:
        """Run `perform` and add the changes it makes (to the graph, and to the project when there is one) to
        this edit's, so they are undone and redone with it; what it returns. `prepare` records the edit itself
        this way, and a consequence of an edit can join it after (the import's gaps dropped once filled), giving
        the `project` it changes when the edit had none."""
        if project is not None:
            self.project = project

        def hear(event: GraphEvent | ProjectEvent) -> None:
            self._events.append(_snapshot(event))

        stops = [self.graph.subscribe(hear)]
        if self.project is not None:
            stops.append(self.project.subscribe(hear))
        try:
            return perform()
        finally:
            for stop in stops:
                stop()

    def redo(self) -> None:
        if self._events is None:
            self.prepare()
        if self._fresh:
            self._fresh = False
            return
        for event in self._events:
            (self.project if isinstance(event, ProjectEvent) else self.graph).replay(event)

    def undo(self) -> None:
        for event in reversed(self._events or []):
            self._revert(event)

    def _revert(self, event: GraphEvent | ProjectEvent) -> None:
        (self.project if isinstance(event, ProjectEvent) else self.graph).revert(event)

    def id(self) -> int:
        return self._merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, RecordedCommand) or self._merge_id < 0 or other.id() != self._merge_id:
            return False
        self._events = [*(self._events or []), *(other._events or [])]
        self.setText(other.text())
        first, last = self._events[0], self._events[-1]
        self.setObsolete(isinstance(first, SettingChanged) and first.old == getattr(last, "new", None))
        return True


# ---- the named edits -------------------------------------------------------------------------------------


def add_node(
    graph: Graph, block: str, position: tuple[float, float], orientation: Orientation = Orientation.LEFT_TO_RIGHT
) -> RecordedCommand:
    """Add a block at `position`, or in the free spot nearest it when a node is there already (beside the
    flow of `orientation` on a tie, see `placement`)."""

    def perform(g: Graph) -> str:
        new = g.add_node(block, position=position)
        place_node(g, new.id, position, orientation)
        return new.id

    return RecordedCommand(graph, f"Add {block}", perform)


def delete_nodes(graph: Graph, node_ids: list[str], edges: list[Edge] = ()) -> RecordedCommand:
    """Delete nodes (with their edges) and loose edges, as one edit."""

    def perform(g: Graph) -> None:
        for edge in edges:
            if edge.dst not in node_ids and edge.src not in node_ids:
                g.disconnect(edge)
        for node_id in node_ids:
            g.remove_node(node_id)

    what = graph.node(node_ids[0]).label if len(node_ids) == 1 else f"{len(node_ids)} nodes"
    if not node_ids:
        what = "Connection" if len(edges) == 1 else f"{len(edges)} connections"
    return RecordedCommand(graph, f"Delete {what}", perform)


def connect(graph: Graph, edge: Edge, replacing: Edge | None = None) -> RecordedCommand:
    """Connect two ports; `replacing` is an edge to take away first (dragging a connected input elsewhere).

    An input takes one edge, so the edge already into the target input is replaced by this one, in the same
    step; when the new edge is refused (a cycle, a kind the input does not take) nothing is taken away. The
    very edge that is there already is not made again, and one dragged back onto its own input changes nothing
    (no step, so the document stays as saved)."""
    occupant = graph.inputs_of(edge.dst).get(edge.dst_port) if edge.dst in graph.nodes else None
    if occupant in (replacing, edge):
        occupant = None

    def perform(g: Graph) -> None:
        if replacing == edge:
            return
        if replacing is not None:
            g.disconnect(replacing)
        if occupant is not None:
            g.disconnect(occupant)
        g.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)

    if replacing is not None:
        text = "Move Connection"
    else:
        text = "Replace Connection" if occupant is not None else "Connect"
    return RecordedCommand(graph, text, perform)


def move_nodes(graph: Graph, positions: dict[str, tuple[float, float]], text: str = "Move") -> RecordedCommand:
    def perform(g: Graph) -> None:
        for node_id, position in positions.items():
            g.move(node_id, position)

    label = graph.node(next(iter(positions))).label if len(positions) == 1 else f"{len(positions)} nodes"
    return RecordedCommand(graph, f"{text} {label}", perform)


def set_param(graph: Graph, node_id: str, name: str, value: object) -> RecordedCommand:
    label = graph.node(node_id).label
    return RecordedCommand(graph, f"Set {name} of {label}", lambda g: g.set_param(node_id, name, value))


def rename(graph: Graph, node_id: str, label: str) -> RecordedCommand:
    return RecordedCommand(graph, f"Rename {graph.node(node_id).label}", lambda g: g.rename(node_id, label))


def apply_fix(graph: Graph, fix: Fix, orientation: Orientation = Orientation.LEFT_TO_RIGHT) -> RecordedCommand:
    """Apply a suggested fix; a node it adds goes after or before another along the flow of `orientation`."""
    description = fix.describe(graph)
    return RecordedCommand(graph, "Fix: " + description, lambda g: fix.apply(g, orientation))


def insert_on_edge(
    graph: Graph,
    edge: Edge,
    block: str,
    point: tuple[float, float],
    orientation: Orientation = Orientation.LEFT_TO_RIGHT,
) -> RecordedCommand:
    """Drop a block on an edge: src -> new block -> dst, centred on the `point` it was dropped at (so it sits
    on the edge's line) when that is free, else between the two ends, the nodes that follow (along the flow
    of `orientation`) moved on to make room, in the same step."""

    def perform(g: Graph) -> str:
        new = g.add_node(block, position=point)
        g.disconnect(edge)
        g.connect(edge.src, edge.src_port, new.id, g.input_ports(new.id)[0].name)
        g.connect(new.id, g.spec(new.id).outputs[0].name, edge.dst, edge.dst_port)
        width, height = footprint(g, new.id)
        place_between(g, new.id, edge.src, edge.dst, (point[0] - width / 2, point[1] - height / 2), orientation)
        return new.id

    return RecordedCommand(graph, f"Insert {block}", perform)


def paste(
    graph: Graph,
    text: str,
    at: tuple[float, float] | None = None,
    name: str = "Paste",
    orientation: Orientation = Orientation.LEFT_TO_RIGHT,
) -> RecordedCommand:
    """Add copied nodes in free space, keeping their arrangement: centred on `at` (the pointer) or, without
    it, beside where they were copied from (across the flow of `orientation` on a tie)."""

    def perform(g: Graph) -> list[str]:
        new = paste_nodes(g, text, PASTE_OFFSET if at is None else (0.0, 0.0))
        place_group(g, new, at, orientation)
        return new

    return RecordedCommand(graph, name, perform)


_SETTING_MERGE_ID = 0x4E42  # one merge id per setting: edits of the same setting in a row are one step


def set_setting(project: Project, name: str, value: object) -> RecordedCommand:
    """Change one training setting (a SettingsError, a ValueError, refuses it, already here: the command's
    text shows the value as the setting reads it, which only a valid value has)."""
    spec = SETTING[name]
    return RecordedCommand(
        project.graph,
        f"Set {spec.label.lower()} to {spec.shown(spec.check(value))}",
        lambda g: project.set_setting(name, value),
        project=project,
        merge_id=_SETTING_MERGE_ID + list(SETTING).index(name),
    )


def dismiss_import_gaps(project: Project) -> RecordedCommand:
    """Forget the list of calls the import could not map (the person filled the gaps another way, or will):
    the next save writes none, and Undo brings the list back."""
    return RecordedCommand(
        project.graph, "Dismiss the import's missing calls", lambda g: project.set_import_gaps(()), project=project
    )


def forget_starting_weights(project: Project) -> RecordedCommand:
    """Train from the seed again: the project stops pointing at its starting weights. The file stays where it
    is, so Undo brings them back."""
    return RecordedCommand(
        project.graph, "Forget the starting weights", lambda g: project.set_weights(None), project=project
    )


def use_starting_weights(project: Project, weights: Path, name: str) -> RecordedCommand:
    """Train from the weights in `weights` from now on (a run's trained weights, made starting weights); `name`
    is the undo stack's words. Undo points back at the weights before, or at none."""
    return RecordedCommand(project.graph, name, lambda g: project.set_weights(weights), project=project)
