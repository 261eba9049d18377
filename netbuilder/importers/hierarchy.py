"""An imported graph regrouped by the module hierarchy it was traced through.

The importer builds one flat graph, each node knowing the module path it came from (``layer1.0.conv1``; a
function called in a submodule's forward() is placed in that submodule: ``layer1.0.add``). Here every submodule
that holds nodes becomes an instance of a composite definition, deepest first, by the same Group a person uses,
its nodes labelled by their own names inside it (``conv1``), so the generated code keeps torch's attribute paths.
Submodules of one class with the same inside share one definition: where their values differ (a stage's width),
those become the definition's exposed parameters, and sizes that follow the input become auto.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from netbuilder.codegen.identifiers import identifier
from netbuilder.graph import Graph, GraphError
from netbuilder.graph.definitions import REPEAT, Definition, Exposed
from netbuilder.graph.grouping import check_groupable, group


def regroup(graph: Graph, paths: Mapping[str, str], classes: Mapping[str, tuple[str, str]]) -> None:
    """Group `graph` (flat, every model node's module path in `paths`) by module: one instance per submodule
    path that holds nodes (`classes`: module path -> its class, and the name its definition takes)."""
    scope_of = {node_id: _parent(path) for node_id, path in paths.items()}
    members: dict[str, list[str]] = {}
    for node_id in graph.nodes:
        if node_id in scope_of:
            members.setdefault(scope_of[node_id], []).append(node_id)
    scopes = {prefix for scope in members for prefix in _prefixes(scope)}
    local = {node_id: path.rsplit(".", 1)[-1] if scope_of[node_id] else path for node_id, path in paths.items()}
    for depth in sorted({s.count(".") for s in scopes}, reverse=True):
        made: list[tuple[str, str]] = []  # (definition name, instance id)
        for scope in sorted((s for s in scopes if s.count(".") == depth), key=lambda s: _first(members, s, graph)):
            ids = members.get(scope, [])
            if not ids:
                continue
            try:
                check_groupable(graph, set(ids))
            except GraphError:  # a submodule whose inside is not one piece of the data flow stays flat
                members.setdefault(_parent(scope), []).extend(ids)
                continue
            name = graph.free_definition_name(f"imported {scope}")
            instance = group(graph, ids, name, label=graph.free_label(scope))
            _name_inside(graph.definitions[name], local)
            local[instance] = scope.rsplit(".", 1)[-1]
            members.setdefault(_parent(scope), []).append(instance)
            made.append((name, instance))
        _share(graph, made, {name: classes.get(scope_path(graph, i), ("", "Block")) for name, i in made})
    for node_id, name in local.items():
        if node_id in graph.nodes and graph.nodes[node_id].label != name:
            graph.rename(node_id, graph.free_label(name))
    _repeat_chains(graph)


def _repeat_chains(graph: Graph) -> None:
    """A container of copies of one block (an nn.Sequential of N alike layers, labelled 0 .. N-1, each feeding
    the next, all with the same values) becomes that block repeated N times, in each place it is used."""
    for definition in graph.definitions.in_dependency_order():
        repeated = _repeated(definition)
        if repeated is None:
            continue
        block, params, count = repeated
        places = [graph, *(d.graph for d in graph.definitions if d is not definition)]
        for place in places:
            for node_id in place.instances(definition.name):
                _retarget(place, node_id, block, {**params, REPEAT: count})
        graph.remove_definition(definition.name)


def _repeated(definition: Definition) -> tuple[str, dict[str, object], int] | None:
    """(block, its values, how many) where `definition` is a chain of alike copies of one block, else None."""
    inside = definition.graph
    nodes = [inside.by_label(str(i)) if inside.has_label(str(i)) else None for i in range(len(inside.nodes))]
    if len(nodes) < 2 or None in nodes:
        return None
    block = nodes[0].block
    spec = inside.block_spec(block)
    if block not in inside.definitions or not any(p.name == REPEAT for p in spec.params):
        return None
    if any(n.block != block or n.params != nodes[0].params or n.params.get(REPEAT) != 1 for n in nodes):
        return None
    if len(definition.inlets) != 1 or definition.inlets[0].targets != ((nodes[0].id, spec.inputs[0].name),):
        return None
    if len(definition.outlets) != 1 or definition.outlets[0].node != nodes[-1].id:
        return None
    for here, after in itertools.pairwise(nodes):
        if [e.dst for e in inside.outputs_of(here.id)] != [after.id]:
            return None
    params = {name: value for name, value in nodes[0].params.items() if name != REPEAT}
    return block, params, len(nodes)


def scope_path(graph: Graph, instance: str) -> str:
    """The module path an instance was made for (its label while the import is under way)."""
    return graph.nodes[instance].label


def _name_inside(definition: Definition, local: Mapping[str, str]) -> None:
    """Label the nodes inside by their own names (conv1, not layer1.0.conv1), and let every size that follows
    the input be auto, so submodules that differ only in width look alike."""
    inside = definition.graph
    for node_id in inside.nodes:
        inside.rename(node_id, f"\x00{node_id}")  # out of the way first: two inner names may swap
    for node_id in list(inside.nodes):
        inside.rename(node_id, inside.free_label(local.get(node_id, node_id)))
        spec = inside.spec(node_id)
        for param in spec.params:
            if param.inferred and inside.nodes[node_id].params[param.name] is not None:
                inside.set_param(node_id, param.name, None)


@dataclass(frozen=True)
class _Shape:
    """What two definitions must share to be one: class, labels, blocks, parameter names, wiring, ports."""

    cls: str
    nodes: tuple[tuple[str, str, tuple[str, ...]], ...]
    edges: frozenset[tuple[str, str, str, str]]
    inlets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    outlets: tuple[tuple[str, str, str], ...]


def _shape(definition: Definition, cls: str) -> _Shape:
    inside = definition.graph
    label = {n: node.label for n, node in inside.nodes.items()}
    return _Shape(
        cls,
        tuple(sorted((node.label, node.block, tuple(sorted(node.params))) for node in inside.nodes.values())),
        frozenset((label[e.src], e.src_port, label[e.dst], e.dst_port) for e in inside.edges),
        tuple((i.name, tuple((label[n], p) for n, p in i.targets)) for i in definition.inlets),
        tuple((o.name, label[o.node], o.port) for o in definition.outlets),
    )


def _share(graph: Graph, made: list[tuple[str, str]], classes: Mapping[str, tuple[str, str]]) -> None:
    """Merge the definitions just made that have one shape: the first keeps the inside, the values that
    differ become its exposed parameters, every instance uses it; then name it as its first submodule says."""
    alike: dict[tuple[_Shape, tuple], list[tuple[str, str]]] = {}
    for name, instance in made:
        definition = graph.definitions[name]
        alike.setdefault((_shape(definition, classes[name][0]), _written(definition)), []).append((name, instance))
    for group_ in alike.values():
        keep = graph.definitions[group_[0][0]]
        by_label = [{node.label: node for node in graph.definitions[n].graph.nodes.values()} for n, _ in group_]
        varying: dict[tuple[tuple, ...], list[tuple[str, str]]] = {}
        for node in keep.graph.nodes.values():
            for param in sorted(node.params):
                values = tuple(nodes[node.label].params[param] for nodes in by_label)
                if len(set(map(repr, values))) > 1:
                    varying.setdefault(values, []).append((node.id, param))
        exposed, taken = [], set()
        for targets in varying.values():
            first_node, param = targets[0]
            name = param if param not in taken else identifier(f"{keep.graph.nodes[first_node].label}_{param}")
            taken.add(name)
            exposed.append(Exposed(name, tuple(targets)))
        keep.exposed = tuple(exposed)
        keep.forget_spec()
        for (name, instance), nodes in zip(group_, by_label, strict=True):
            values = {e.name: nodes[keep.graph.nodes[e.targets[0][0]].label].params[e.targets[0][1]] for e in exposed}
            _retarget(graph, instance, keep.name, values)
            if name != keep.name:
                graph.remove_definition(name)
        graph.rename_definition(keep.name, graph.free_definition_name(classes[group_[0][0]][1]))


def _written(definition: Definition) -> tuple[tuple[str, str, str], ...]:
    """The values inside that are written into forward() rather than passed to a constructor (a Permute's dims,
    a Slice's bounds, a StochasticDepth's p): definitions that differ in one cannot share a class, whose uses
    would need different code, while a constructor's values become arguments of the class."""
    inside = definition.graph
    written = []
    for node in inside.nodes.values():
        if node.block in inside.definitions:
            continue  # a nested block's values are arguments of its class
        spec = inside.spec(node.id)
        in_constructor = spec.module is not None and spec.forward is None
        for param in spec.params:
            if not in_constructor or param.name in spec.module.omit:
                written.append((node.label, param.name, repr(node.params.get(param.name))))
    return tuple(sorted(written))


def _retarget(graph: Graph, node_id: str, block: str, params: dict[str, object]) -> None:
    """Make instance `node_id` an instance of `block` with `params`, in its place, wired as it was."""
    node = graph.nodes[node_id]
    label, position = node.label, node.position
    feeding = list(graph.inputs_of(node_id).values())
    fed = list(graph.outputs_of(node_id))
    graph.remove_node(node_id)
    graph.add_node(block, label=label, params=params, position=position, node_id=node_id)
    graph.connect_all([*feeding, *fed])


def _parent(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path else ""


def _prefixes(scope: str) -> list[str]:
    parts = scope.split(".") if scope else []
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _first(members: Mapping[str, list[str]], scope: str, graph: Graph) -> int:
    """Where a scope's first node is in the graph's order (scopes are grouped in the order they compute)."""
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}
    return min((order.get(n, 0) for n in members.get(scope, [])), default=0)
