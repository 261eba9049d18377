"""Group and Ungroup: a selection of nodes becomes one instance of a new composite definition, and back.

Grouping moves the selected nodes (ids, labels, parameters, positions unchanged) into the definition's inside;
each outside value that fed the selection becomes an input port (feeding every inner input it fed), each inner
output used outside (or nowhere: an output of the network) an output port, both named after the inner port.
Ungrouping puts an instance's inside back where the instance is, wired as the instance was, with the instance's
exposed values, and removes the definition with its last instance. Both are made of the Graph's own edits, so
one undo entry reverts either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from netbuilder.blocks.spec import MODEL
from netbuilder.graph.definitions import REPEAT, Definition, Exposed, Inlet, Outlet, Ports
from netbuilder.graph.errors import GraphError, named
from netbuilder.graph.events import GraphEvent
from netbuilder.graph.graph import Graph
from netbuilder.graph.model import Edge
from netbuilder.quoting import quoted

T = TypeVar("T")


@dataclass(frozen=True)
class Crossing:
    """The edges that cross a selection's border, and the ports they become."""

    incoming: tuple[Edge, ...]
    outgoing: tuple[Edge, ...]
    inlets: tuple[Inlet, ...]
    sources: tuple[tuple[str, str], ...]
    """The outside (node, output port) that feeds each inlet fed by an edge (the first inlets), in order."""
    outlets: tuple[Outlet, ...]
    exposed: tuple[Exposed, ...] = ()
    through: dict[tuple[str, str], str] = field(default_factory=dict)
    """Inside a definition: ("in" | "out" | "param", the name of its inlet, outlet or exposed parameter) -> the
    new block's port or parameter that takes over what it led to in the selection."""


def crossing(graph: Graph, selected: set[str], owner: Definition | None = None) -> Crossing:
    """The border of `selected`: one inlet per outside value that feeds it (in the order of the inner nodes),
    one outlet per inner output used outside or used nowhere (an output of the network stays one), each named
    after its first inner port (x, x2 ...). Inside definition `owner`, its inlets that feed the selection, its
    outlets that pass out a selected output and its exposed parameters that set selected values go through the
    new block: each becomes one of its inlets or parameters, named as it is, or one of its outlets."""
    incoming = [e for n in selected for e in graph.inputs_of(n).values() if e.src not in selected]
    outgoing = [e for n in selected for e in graph.outputs_of(n) if e.dst not in selected]
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}
    incoming.sort(key=lambda e: (order[e.dst], e.dst_port))
    outgoing.sort(key=lambda e: (order[e.src], e.src_port, order[e.dst], e.dst_port))
    taken: set[str] = set()
    feeds: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for edge in incoming:
        feeds.setdefault((edge.src, edge.src_port), []).append((edge.dst, edge.dst_port))
    inlets = [Inlet(_free(targets[0][1], taken), tuple(targets)) for targets in feeds.values()]
    through: dict[tuple[str, str], str] = {}
    for inlet in owner.inlets if owner is not None else ():
        targets = tuple(t for t in inlet.targets if t[0] in selected)
        if targets:
            inlets.append(Inlet(_free(inlet.name, taken), targets))
            through[("in", inlet.name)] = inlets[-1].name
    unused = [(n, p.name) for n in selected if not graph.outputs_of(n) for p in graph.spec(n).outputs]
    passed_out = {(o.node, o.port) for o in owner.outlets if o.node in selected} if owner is not None else set()
    passed = sorted(
        {(e.src, e.src_port) for e in outgoing} | set(unused) | passed_out, key=lambda out: (order[out[0]], out[1])
    )
    taken = set()
    outlets = tuple(Outlet(_free(port, taken), node, port) for node, port in passed)
    named = {(o.node, o.port): o.name for o in outlets}
    for outlet in owner.outlets if owner is not None else ():
        if outlet.node in selected:
            through[("out", outlet.name)] = named[(outlet.node, outlet.port)]
    exposed: list[Exposed] = []
    taken = set()
    for parameter in owner.exposed if owner is not None else ():
        targets = tuple(t for t in parameter.targets if t[0] in selected)
        if targets:
            exposed.append(Exposed(_free(parameter.name, taken), targets))
            through[("param", parameter.name)] = exposed[-1].name
    return Crossing(tuple(incoming), tuple(outgoing), tuple(inlets), tuple(feeds), outlets, tuple(exposed), through)


def check_groupable(graph: Graph, selected: set[str]) -> None:
    """Raise GraphError when `selected` cannot become one block: nothing selected, a node that is not a layer
    (data, losses and optimizers stay outside), or a path that leaves the selection and comes back (the one
    block would feed itself)."""
    if not selected:
        raise GraphError("select the blocks to group first")
    for node_id in selected:
        if graph.spec(node_id).role != MODEL:
            raise GraphError(f"{named(graph.node(node_id))} is not a layer: only layers can be grouped into a block")
    border = crossing(graph, selected)
    outside = graph.downstream(e.dst for e in border.outgoing) - selected
    if any(e.src in outside for n in selected for e in graph.inputs_of(n).values()):
        raise GraphError("a path leaves the selection and comes back into it: add the blocks on it to the selection")


