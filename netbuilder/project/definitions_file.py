"""A project's composite definitions <-> the `definitions` list of a netbuilder file (a project file or a block
file), and the measures that keep them within bounds before anything is built.

Each definition's inside is a graph written and read as the top graph is (graph_file); around it go its name,
description, inputs (inlets), outputs (outlets) and parameters (exposed). Reading puts each definition after
those it holds, refuses one that contains itself, and counts nesting and expanded size from the lists first,
so a file cannot make the reader build millions of nodes. `unsavable` reads a project's definitions back before
a save, so what could not be opened again is said while the work is in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import ParamError
from netbuilder.blocks.spec import TENSOR
from netbuilder.graph import Graph, GraphError
from netbuilder.graph.definitions import MAX_REPEAT, REPEAT, Definition, Definitions, Exposed, Inlet, Outlet
from netbuilder.graph.limits import (
    MAX_DEFINITIONS,
    MAX_DOC_CHARS,
    MAX_EXPANDED_NODES,
    MAX_NESTING,
    MAX_PORTS,
    name_problem,
    unencodable_char,
)
from netbuilder.graph.model import Node
from netbuilder.project.errors import ProjectError
from netbuilder.project.file_checks import check_keys, expect_list, expect_object, expect_text, is_int, shown_value
from netbuilder.project.graph_file import (
    counted_lists,
    endpoint,
    graph_to_dict,
    node_label,
    port_list,
    read_nodes_and_edges,
)
from netbuilder.quoting import cut, quoted

_DEFINITION_KEYS = ("name", "doc", "nodes", "edges", "inlets", "outlets", "exposed")
_INLET_KEYS = ("name", "targets")
_OUTLET_KEYS = ("name", "node", "port")
_EXPOSED_KEYS = ("name", "targets")

# ---- writing ------------------------------------------------------------------------------------------------


def definitions_to_list(definitions: Iterable[Definition]) -> list[dict[str, Any]]:
    """Composite definitions as the file's `definitions` list holds them, in the order given (a block file
    writes the same list)."""
    return [_definition_to_dict(d, f"definitions[{i}]") for i, d in enumerate(definitions)]


def _definition_to_dict(definition: Definition, where: str) -> dict[str, Any]:
    return {
        "name": definition.name,
        "doc": definition.doc,
        **graph_to_dict(definition.graph, where),
        "inlets": [{"name": i.name, "targets": [list(t) for t in i.targets]} for i in definition.inlets],
        "outlets": [{"name": o.name, "node": o.node, "port": o.port} for o in definition.outlets],
        "exposed": [{"name": e.name, "targets": [list(t) for t in e.targets]} for e in definition.exposed],
    }


# ---- reading ------------------------------------------------------------------------------------------------


def read_definitions(value: Any, graph: Graph, where: str = "definitions") -> list[str]:
    """Check a `definitions` list (parsed JSON) and add each definition to `graph`, a project's top graph;
    returns their names in list order.

    A definition may use one listed before or after it, or one `graph` already has: each is read after those it
    uses, through the Graph like the top graph's nodes, and they join the graph's definitions in list order
    after its own. Refused with a ProjectError naming the field: more than MAX_DEFINITIONS, a name a block
    already has, a definition that contains itself (directly or through others), nesting deeper than
    MAX_NESTING, a definition larger than MAX_EXPANDED_NODES with its blocks expanded, more than MAX_PORTS
    ports or parameters, and anything wrong inside one. On a refusal `graph` is left as it was.
    """
    items = expect_list(value, where)
    if len(graph.definitions) + len(items) > MAX_DEFINITIONS:
        own = f" and the project's {len(graph.definitions):,}" if len(graph.definitions) else ""
        raise ProjectError(where, f"{len(items):,} blocks{own}; a project holds at most {MAX_DEFINITIONS:,}")
    heads: list[_Head] = []
    index_of: dict[str, int] = {}
    for i, item in enumerate(items):
        head = _definition_head(graph, item, f"{where}[{i}]")
        if head.name in index_of:
            raise ProjectError(
                f"{where}[{i}].name",
                f"duplicate name {shown_value(head.name)} ({where}[{index_of[head.name]}] has it too)",
            )
        index_of[head.name] = i
        heads.append(head)
    uses = {
        head.name: [(j, block) for j, (block, _) in enumerate(_uses_of_items(head.nodes)) if block in index_of]
        for head in heads
    }
    try:
        order = _dependency_order(uses)
    except _CycleError as cycle:
        at = f"{where}[{index_of[cycle.name]}].nodes[{cycle.node}].block"
        raise ProjectError(at, cycle.reason()) from None
    sizes, depths = _measures(graph.definitions)
    for name in order:
        blocks = _uses_of_items(heads[index_of[name]].nodes)
        sizes[name], depths[name] = _expanded_size(blocks, sizes), _depth(blocks, depths)
        at = f"{where}[{index_of[name]}].nodes"
        if depths[name] > MAX_NESTING:
            raise ProjectError(at, f"blocks nest {depths[name]:,} deep in it; blocks nest at most {MAX_NESTING} deep")
        if sizes[name] > MAX_EXPANDED_NODES:
            raise ProjectError(at, _too_many_expanded(sizes[name]))
    before = len(graph.definitions)
    added: list[int] = []
    try:
        for name in order:
            i = index_of[name]
            definition, exposed = _read_definition(graph, heads[i], f"{where}[{i}]")
            graph.add_definition(definition, before + sum(1 for j in added if j < i))
            added.append(i)
            for k, parameter in enumerate(exposed):  # through the Graph, so its rules hold (a name codegen takes)
                try:
                    graph.expose(definition.name, parameter)
                except GraphError as err:
                    raise ProjectError(f"{where}[{i}].exposed[{k}]", str(err)) from None
    except BaseException:
        for i in reversed(added):  # each uses only those added before it, so this order is always allowed
            graph.remove_definition(heads[i].name)
        raise
    return [head.name for head in heads]


@dataclass(frozen=True)
class _Head:
    """A definition's object with its name and node and edge lists checked, before anything is built."""

    name: str
    obj: dict[str, Any]
    nodes: list[Any]
    edges: list[Any]


