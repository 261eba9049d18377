"""Undoable edits. Each command performs graph methods once, recording the graph's own events; undo applies
the inverse of each event in reverse order and redo replays them. So every edit (a fix, a paste, an auto
layout) is undoable without bespoke undo code, and node ids stay stable across undo and redo.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from netbuilder.analysis import Fix
from netbuilder.graph import Edge, Graph, Node
from netbuilder.graph.events import (
    EdgeAdded,
    EdgeRemoved,
    GraphEvent,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeRenamed,
    ParamChanged,
)


def _snapshot(event: GraphEvent) -> GraphEvent:
    """Events holding a Node keep a copy: the graph may mutate or drop the live object later."""
    if isinstance(event, NodeAdded | NodeRemoved):
        return type(event)(copy.deepcopy(event.node))
    return event


def _restore(graph: Graph, node: Node) -> None:
    graph.add_node(node.block, label=node.label, params=node.params, position=node.position, node_id=node.id)


def _forward(graph: Graph, event: GraphEvent) -> None:
    match event:
        case NodeAdded(node):
            _restore(graph, node)
        case NodeRemoved(node):
            graph.remove_node(node.id)
        case EdgeAdded(edge):
            graph.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
        case EdgeRemoved(edge):
            graph.disconnect(edge)
        case ParamChanged(node_id, name, _, new):
            graph.set_param(node_id, name, new)
        case NodeRenamed(node_id, _, new):
            graph.rename(node_id, new)
        case NodeMoved(node_id, _, new):
            graph.move(node_id, new)


def _backward(graph: Graph, event: GraphEvent) -> None:
    match event:
        case NodeAdded(node):
            graph.remove_node(node.id)
        case NodeRemoved(node):
            _restore(graph, node)
        case EdgeAdded(edge):
            graph.disconnect(edge)
        case EdgeRemoved(edge):
            graph.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
        case ParamChanged(node_id, name, old, _):
            graph.set_param(node_id, name, old)
        case NodeRenamed(node_id, old, _):
            graph.rename(node_id, old)
        case NodeMoved(node_id, old, _):
            graph.move(node_id, old)


class RecordedCommand(QUndoCommand):
    """A named edit: `perform(graph)` runs on the first redo (raising GraphError refuses the whole edit and
    leaves the graph as it was); later redos replay what it did and undos invert it."""

    def __init__(self, graph: Graph, text: str, perform: Callable[[Graph], object]) -> None:
        super().__init__(text)
        self.graph = graph
        self._perform = perform
        self._events: list[GraphEvent] | None = None
        self._fresh = False
        self.result: object = None

    def prepare(self) -> None:
        """Perform the edit now, recording it; a GraphError undoes what was done and propagates. The
        controller calls this before QUndoStack.push, whose own call to redo() then changes nothing."""
        self._events = []
        unsubscribe = self.graph.subscribe(lambda e: self._events.append(_snapshot(e)))
        try:
            self.result = self._perform(self.graph)
        except BaseException:
            unsubscribe()
            for event in reversed(self._events):
                _backward(self.graph, event)
            self._events = None
            raise
        unsubscribe()
        self._fresh = True
        if not self._events:
            self.setObsolete(True)

    def redo(self) -> None:
        if self._events is None:
            self.prepare()
        if self._fresh:
            self._fresh = False
            return
        for event in self._events:
            _forward(self.graph, event)

    def undo(self) -> None:
        for event in reversed(self._events or []):
            _backward(self.graph, event)


# ---- the named edits -------------------------------------------------------------------------------------


def add_node(graph: Graph, block: str, position: tuple[float, float]) -> RecordedCommand:
    return RecordedCommand(graph, f"Add {block}", lambda g: g.add_node(block, position=position).id)


def delete_nodes(graph: Graph, node_ids: list[str], edges: list[Edge] = ()) -> RecordedCommand:
    """Delete nodes (with their edges) and loose edges, as one edit."""

    def perform(g: Graph) -> None:
        for edge in edges:
            if edge.dst not in node_ids and edge.src not in node_ids:
                g.disconnect(edge)
        for node_id in node_ids:
            g.remove_node(node_id)

    what = graph.nodes[node_ids[0]].label if len(node_ids) == 1 else f"{len(node_ids)} nodes"
    if not node_ids:
        what = "Connection" if len(edges) == 1 else f"{len(edges)} connections"
    return RecordedCommand(graph, f"Delete {what}", perform)


def connect(graph: Graph, edge: Edge, replacing: Edge | None = None) -> RecordedCommand:
    """Connect two ports; `replacing` is an edge to take away first (dragging a connected input elsewhere)."""

    def perform(g: Graph) -> None:
        if replacing is not None:
            g.disconnect(replacing)
        g.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)

    return RecordedCommand(graph, "Move Connection" if replacing else "Connect", perform)


def move_nodes(graph: Graph, positions: dict[str, tuple[float, float]], text: str = "Move") -> RecordedCommand:
    def perform(g: Graph) -> None:
        for node_id, position in positions.items():
            g.move(node_id, position)

    label = graph.nodes[next(iter(positions))].label if len(positions) == 1 else f"{len(positions)} nodes"
    return RecordedCommand(graph, f"{text} {label}", perform)


def set_param(graph: Graph, node_id: str, name: str, value: object) -> RecordedCommand:
    label = graph.nodes[node_id].label
    return RecordedCommand(graph, f"Set {name} of {label}", lambda g: g.set_param(node_id, name, value))


def rename(graph: Graph, node_id: str, label: str) -> RecordedCommand:
    return RecordedCommand(graph, f"Rename {graph.nodes[node_id].label}", lambda g: g.rename(node_id, label))


def apply_fix(graph: Graph, fix: Fix) -> RecordedCommand:
    description = fix.describe(graph)
    return RecordedCommand(graph, "Fix: " + description, fix.apply)


def insert_on_edge(graph: Graph, edge: Edge, block: str, position: tuple[float, float]) -> RecordedCommand:
    """Drop a block on an edge: src -> new block -> dst."""

    def perform(g: Graph) -> str:
        new = g.add_node(block, position=position)
        g.disconnect(edge)
        g.connect(edge.src, edge.src_port, new.id, g.input_ports(new.id)[0].name)
        g.connect(new.id, g.spec(new.id).outputs[0].name, edge.dst, edge.dst_port)
        return new.id

    return RecordedCommand(graph, f"Insert {block}", perform)


def custom(graph: Graph, text: str, perform: Callable[[Graph], object]) -> RecordedCommand:
    """Any other edit made of graph methods (paste, auto layout ...)."""
    return RecordedCommand(graph, text, perform)