def group(graph: Graph, node_ids: Iterable[str], name: str, label: str | None = None) -> str:
    """Make `node_ids` one instance of a new definition `name`; returns the instance's id. The graph must be a
    project's top graph or a definition's inside; the new definition joins the project. A refusal (a name or
    label that cannot be) leaves the graph as it was."""
    selected = set(node_ids)
    check_groupable(graph, selected)
    top = _top(graph)
    if name in top.definitions or not name.strip():
        raise GraphError(f"a block named {quoted(name)} already exists: choose another name")
    return _all_or_nothing(top, lambda: _group(graph, top, selected, name, label))


def _group(graph: Graph, top: Graph, selected: set[str], name: str, label: str | None) -> str:
    owner = top.definitions.get(graph.owner) if graph.owner is not None else None
    border = crossing(graph, selected, owner)
    inside = Graph(top.definitions, owner=name)
    kept = [graph.nodes[n] for n in graph.nodes if n in selected]
    for node in kept:
        inside.add_node(node.block, label=node.label, params=node.params, position=node.position, node_id=node.id)
    inside.connect_all([e for n in kept for e in graph.outputs_of(n.id) if e.dst in selected])
    corner = (min(n.position[0] for n in kept), min(n.position[1] for n in kept))
    definition = Definition(name, inside, border.inlets, border.outlets, border.exposed)
    top.add_definition(definition)
    # The instance comes in before the selection goes, and an opened block's ports move to it in between, so
    # they name nodes that exist after every step (undo and redo replay these steps one by one).
    instance = graph.add_node(name, label=label, position=corner)
    graph.connect_all(
        [
            Edge(src, src_port, instance.id, i.name)
            for (src, src_port), i in zip(border.sources, border.inlets[: len(border.sources)], strict=True)
        ]
    )
    if owner is not None:
        top.set_ports(owner.name, _into_instance(owner, selected, instance.id, border.through))
    for node in kept:
        graph.remove_node(node.id)
    port_of_output = {(o.node, o.port): o.name for o in border.outlets}
    graph.connect_all(
        [Edge(instance.id, port_of_output[(e.src, e.src_port)], e.dst, e.dst_port) for e in border.outgoing]
    )
    return instance.id


def _into_instance(owner: Definition, selected: set[str], instance: str, through: dict[tuple[str, str], str]) -> Ports:
    """`owner`'s ports and parameters once `selected` is `instance`: what led into the selection leads to the
    instance's port or parameter that took it over."""

    def into(kind: str, name: str) -> Callable[[tuple[str, str]], tuple[tuple[str, str], ...] | None]:
        return lambda target: ((instance, through[(kind, name)]),) if target[0] in selected else None

    return (
        tuple(Inlet(i.name, _moved(i.targets, into("in", i.name))) for i in owner.inlets),
        tuple(Outlet(o.name, instance, through[("out", o.name)]) if o.node in selected else o for o in owner.outlets),
        tuple(Exposed(e.name, _moved(e.targets, into("param", e.name))) for e in owner.exposed),
    )


def _out_of_instance(owner: Definition, instance: str, definition: Definition, ids: dict[str, str]) -> Ports:
    """`owner`'s ports and parameters once `instance` (of `definition`) is ungrouped, its inner nodes now `ids`:
    what led to the instance's ports and parameters leads to the inner ones they led to."""
    inlets = {i.name: i.targets for i in definition.inlets}
    exposed = {e.name: e.targets for e in definition.exposed}
    outlets = {o.name: o for o in definition.outlets}

    def out_of(table: dict[str, tuple[tuple[str, str], ...]]) -> Callable[[tuple[str, str]], Any]:
        return lambda target: tuple((ids[n], p) for n, p in table[target[1]]) if target[0] == instance else None

    return (
        tuple(Inlet(i.name, _moved(i.targets, out_of(inlets))) for i in owner.inlets),
        tuple(
            Outlet(o.name, ids[outlets[o.port].node], outlets[o.port].port) if o.node == instance else o
            for o in owner.outlets
        ),
        tuple(Exposed(e.name, _moved(e.targets, out_of(exposed))) for e in owner.exposed),
    )


def _moved(
    targets: tuple[tuple[str, str], ...], move: Callable[[tuple[str, str]], tuple[tuple[str, str], ...] | None]
) -> tuple[tuple[str, str], ...]:
    """`targets` with each one `move` moves replaced by where it goes, in order, each once."""
    found: list[tuple[str, str]] = []
    for target in targets:
        for place in move(target) or (target,):
            if place not in found:
                found.append(place)
    return tuple(found)