def _definition_head(graph: Graph, item: Any, where: str) -> _Head:
    obj = expect_object(item, where)
    check_keys(obj, where, _DEFINITION_KEYS, required=_DEFINITION_KEYS)
    name = expect_text(obj["name"], f"{where}.name")
    problem = name_problem(name, "a block's name")
    if problem:
        raise ProjectError(f"{where}.name", problem)
    if name in catalogue.BLOCKS or name in graph.definitions:
        raise ProjectError(f"{where}.name", f"a block named {shown_value(name)} already exists: choose another name")
    nodes, edges = counted_lists(obj, where, "a block")
    for key in ("inlets", "outlets", "exposed"):
        listed = expect_list(obj[key], f"{where}.{key}")
        if len(listed) > MAX_PORTS:
            raise ProjectError(f"{where}.{key}", f"{len(listed):,} items; a block has at most {MAX_PORTS}")
    return _Head(name, obj, nodes, edges)


def _read_definition(graph: Graph, head: _Head, where: str) -> tuple[Definition, tuple[Exposed, ...]]:
    """The definition `head` describes, with no parameters yet, and its parameters (exposed once it is added)."""
    inside = Graph(graph.definitions, owner=head.name)
    read_nodes_and_edges(inside, head.nodes, head.edges, where)
    doc = head.obj["doc"]
    if not isinstance(doc, str):
        raise ProjectError(f"{where}.doc", f"expected a string, got {shown_value(doc)}")
    if len(doc) > MAX_DOC_CHARS or unencodable_char(doc):
        raise ProjectError(
            f"{where}.doc", f"expected text of at most {MAX_DOC_CHARS:,} characters, got {shown_value(doc)}"
        )
    inlets = _read_inlets(inside, head.obj["inlets"], f"{where}.inlets")
    outlets = _read_outlets(inside, head.obj["outlets"], f"{where}.outlets")
    exposed = _read_exposed(inside, head.obj["exposed"], f"{where}.exposed")
    return Definition(head.name, inside, inlets, outlets, (), doc), exposed


