"""Auto layout of large networks: time, and the shape of what comes out, in both directions.

Budget (issue 12): a 1,000-node graph laid out within 1 s. The baseline, measured in the same run, is the
layout netbuilder had before (columns by topological generation, each ordered once by its inputs' mean row on
a fixed 250 x 150 grid): the ratio says what the crossing sweeps and the packing cost on top of plain
layering. Graphs: the 1,000-node residual tower the other benchmarks use, a 2,000-node one (growth), and,
when torchvision is installed, resnet18 and densenet121 as `netbuilder import` brings them in (the top level,
its stages composite blocks) and expanded in place (every composite ungrouped).
Run: `make bench` or `.venv/bin/python benchmarks/bench_layout.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx

from netbuilder.analysis.footprint import footprint
from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.analysis.order import to_networkx
from netbuilder.graph import Graph
from netbuilder.graph.grouping import ungroup

sys.path.insert(0, str(Path(__file__).parent))
from bench_analysis import residual_tower, timed


def previous_layout(graph: Graph) -> dict[str, tuple[float, float]]:
    """The auto layout before issue 12, as the yardstick: one barycentre pass over topological generations."""
    g = to_networkx(graph)
    positions, rows = {}, {}
    for column, layer in enumerate(nx.topological_generations(g)):

        def barycentre(node_id: str) -> float:
            parents = [rows[p] for p in g.predecessors(node_id) if p in rows]
            return sum(parents) / len(parents) if parents else 0.0

        ordered = sorted(layer, key=barycentre)
        for i, node_id in enumerate(ordered):
            rows[node_id] = i - (len(ordered) - 1) / 2
            positions[node_id] = (column * 250.0, rows[node_id] * 150.0)
    return positions


def extent(graph: Graph, positions: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """Width and height of what the nodes cover, in scene units (pixels at 100 %)."""
    right = max(x + footprint(graph, n)[0] for n, (x, _) in positions.items())
    bottom = max(y + footprint(graph, n)[1] for n, (_, y) in positions.items())
    return right - min(x for x, _ in positions.values()), bottom - min(y for _, y in positions.values())


def graphs() -> list[tuple[str, Graph]]:
    found = [
        ("residual tower, 1,000 nodes", residual_tower(1000)[0]),
        ("residual tower, 2,000 nodes", residual_tower(2000)[0]),
    ]
    try:
        import torchvision

        from netbuilder.importers import import_module
    except ImportError:
        return found
    for name in ("resnet18", "densenet121"):
        model = getattr(torchvision.models, name)(weights=None)
        graph = import_module(model, (1, 3, 224, 224), name).project.graph
        found.append((f"{name} imported, {len(graph.nodes)} nodes", graph))
        expanded = import_module(model, (1, 3, 224, 224), name).project.graph
        while instances := [n for n in expanded.nodes if expanded.definition_of(n) is not None]:
            for node_id in instances:
                ungroup(expanded, node_id)
        found.append((f"{name} expanded, {len(expanded.nodes)} nodes", expanded))
    return found


def main() -> None:
    print("| graph | direction | layout ms | previous layout ms | ratio | width x height |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for name, graph in graphs():
        before = timed(lambda graph=graph: previous_layout(graph), 5)
        for orientation in Orientation:
            ours = timed(lambda graph=graph, orientation=orientation: layered_positions(graph, orientation), 5)
            width, height = extent(graph, layered_positions(graph, orientation))
            direction = orientation.value.replace("_", " ")
            print(
                f"| {name} | {direction} | {ours * 1000:.1f} | {before * 1000:.1f} | {ours / before:.1f}x "
                f"| {width:,.0f} x {height:,.0f} |"
            )


if __name__ == "__main__":
    main()
