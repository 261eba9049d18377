"""A graph <-> the `nodes` and `edges` of a netbuilder file: the project's top graph and the inside of every
composite definition are written and read by the same code.

Reading rebuilds the graph through the Graph's own methods, in file order, so every rule the canvas enforces
(known blocks, valid parameters, unique ids and labels, fitting port kinds, one source per input, no cycles)
holds for a loaded file too; a refusal is a ProjectError naming the field. Writing puts every parameter of a
block in the file (a weight init only once chosen) and edges in one fixed order, so the same graph always
gives the same bytes.
"""

from __future__ import annotations

import math
from typing import Any

from netbuilder.blocks import catalogue
from netbuilder.blocks.shared_params import written_to_file
from netbuilder.blocks.spec import MODEL, BlockSpec
from netbuilder.graph import Edge, EdgeRefusedError, Graph, GraphError, InvalidParamError, PortOccupiedError
from netbuilder.graph.limits import ID_RULE, MAX_EDGES, MAX_NODES, is_node_id, name_problem
from netbuilder.graph.model import Node
from netbuilder.project.errors import ProjectError
from netbuilder.project.file_checks import (
    check_keys,
    did_you_mean,
    expect_list,
    expect_object,
    expect_text,
    field_path,
    is_finite_number,
    refuse_duplicates,
    shown_value,
)
from netbuilder.quoting import cut

GRAPH_KEYS = ("nodes", "edges")  # the top graph's fields; a definition holds these and its own
_NODE_KEYS = ("id", "block", "label", "params", "position")
_EDGE_KEYS = ("from", "to")


# ---- writing ------------------------------------------------------------------------------------------------


def graph_to_dict(graph: Graph, where: str) -> dict[str, Any]:
    """The `nodes` and `edges` of `graph` as a file holds them: nodes in graph order, each with every parameter
    of its block (the init ones once chosen: `written_to_file`), and edges in one order whatever the edit
    history; `where` names the graph in a refusal."""
    return {
        "nodes": [_node_to_dict(graph, node_id, f"{where}.nodes[{i}]") for i, node_id in enumerate(graph.nodes)],
        "edges": [_edge_to_dict(edge) for edge in _edges_in_file_order(graph)],
    }


def _node_to_dict(graph: Graph, node_id: str, where: str) -> dict[str, Any]:
    node = graph.node(node_id)
    spec = graph.spec(node_id)
    x, y = node.position
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ProjectError(f"{where}.position", f"expected two finite numbers, got {node.position!r}")
    return {
        "id": node.id,
        "block": node.block,
        "label": node.label,
        "params": {
            p.name: _json_value(value)
            for p in spec.params
            if written_to_file(p, value := node.params.get(p.name, p.default))
        },
        "position": [float(x), float(y)],
    }


def _edge_to_dict(edge: Edge) -> dict[str, Any]:
    return {"from": [edge.src, edge.src_port], "to": [edge.dst, edge.dst_port]}


def _edges_in_file_order(graph: Graph) -> list[Edge]:
    """Edges by source node, output port, target node, input port: one order whatever the edit history."""
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}

    def key(edge: Edge) -> tuple[int, int, str, int, int, str]:
        outputs = [p.name for p in graph.spec(edge.src).outputs]
        inputs = [p.name for p in graph.input_ports(edge.dst)]
        return (
            order[edge.src],
            _position_in(outputs, edge.src_port),
            edge.src_port,
            order[edge.dst],
            _position_in(inputs, edge.dst_port),
            edge.dst_port,
        )

    return sorted(graph.edges, key=key)


def _position_in(names: list[str], name: str) -> int:
    return names.index(name) if name in names else len(names)


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    return value


# ---- reading ------------------------------------------------------------------------------------------------


def counted_lists(obj: dict[str, Any], where: str, holder: str) -> tuple[list[Any], list[Any]]:
    """The `nodes` and `edges` lists of a graph or a definition, refused when longer than a graph may be
    (counted before any item is read: reading is linear, but a file at the size limit could list millions)."""
    nodes = expect_list(obj["nodes"], f"{where}.nodes")
    edges = expect_list(obj["edges"], f"{where}.edges")
    if len(nodes) > MAX_NODES:
        raise ProjectError(f"{where}.nodes", f"{len(nodes):,} nodes; {holder} holds at most {MAX_NODES:,}")
    if len(edges) > MAX_EDGES:
        raise ProjectError(f"{where}.edges", f"{len(edges):,} edges; {holder} holds at most {MAX_EDGES:,}")
    return nodes, edges


def read_nodes_and_edges(graph: Graph, nodes: list[Any], edges: list[Any], where: str) -> None:
    """Check the node and edge items (parsed JSON) of the graph at `where` and add them to `graph`, through its
    own methods, so a file obeys every rule the canvas does; ProjectError names the field of the first fault."""
    ids: dict[str, int] = {}
    labels: dict[str, int] = {}
    for i, item in enumerate(nodes):
        _read_node(graph, item, f"{where}.nodes", i, ids, labels)
    listed = [_read_edge(graph, item, f"{where}.edges[{i}]") for i, item in enumerate(edges)]
    try:
        graph.connect_all(listed)  # cycles are looked for once, not per edge (quadratic on a long chain)
    except EdgeRefusedError as err:
        at = f"{where}.edges[{err.index}]"
        # A taken input is the edge's `to`; a kind mismatch or a cycle is the edge as a whole.
        raise ProjectError(f"{at}.to" if isinstance(err.error, PortOccupiedError) else at, str(err)) from None