def _read_inlets(inside: Graph, items: list[Any], where: str) -> tuple[Inlet, ...]:
    """A composite's inputs: each feeds one or more inner inputs that take a tensor, no inner input twice and
    none an inner edge already feeds."""
    names: dict[str, int] = {}
    fed: dict[tuple[str, str], str] = {}
    inlets = []
    for k, item in enumerate(items):
        at = f"{where}[{k}]"
        obj = expect_object(item, at)
        check_keys(obj, at, _INLET_KEYS, required=_INLET_KEYS)
        name = _port_name(obj["name"], at, names, k, where)
        targets = expect_list(obj["targets"], f"{at}.targets")
        if not targets:
            raise ProjectError(f"{at}.targets", "expected at least one [node id, port name]: the inputs it feeds")
        read = []
        for m, target in enumerate(targets):
            there = f"{at}.targets[{m}]"
            node_id, port = endpoint(target, there)
            node = _inner_node(inside, node_id, there)
            inputs = {p.name: p for p in inside.input_ports(node_id)}
            if port not in inputs:
                raise ProjectError(
                    there,
                    f"{node_label(node)} ({node.block}) has no input {shown_value(port)} ({port_list(list(inputs))})",
                )
            if TENSOR not in inputs[port].accepts:
                raise ProjectError(
                    there,
                    f"{node_label(node)}.{port} takes a {' or '.join(sorted(inputs[port].accepts))}; "
                    "a block's inputs carry tensors",
                )
            edge = inside.inputs_of(node_id).get(port)
            if edge is not None:
                source = node_label(inside.nodes[edge.src])
                raise ProjectError(
                    there, f"{node_label(node)}.{port} is already fed by {source}; an input takes one source"
                )
            if (node_id, port) in fed:
                raise ProjectError(
                    there,
                    f"{node_label(node)}.{port} is already fed by {fed[(node_id, port)]}; an input takes one source",
                )
            fed[(node_id, port)] = at
            read.append((node_id, port))
        inlets.append(Inlet(name, tuple(read)))
    return tuple(inlets)


def _read_outlets(inside: Graph, items: list[Any], where: str) -> tuple[Outlet, ...]:
    """A composite's outputs: each passes out one inner output that carries a tensor."""
    names: dict[str, int] = {}
    outlets = []
    for k, item in enumerate(items):
        at = f"{where}[{k}]"
        obj = expect_object(item, at)
        check_keys(obj, at, _OUTLET_KEYS, required=_OUTLET_KEYS)
        name = _port_name(obj["name"], at, names, k, where)
        node_id = expect_text(obj["node"], f"{at}.node")
        node = _inner_node(inside, node_id, f"{at}.node")
        port = expect_text(obj["port"], f"{at}.port")
        outputs = {p.name: p for p in inside.spec(node_id).outputs}
        if port not in outputs:
            raise ProjectError(
                f"{at}.port",
                f"{node_label(node)} ({node.block}) has no output {shown_value(port)} ({port_list(list(outputs))})",
            )
        if outputs[port].kind != TENSOR:
            raise ProjectError(
                f"{at}.port",
                f"{node_label(node)}.{port} carries a {outputs[port].kind}; a block's outputs carry tensors",
            )
        outlets.append(Outlet(name, node_id, port))
    return tuple(outlets)


