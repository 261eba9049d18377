"""The one order in which nodes are visited: topological, ties broken left to right, top to bottom, then id.

Analysis visits nodes in it and codegen writes statements in it, so the same graph always gives the same
code (a golden-file test can pin it).
"""

from __future__ import annotations

import networkx as nx

from netbuilder.graph import Graph


def to_networkx(graph: Graph) -> nx.MultiDiGraph:
    """The graph's nodes and edges as a networkx graph (node ids; edges keyed by ports)."""
    g = nx.MultiDiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.src, e.dst, (e.src_port, e.dst_port)) for e in graph.edges)
    return g


def topological_order(graph: Graph) -> list[str]:
    """Node ids in dependency order, deterministic for a given graph and layout."""
    nodes = graph.nodes

    def key(node_id: str) -> tuple[float, float, int, str]:
        x, y = nodes[node_id].position
        digits = node_id[1:]
        return (x, y, int(digits) if digits.isdigit() else 0, node_id)

    return list(nx.lexicographical_topological_sort(to_networkx(graph), key=key))