def _read_node(graph: Graph, item: Any, nodes: str, index: int, ids: dict[str, int], labels: dict[str, int]) -> None:
    where = f"{nodes}[{index}]"
    obj = expect_object(item, where)
    check_keys(obj, where, _NODE_KEYS, required=_NODE_KEYS)

    node_id = expect_text(obj["id"], f"{where}.id")
    if not is_node_id(node_id):
        raise ProjectError(f"{where}.id", f"expected an id of {ID_RULE} characters, got {shown_value(node_id)}")
    if node_id in ids:
        raise ProjectError(f"{where}.id", f"duplicate id {shown_value(node_id)} ({nodes}[{ids[node_id]}] has it too)")

    block = expect_text(obj["block"], f"{where}.block")
    try:
        spec = graph.block_spec(block)
    except catalogue.UnknownBlockError as err:
        known = [*catalogue.BLOCKS, *(d.name for d in graph.definitions)]
        raise ProjectError(f"{where}.block", str(err) + did_you_mean(block, known)) from None
    if graph.owner is not None and spec.role != MODEL:
        raise ProjectError(f"{where}.block", f"{block} is not a layer: only layers can go inside a block")

    label = expect_text(obj["label"], f"{where}.label")
    problem = name_problem(label, "a label")
    if problem:
        raise ProjectError(f"{where}.label", problem)
    if label in labels:
        raise ProjectError(
            f"{where}.label", f"the label {shown_value(label)} is already used by {nodes}[{labels[label]}]"
        )

    params = _read_params(obj["params"], spec, f"{where}.params")
    position = _read_position(obj["position"], f"{where}.position")
    try:
        graph.add_node(block, label=label, params=params, position=position, node_id=node_id)
    except InvalidParamError as err:
        raise ProjectError(field_path(f"{where}.params", err.param), err.reason) from None
    except GraphError as err:
        raise ProjectError(where, str(err)) from None
    ids[node_id] = index
    labels[label] = index


def _read_params(value: Any, spec: BlockSpec, where: str) -> dict[str, Any]:
    obj = expect_object(value, where)
    names = [p.name for p in spec.params]
    refuse_duplicates(obj, where)
    for name in obj:
        if name not in names:
            has = f"it has {', '.join(names)}" if names else "it has no parameters"
            raise ProjectError(
                field_path(where, name), f"{spec.type} has no such parameter ({has}){did_you_mean(name, names)}"
            )
    return dict(obj)


def _read_position(value: Any, where: str) -> tuple[float, float]:
    if not (isinstance(value, list) and len(value) == 2 and all(is_finite_number(v) for v in value)):
        raise ProjectError(where, f"expected [x, y], two finite numbers, got {shown_value(value)}")
    return float(value[0]), float(value[1])


def _read_edge(graph: Graph, item: Any, where: str) -> Edge:
    """The edge an item of `graph.edges` describes, between ports its nodes have; connected later, all at once."""
    obj = expect_object(item, where)
    check_keys(obj, where, _EDGE_KEYS, required=_EDGE_KEYS)
    src, src_port = endpoint(obj["from"], f"{where}.from")
    dst, dst_port = endpoint(obj["to"], f"{where}.to")
    for end, node_id in (("from", src), ("to", dst)):
        if node_id not in graph.nodes:
            raise ProjectError(f"{where}.{end}", f"no node has the id {shown_value(node_id)}")

    source = graph.node(src)
    outputs = [p.name for p in graph.spec(src).outputs]
    if src_port not in outputs:
        raise ProjectError(
            f"{where}.from",
            f"{node_label(source)} ({source.block}) has no output {shown_value(src_port)} ({port_list(outputs)})",
        )
    target = graph.node(dst)
    inputs = [p.name for p in graph.input_ports(dst)]
    if dst_port not in inputs:
        raise ProjectError(
            f"{where}.to",
            f"{node_label(target)} ({target.block}) has no input {shown_value(dst_port)} ({port_list(inputs)})",
        )
    return Edge(src, src_port, dst, dst_port)


def endpoint(value: Any, where: str, what: str = "port name") -> tuple[str, str]:
    """A `[node id, port name]` pair (or `what` in place of the port name) from a file, or ProjectError."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and v for v in value)):
        raise ProjectError(where, f"expected [node id, {what}], got {shown_value(value)}")
    return value[0], value[1]


def port_list(names: list[str]) -> str:
    """The ports a message offers in place of a wrong one: `it has x, y`, or `it has none`."""
    return f"it has {', '.join(names)}" if names else "it has none"


def node_label(node: Node) -> str:
    """A node as a message names it: its label on one line, cut short."""
    return cut(" ".join(node.label.split()))