def _read_exposed(inside: Graph, items: list[Any], where: str) -> tuple[Exposed, ...]:
    """A composite's parameters: each sets one or more inner parameters, none of them twice, all able to take
    its default (the first one's value inside), and none that decides how many inputs a block has (an
    instance's value would leave inner edges on ports that are gone). Checked here by field; Graph.expose,
    which adds them, checks the rest (a name codegen can take)."""
    names: dict[str, int] = {}
    set_by: dict[tuple[str, str], str] = {}
    exposed = []
    for k, item in enumerate(items):
        at = f"{where}[{k}]"
        obj = expect_object(item, at)
        check_keys(obj, at, _EXPOSED_KEYS, required=_EXPOSED_KEYS)
        name = _port_name(obj["name"], at, names, k, where)
        targets = expect_list(obj["targets"], f"{at}.targets")
        if not targets:
            raise ProjectError(f"{at}.targets", "expected at least one [node id, parameter name]: the ones it sets")
        read: list[tuple[str, str]] = []
        for m, target in enumerate(targets):
            there = f"{at}.targets[{m}]"
            node_id, param = endpoint(target, there, "parameter name")
            node = _inner_node(inside, node_id, there)
            spec = inside.spec(node_id)
            params = [p.name for p in spec.params]
            if param not in params:
                has = f"it has {', '.join(params)}" if params else "it has no parameters"
                raise ProjectError(
                    there, f"{node_label(node)} ({node.block}) has no parameter {shown_value(param)} ({has})"
                )
            if param == spec.variadic:
                raise ProjectError(
                    there,
                    f"{node_label(node)}.{param} sets how many inputs it has, so it cannot be a parameter of the block",
                )
            if (node_id, param) in set_by:
                raise ProjectError(there, f"{node_label(node)}.{param} is already set by {set_by[(node_id, param)]}")
            if read:
                first_id, first_param = read[0]
                default = inside.nodes[first_id].params[first_param]
                try:
                    spec.param(param).validate(default)
                except ParamError as err:
                    raise ProjectError(
                        there,
                        f"{node_label(node)}.{param} cannot take the value of "
                        f"{node_label(inside.nodes[first_id])}.{first_param}: {err}",
                    ) from None
            set_by[(node_id, param)] = at
            read.append((node_id, param))
        exposed.append(Exposed(name, tuple(read)))
    return tuple(exposed)


def _port_name(value: Any, at: str, names: dict[str, int], index: int, where: str) -> str:
    """The name of a composite's port or parameter, unique in its list."""
    name = expect_text(value, f"{at}.name")
    problem = name_problem(name, "a name")
    if problem:
        raise ProjectError(f"{at}.name", problem)
    if name in names:
        raise ProjectError(f"{at}.name", f"duplicate name {shown_value(name)} ({where}[{names[name]}] has it too)")
    names[name] = index
    return name


def _inner_node(inside: Graph, node_id: str, where: str) -> Node:
    if node_id not in inside.nodes:
        raise ProjectError(where, f"no node inside the block has the id {shown_value(node_id)}")
    return inside.nodes[node_id]


# ---- measures: dependency order, expanded size, nesting -----------------------------------------------------


class _CycleError(Exception):
    """A definition that would contain itself: `name` holds, at node `node`, an instance of `used`, which is
    `name` or holds it; `chain` is the way round, from `name` back to it."""

    def __init__(self, name: str, node: int, used: str, chain: list[str]) -> None:
        super().__init__(name)
        self.name, self.node, self.used, self.chain = name, node, used, chain

    def reason(self) -> str:
        if self.used == self.name:
            return f"{shown_value(self.name)} cannot go inside itself: a block cannot contain itself"
        way = cut(" › ".join(self.chain))
        return f"{shown_value(self.used)} cannot go inside {shown_value(self.name)}, which it contains ({way})"


def _dependency_order(uses: dict[str, list[tuple[int, str]]]) -> list[str]:
    """The names of `uses` (definition -> (node index, definition it holds) for each instance in it) with each
    after those it holds; _CycleError for one that contains itself. Iterative: nesting may be deep."""
    state: dict[str, bool] = {}  # False while its uses are being visited, True once placed
    order: list[str] = []
    for root in uses:
        if root in state:
            continue
        state[root] = False
        stack = [(root, 0)]
        while stack:
            name, k = stack[-1]
            if k == len(uses[name]):
                stack.pop()
                state[name] = True
                order.append(name)
                continue
            stack[-1] = (name, k + 1)
            node, used = uses[name][k]
            if used not in state:
                state[used] = False
                stack.append((used, 0))
            elif not state[used]:  # on the stack: `used` holds `name`, directly or not
                names = [n for n, _ in stack]
                raise _CycleError(name, node, used, [name, *names[names.index(used) :]])
    return order


