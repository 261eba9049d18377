"""Auto layout: left to right by topological layers, each layer ordered to follow its inputs."""

from __future__ import annotations

import networkx as nx

from netbuilder.analysis.order import to_networkx
from netbuilder.blocks import catalogue
from netbuilder.blocks.spec import LOSS_ROLE, OPTIMIZER
from netbuilder.graph import Graph

COLUMN = 250.0
ROW = 150.0


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """A position per node: column = longest path from a source; rows ordered by the mean row of the
    node's inputs (fewer crossings), each column centred on the same line. Losses and optimizers sit a row
    below the model, so the target's long edge runs beneath the layers instead of through them."""
    g = to_networkx(graph)
    positions: dict[str, tuple[float, float]] = {}
    rows: dict[str, float] = {}
    for column, layer in enumerate(nx.topological_generations(g)):

        def barycentre(node_id: str) -> tuple[float, float, float]:
            parents = [rows[p] for p in g.predecessors(node_id) if p in rows]
            x, y = graph.nodes[node_id].position
            return (sum(parents) / len(parents) if parents else y / ROW, y, x)

        model = sorted((n for n in layer if not _trains(graph, n)), key=barycentre)
        training = sorted((n for n in layer if _trains(graph, n)), key=barycentre)
        offset = (len(model) - 1) / 2
        for i, node_id in enumerate(model):
            rows[node_id] = i - offset
        below = max((rows[n] for n in model), default=0.0) + 1
        for i, node_id in enumerate(training):
            rows[node_id] = below + i
        for node_id in layer:
            positions[node_id] = (column * COLUMN, rows[node_id] * ROW)
    return positions


def _trains(graph: Graph, node_id: str) -> bool:
    return catalogue.get(graph.nodes[node_id].block).role in (LOSS_ROLE, OPTIMIZER)
