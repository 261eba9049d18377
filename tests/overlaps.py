"""The check behind "no two nodes overlap": every pair of node rectangles, the plain way (no index), so that
it does not share a mistake with the placement it checks."""

from __future__ import annotations

from netbuilder.analysis.footprint import footprint
from netbuilder.graph import Graph


def overlapping_pairs(graph: Graph) -> set[tuple[str, str]]:
    """The pairs of nodes (ids in order) whose rectangles on the canvas overlap."""
    rects = sorted((n, *graph.nodes[n].position, *footprint(graph, n)) for n in graph.nodes)
    pairs = set()
    for i, (a, x, y, w, h) in enumerate(rects):
        for b, bx, by, bw, bh in rects[i + 1 :]:
            if x < bx + bw and bx < x + w and y < by + bh and by < y + h:
                pairs.add((a, b))
    return pairs
