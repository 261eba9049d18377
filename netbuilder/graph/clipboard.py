"""Copy and paste of nodes as JSON: the nodes, their parameters and positions, and the edges between them."""

from __future__ import annotations

import json
from typing import Any

from netbuilder.graph.graph import Graph

MIME_TYPE = "application/x-netbuilder-nodes"


def copy_nodes(graph: Graph, node_ids: list[str]) -> str:
    """The selection as JSON; only edges with both ends selected travel with it."""
    chosen = set(node_ids)
    nodes = [
        {
            "id": n,
            "block": graph.nodes[n].block,
            "label": graph.nodes[n].label,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in graph.nodes[n].params.items()},
            "position": list(graph.nodes[n].position),
        }
        for n in node_ids
    ]
    edges = [[e.src, e.src_port, e.dst, e.dst_port] for e in graph.edges if e.src in chosen and e.dst in chosen]
    return json.dumps({"nodes": nodes, "edges": edges})


def paste_nodes(graph: Graph, text: str, offset: tuple[float, float]) -> list[str]:
    """Add the copied nodes (fresh ids, labels made unique) and their internal edges; returns the new ids.
    Raises ValueError for text that is not a copied selection; graph errors propagate."""
    try:
        data: dict[str, Any] = json.loads(text)
        nodes, edges = data["nodes"], data["edges"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("the clipboard holds no netbuilder nodes") from None
    new_ids: dict[str, str] = {}
    for item in nodes:
        label = graph.unique_label(item["label"]) if _taken(graph, item["label"]) else item["label"]
        x, y = item["position"]
        node = graph.add_node(
            item["block"], label=label, params=item["params"], position=(x + offset[0], y + offset[1])
        )
        new_ids[item["id"]] = node.id
    for src, src_port, dst, dst_port in edges:
        graph.connect(new_ids[src], src_port, new_ids[dst], dst_port)
    return list(new_ids.values())


def _taken(graph: Graph, label: str) -> bool:
    return any(node.label == label for node in graph.nodes.values())
