"""Copy and paste of nodes as JSON: the nodes, their parameters and positions, and the edges between them."""

from __future__ import annotations

import json
import math
from typing import Any

from netbuilder.graph.graph import Graph

MIME_TYPE = "application/x-netbuilder-nodes"


def copy_nodes(graph: Graph, node_ids: list[str]) -> str:
    """The selection as JSON; only edges with both ends selected travel with it. NodeNotFoundError for an id
    that is not in the graph."""
    chosen = set(node_ids)
    nodes = []
    for node_id in node_ids:
        node = graph.node(node_id)
        nodes.append(
            {
                "id": node.id,
                "block": node.block,
                "label": node.label,
                "params": {k: list(v) if isinstance(v, tuple) else v for k, v in node.params.items()},
                "position": list(node.position),
            }
        )
    edges = [[e.src, e.src_port, e.dst, e.dst_port] for e in graph.edges if e.src in chosen and e.dst in chosen]
    return json.dumps({"nodes": nodes, "edges": edges})


def paste_nodes(graph: Graph, text: str, offset: tuple[float, float]) -> list[str]:
    """Add the copied nodes (fresh ids, labels made unique) and their internal edges; returns the new ids.

    The text is read whole before the graph is touched: anything that is not a selection netbuilder copied
    (another program's text under our type, a damaged or older copy) raises ValueError; what the graph
    refuses (an unknown block, a parameter out of range) raises its GraphError, leaving the nodes pasted so
    far for the caller to undo."""
    nodes, edges = _read_copy(text)
    new_ids: dict[str, str] = {}
    for node_id, block, label, params, (x, y) in nodes:
        label = graph.unique_label(label) if _taken(graph, label) else label
        position = (x + offset[0], y + offset[1])
        if not all(math.isfinite(v) for v in position):
            raise ValueError(NOT_A_COPY)
        new_ids[node_id] = graph.add_node(block, label=label, params=params, position=position).id
    for src, src_port, dst, dst_port in edges:
        graph.connect(new_ids[src], src_port, new_ids[dst], dst_port)
    return list(new_ids.values())


NOT_A_COPY = "the clipboard holds no netbuilder nodes: copy nodes in netbuilder, then paste"

_CopiedNode = tuple[str, str, str, dict[str, Any], tuple[float, float]]


def _read_copy(text: str) -> tuple[list[_CopiedNode], list[tuple[str, str, str, str]]]:
    """The nodes and edges `copy_nodes` wrote, each checked for its shape; ValueError if any is not."""
    try:
        data = json.loads(text)
        nodes = [_copied_node(item) for item in data["nodes"]]
        edges = [tuple(_strings(edge, 4)) for edge in data["edges"]]
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
        raise ValueError(NOT_A_COPY) from None
    ids = {node[0] for node in nodes}
    if len(ids) != len(nodes) or any(end not in ids for edge in edges for end in (edge[0], edge[2])):
        raise ValueError(NOT_A_COPY)
    return nodes, edges


def _copied_node(item: Any) -> _CopiedNode:
    node_id, block, label = _strings([item["id"], item["block"], item["label"]], 3)
    params, position = item["params"], item["position"]
    if not isinstance(params, dict) or not (isinstance(position, list) and len(position) == 2):
        raise TypeError(item)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position):
        raise TypeError(position)
    x, y = (float(v) for v in position)  # an integer beyond float range raises OverflowError
    return node_id, block, label, params, (x, y)


def _strings(values: Any, count: int) -> list[str]:
    if not (isinstance(values, list) and len(values) == count and all(isinstance(v, str) for v in values)):
        raise TypeError(values)
    return values


def _taken(graph: Graph, label: str) -> bool:
    return any(node.label == label for node in graph.nodes.values())