def ungroup(graph: Graph, node_id: str) -> list[str]:
    """Put instance `node_id`'s inside back in its place; returns the ids of the nodes put back (their own ids
    and labels where free). The definition goes with its last instance."""
    definition = graph.definition_of(node_id)
    if definition is None:
        raise GraphError(f"{named(graph.node(node_id))} is not a composite block: there is nothing to ungroup")
    return _all_or_nothing(_top(graph), lambda: _ungroup_copies(graph, node_id, definition))


def expand_all(graph: Graph) -> None:
    """Ungroup every composite instance, level by level, until the graph is flat (the network as it runs).
    The project's definitions go with their last instances."""
    while True:
        instances = [node_id for node_id in graph.nodes if graph.definition_of(node_id) is not None]
        if not instances:
            return
        for node_id in instances:
            ungroup(graph, node_id)


COPY_GAP = 400.0  # between the insides of a repeated block's copies put back side by side: room for a node


def _ungroup_copies(graph: Graph, node_id: str, definition: Definition) -> list[str]:
    """A Repeat x N instance is N copies of its inside, each feeding the next: each goes back, side by side."""
    count = int(graph.node(node_id).params.get(REPEAT, 1))
    if count == 1:
        return _ungroup(graph, node_id, definition)
    graph.set_param(node_id, REPEAT, 1)
    inside = [n.position for n in definition.graph.nodes.values()]
    step = max(x for x, _ in inside) - min(x for x, _ in inside) + COPY_GAP
    instance = graph.node(node_id)
    fed = list(graph.outputs_of(node_id))
    for edge in fed:
        graph.disconnect(edge)
    copies = [node_id]
    for number in range(1, count):
        x, y = instance.position
        copy = graph.add_node(instance.block, params=instance.params, position=(x + number * step, y))
        graph.connect(copies[-1], definition.outlets[0].name, copy.id, definition.inlets[0].name)
        copies.append(copy.id)
    graph.connect_all([Edge(copies[-1], e.src_port, e.dst, e.dst_port) for e in fed])
    return [n for copy in copies for n in _ungroup(graph, copy, definition)]


def _ungroup(graph: Graph, node_id: str, definition: Definition) -> list[str]:
    instance = graph.node(node_id)
    inside = definition.graph
    values = definition.inner_values(instance.params)
    corner = (
        min((n.position[0] for n in inside.nodes.values()), default=0.0),
        min((n.position[1] for n in inside.nodes.values()), default=0.0),
    )
    shift = (instance.position[0] - corner[0], instance.position[1] - corner[1])
    feeding = dict(graph.inputs_of(node_id))
    fed = list(graph.outputs_of(node_id))
    ids: dict[str, str] = {}
    for inner in inside.nodes.values():
        label = graph.free_label(inner.label)
        node = graph.add_node(
            inner.block,
            label=label,
            params=values[inner.id],
            position=(inner.position[0] + shift[0], inner.position[1] + shift[1]),
            node_id=inner.id if inner.id not in graph.nodes else None,
        )
        ids[inner.id] = node.id
    edges = [Edge(ids[e.src], e.src_port, ids[e.dst], e.dst_port) for e in inside.edges]
    for inlet in definition.inlets:
        source = feeding.get(inlet.name)
        if source is not None:
            edges += [Edge(source.src, source.src_port, ids[n], port) for n, port in inlet.targets]
    graph.connect_all(edges)
    top = _top(graph)
    if graph.owner is not None:  # while both are there (see _group)
        owner = top.definitions[graph.owner]
        top.set_ports(owner.name, _out_of_instance(owner, node_id, definition, ids))
    graph.remove_node(node_id)
    outlets = {o.name: o for o in definition.outlets}
    graph.connect_all([Edge(ids[outlets[e.src_port].node], outlets[e.src_port].port, e.dst, e.dst_port) for e in fed])
    if not _used(top, definition.name):
        top.remove_definition(definition.name)
    return list(ids.values())


def _all_or_nothing(top: Graph, edit: Callable[[], T]) -> T:
    """Run `edit`, made of several graph edits; when the graph refuses one, revert those made before it."""
    done: list[GraphEvent] = []
    stop = top.subscribe(done.append)
    try:
        result = edit()
    except GraphError:
        stop()
        for event in reversed(done):
            top.revert(event)
        raise
    except BaseException:
        stop()
        raise
    stop()
    return result


def _top(graph: Graph) -> Graph:
    """The graph that keeps the project's definitions (`graph` itself, or the top of a definition's inside)."""
    return graph.definitions.top or graph


def _used(top: Graph, name: str) -> bool:
    return any(n.block == name for n in top.nodes.values()) or any(name in d.uses() for d in top.definitions)


def _free(stem: str, taken: set[str]) -> str:
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}{n}"
    taken.add(name)
    return name
