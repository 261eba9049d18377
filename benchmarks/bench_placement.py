"""Placing new nodes in a crowded 1,000-node graph (netbuilder/analysis/placement.py).

A 40 x 25 block of nodes, each only the placement margin from its neighbours, so every spot inside is taken:
a node dropped in the middle must look well away from where it was wanted, and an insert in the middle of a
row moves half the graph on. A second block has every node a little lower than its left neighbour, so no two
nodes share a top or bottom and the search has as many rows to try as there are nodes. Baseline, in the same
process: the same search trying every node's rectangle on each row.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

from netbuilder.analysis.footprint import NODE_WIDTH, footprint
from netbuilder.analysis.placement import (
    MARGIN,
    Occupancy,
    _nearest_free_x,
    place_between,
    place_group,
    place_node,
    rectangles,
)
from netbuilder.graph import Graph

COLUMNS, ROWS = 40, 25
HEIGHT = 72.0  # a one-port node
STEP = 0.5  # how much lower each node of the second block sits than its left neighbour


def crowded(step: float = 0.0) -> tuple[Graph, list[list[str]]]:
    """ROWS chains of COLUMNS ReLUs (each after an Input), packed MARGIN apart, each node `step` lower than
    the one on its left."""
    graph = Graph()
    rows = []
    for row in range(ROWS):
        y = row * (HEIGHT + MARGIN + COLUMNS * step)
        ids = [graph.add_node("Input", params={"shape": (8,)}, position=(0.0, y)).id]
        for column in range(1, COLUMNS):
            position = (column * (NODE_WIDTH + MARGIN), y + column * step)
            ids.append(graph.add_node("ReLU", position=position).id)
            graph.connect(ids[-2], "x" if column == 1 else "y", ids[-1], "x")
        rows.append(ids)
    return graph, rows


def timed(setup: Callable[[], object], work: Callable[[object], object], repeat: int = 7) -> float:
    """Median seconds of `work(setup())` over `repeat` runs, setup not timed."""
    samples = []
    for _ in range(repeat):
        state = setup()
        started = time.perf_counter()
        work(state)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def with_node(step: float = 0.0) -> tuple[Graph, list[list[str]], str]:
    graph, rows = crowded(step)
    return graph, rows, graph.add_node("ReLU", position=(0.0, 0.0)).id


def middle(graph: Graph, rows: list[list[str]]) -> tuple[float, float]:
    return graph.nodes[rows[ROWS // 2][COLUMNS // 2]].position


def edge(graph: Graph, rows: list[list[str]]) -> tuple[float, float]:
    return graph.nodes[rows[-1][COLUMNS // 2]].position


def drop_in_the_middle(state) -> None:
    graph, rows, new = state
    place_node(graph, new, middle(graph, rows))


def drop_at_the_edge(state) -> None:
    graph, rows, new = state
    place_node(graph, new, edge(graph, rows))


def insert_mid_row(state) -> None:
    graph, rows, new = state
    src, dst = rows[ROWS // 2][COLUMNS // 2 - 1], rows[ROWS // 2][COLUMNS // 2]
    edge = graph.inputs_of(dst)["x"]
    graph.disconnect(edge)
    graph.connect(src, "y", new, "x")
    graph.connect(new, "y", dst, "x")
    place_between(graph, new, src, dst)


def paste_a_row_in_the_middle(state) -> None:
    graph, rows, _ = state
    copies = [graph.add_node("ReLU", position=graph.nodes[n].position).id for n in rows[0][:20]]
    place_group(graph, copies, centre=middle(graph, rows))


def every_rectangle(spot: Callable[[Graph, list[list[str]]], tuple[float, float]]) -> Callable[[object], object]:
    """The baseline: the nearest free spot for a drop at `spot`, every rectangle tried on each row."""

    def search(state) -> tuple[float, float]:
        graph, rows, new = state
        w, h = footprint(graph, new)
        x0, y0 = spot(graph, rows)
        boxes = [
            (x - w - MARGIN, y - h - MARGIN, x + rw + MARGIN, y + rh + MARGIN)
            for x, y, rw, rh in rectangles(graph, ignore=[new]).values()
        ]
        best, best_distance = (x0, y0), math.inf
        for y in sorted({y0, *(b[1] for b in boxes), *(b[3] for b in boxes)}, key=lambda y: (abs(y - y0), -y)):
            if abs(y - y0) >= best_distance:
                break
            x = _nearest_free_x(sorted((b[0], b[2]) for b in boxes if b[1] < y < b[3]), x0)
            if math.hypot(x - x0, y - y0) < best_distance:
                best, best_distance = (x, y), math.hypot(x - x0, y - y0)
        return best

    return search


def main() -> None:
    graph, _ = crowded()
    print(f"graph: {len(graph.nodes)} nodes, {graph.edge_count()} edges, every spot inside the block taken")
    stepped = lambda: with_node(STEP)  # noqa: E731
    rows = [
        ("build the index (every node's footprint)", timed(lambda: graph, Occupancy.of), None),
        ("drop on a node at the block's edge", timed(with_node, drop_at_the_edge), every_rectangle(edge)),
        ("drop in the middle of the block", timed(with_node, drop_in_the_middle), every_rectangle(middle)),
        ("the same, no two tops alike", timed(stepped, drop_in_the_middle), every_rectangle(middle)),
        ("insert mid-row (moves 500 nodes on)", timed(with_node, insert_mid_row), None),
        ("paste 20 nodes in the middle", timed(with_node, paste_a_row_in_the_middle), None),
    ]
    print(f"{'operation':44} {'median ms':>10} {'every rectangle ms':>19} {'ratio':>6}")
    for i, (name, seconds, baseline) in enumerate(rows):
        if baseline is None:
            print(f"{name:44} {seconds * 1000:10.2f} {'-':>19} {'-':>6}")
            continue
        setup = stepped if i == 3 else with_node
        base = timed(setup, baseline, repeat=3)
        print(f"{name:44} {seconds * 1000:10.2f} {base * 1000:19.2f} {base / seconds:5.1f}x")


if __name__ == "__main__":
    main()