def _measures(definitions: Definitions) -> tuple[dict[str, int], dict[str, int]]:
    """Each definition's expanded size (its nodes and everything inside its instances, at every depth) and
    nesting depth (1 for one made of catalogue blocks only)."""
    uses = {
        d.name: [(j, n.block) for j, n in enumerate(d.graph.nodes.values()) if n.block in definitions]
        for d in definitions
    }
    sizes: dict[str, int] = {}
    depths: dict[str, int] = {}
    for name in _dependency_order(uses):
        blocks = _uses_of_nodes(definitions[name].graph)
        sizes[name], depths[name] = _expanded_size(blocks, sizes), _depth(blocks, depths)
    return sizes, depths


def _uses_of_items(nodes: list[Any]) -> list[tuple[str, int]]:
    """Each node item's block and how many copies of it run (an instance's `repeat`), as read so far: a block
    that is not a string counts as none and a repeat that is no count as 1 (each is refused when read)."""
    uses = []
    for item in nodes:
        block = item.get("block") if isinstance(item, dict) else None
        params = item.get("params") if isinstance(item, dict) else None
        copies = params.get(REPEAT, 1) if isinstance(params, dict) else 1
        uses.append((block if isinstance(block, str) else "", min(copies, MAX_REPEAT) if is_int(copies) else 1))
    return uses


def _uses_of_nodes(graph: Graph) -> list[tuple[str, int]]:
    """Each node's block and how many copies of it run (an instance's `repeat`)."""
    return [(node.block, node.params.get(REPEAT, 1)) for node in graph.nodes.values()]


def _expanded_size(uses: list[tuple[str, int]], sizes: dict[str, int]) -> int:
    return sum(1 + max(copies, 1) * sizes.get(block, 0) for block, copies in uses)


def _depth(uses: list[tuple[str, int]], depths: dict[str, int]) -> int:
    return 1 + max((depths.get(block, 0) for block, _ in uses), default=0)


def _too_many_expanded(size: int) -> str:
    return f"{size:,} nodes once the blocks in it are expanded; a project holds at most {MAX_EXPANDED_NODES:,}"


def expanded_size_problem(nodes: list[Any], definitions: Definitions) -> str | None:
    """Why a graph whose node items (parsed JSON, not yet read) are `nodes` is too big once every instance of
    `definitions` in it is expanded (more than MAX_EXPANDED_NODES nodes), or None: counted before anything is built."""
    sizes, _ = _measures(definitions)
    size = _expanded_size(_uses_of_items(nodes), sizes)
    return _too_many_expanded(size) if size > MAX_EXPANDED_NODES else None


# ---- the check before a save --------------------------------------------------------------------------------


def unsavable(graph: Graph) -> str | None:
    """Why a file of this project could not be opened again, though the Graph took every edit, or None.

    Its definitions are read back as a file's are, so what no single edit is checked against is found now,
    while the work is in memory: the limits on composites (MAX_DEFINITIONS, MAX_PORTS, MAX_NESTING, a
    definition's expanded size) and a definition's own rules (only layers inside, an inner input fed once).
    Then the network's expanded size (MAX_EXPANDED_NODES)."""
    listed = definitions_to_list(graph.definitions)
    try:
        read_definitions(listed, Graph())
    except ProjectError as err:
        at = _DEFINITION_AT.match(err.field or "")
        return f"in the block {quoted(listed[int(at.group(1))]['name'])}, {err.reason}" if at else err.reason
    sizes, _ = _measures(graph.definitions)
    size = _expanded_size(_uses_of_nodes(graph), sizes)
    return f"the network holds {_too_many_expanded(size)}" if size > MAX_EXPANDED_NODES else None


_DEFINITION_AT = re.compile(r"definitions\[([0-9]+)\]")
