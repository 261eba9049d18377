"""Suggested fixes as data. Each can describe itself against a graph and apply itself through graph methods.

The window wraps `apply` in one undoable command; the command line lists `describe` under each problem.
Every `apply` takes the layout direction, so a fix that adds a node places it after or before another the
way the flow runs (see `placement`); the fixes that add none take it too, so one call applies any fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netbuilder.analysis.layout import Orientation
from netbuilder.analysis.placement import place_beside, place_between
from netbuilder.blocks import catalogue
from netbuilder.graph import Edge, Graph


def _describe_value(value: Any) -> str:
    return "auto" if value is None else repr(value)


@dataclass(frozen=True)
class SetParam:
    """Set one parameter of one node (None: back to auto)."""

    node: str
    param: str
    value: Any

    def describe(self, graph: Graph) -> str:
        return f"set {self.param} of {graph.node(self.node).label} to {_describe_value(self.value)}"

    def apply(self, graph: Graph, orientation: Orientation = Orientation.LEFT_TO_RIGHT) -> None:
        graph.set_param(self.node, self.param, self.value)


@dataclass(frozen=True)
class InsertNode:
    """Insert a new `block` node on `edge`: edge.src -> new -> edge.dst, placed between the two (making room
    when there is none, see `placement`)."""

    edge: Edge
    block: str
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self, graph: Graph) -> str:
        return f"insert {self.block} between {graph.node(self.edge.src).label} and {graph.node(self.edge.dst).label}"

    def apply(self, graph: Graph, orientation: Orientation = Orientation.LEFT_TO_RIGHT) -> str:
        new = graph.add_node(self.block, params=self.params, position=graph.node(self.edge.src).position)
        graph.disconnect(self.edge)
        graph.connect(self.edge.src, self.edge.src_port, new.id, graph.input_ports(new.id)[0].name)
        graph.connect(new.id, graph.spec(new.id).outputs[0].name, self.edge.dst, self.edge.dst_port)
        place_between(graph, new.id, self.edge.src, self.edge.dst, orientation=orientation)
        return new.id


@dataclass(frozen=True)
class BypassNode:
    """Remove a one-in, one-out node and wire its source straight to its consumers."""

    node: str

    def describe(self, graph: Graph) -> str:
        return f"remove {graph.node(self.node).label} and connect around it"

    def apply(self, graph: Graph, orientation: Orientation = Orientation.LEFT_TO_RIGHT) -> None:
        (source,) = graph.inputs_of(self.node).values()
        consumers = list(graph.outputs_of(self.node))
        graph.remove_node(self.node)
        for edge in consumers:
            graph.connect(source.src, source.src_port, edge.dst, edge.dst_port)


@dataclass(frozen=True)
class AddNode:
    """Add a `block` node in the free spot nearest the spot after `near` along the flow (with no `near`,
    before the graph's first node), its inputs fed from `feeds` (port, source node, source port) and its
    outputs wired to `consumers` (output port, target node, target port)."""

    block: str
    near: str | None = None
    feeds: tuple[tuple[str, str, str], ...] = ()
    consumers: tuple[tuple[str, str, str], ...] = ()

    def describe(self, graph: Graph) -> str:
        article = "an" if self.block[0] in "AEIOU" else "a"
        text = f"add {article} {self.block} node"
        if self.feeds:
            text += " fed by " + ", ".join(f"{graph.node(src).label}.{port}" for _, src, port in self.feeds)
        if self.consumers:
            text += " feeding " + ", ".join(f"{graph.node(dst).label}.{port}" for _, dst, port in self.consumers)
        return text

    def apply(self, graph: Graph, orientation: Orientation = Orientation.LEFT_TO_RIGHT) -> str:
        new = graph.add_node(self.block, position=graph.node(self.near).position if self.near else (0.0, 0.0))
        for port, src, src_port in self.feeds:
            graph.connect(src, src_port, new.id, port)
        for port, dst, dst_port in self.consumers:
            graph.connect(new.id, port, dst, dst_port)
        place_beside(graph, new.id, self.near, orientation)
        return new.id


@dataclass(frozen=True)
class ReplaceNode:
    """Put a `block` node in the place of `node`, keeping its id, label, position, the wiring of the ports
    both blocks have and the parameters both have (sizes the new block infers start from auto)."""

    node: str
    block: str

    def describe(self, graph: Graph) -> str:
        node = graph.node(self.node)
        return f"replace {node.label} ({node.block}) with a {self.block}"

    def apply(self, graph: Graph, orientation: Orientation = Orientation.LEFT_TO_RIGHT) -> str:
        old = graph.node(self.node)
        spec = catalogue.get(self.block)
        params = {p.name: old.params[p.name] for p in spec.params if p.name in old.params and not p.inferred}
        inputs = dict(graph.inputs_of(self.node))
        outputs = list(graph.outputs_of(self.node))
        graph.remove_node(self.node)
        new = graph.add_node(self.block, label=old.label, params=params, position=old.position, node_id=old.id)
        ports = {port.name for port in spec.input_ports(new.params)}
        for port, edge in inputs.items():
            if port in ports:
                graph.connect(edge.src, edge.src_port, new.id, port)
        for edge in outputs:
            if any(port.name == edge.src_port for port in spec.outputs):
                graph.connect(new.id, edge.src_port, edge.dst, edge.dst_port)
        return new.id


Fix = SetParam | InsertNode | BypassNode | AddNode | ReplaceNode
