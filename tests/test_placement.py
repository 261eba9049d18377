"""Placement: a new node lands in free space nearest where it was wanted, a group keeps its arrangement, and a
node inserted on an edge goes between the two ends, moving what follows on to make room."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from netbuilder.analysis.footprint import NODE_WIDTH
from netbuilder.analysis.placement import GAP, MARGIN, Occupancy, place_beside, place_between, place_group, place_node
from netbuilder.graph import Graph
from tests.overlaps import overlapping_pairs

SIZE = (NODE_WIDTH, 72.0)  # a one-port node


def chain(count: int, step: float = 250.0, *, y: float = 0.0, graph: Graph | None = None) -> tuple[Graph, list[str]]:
    """Input -> ReLU -> ReLU ..., left to right, `step` apart."""
    graph = graph or Graph()
    ids = [graph.add_node("Input", params={"shape": (8,)}, position=(0.0, y)).id]
    for i in range(1, count):
        ids.append(graph.add_node("ReLU", position=(i * step, y)).id)
        graph.connect(ids[-2], "x" if i == 1 else "y", ids[-1], "x")
    return graph, ids


def crowded(columns: int, rows: int) -> tuple[Graph, list[str]]:
    """`rows` chains one under the other, each node just MARGIN from its neighbours."""
    graph = Graph()
    ids: list[str] = []
    for row in range(rows):
        ids += chain(columns, NODE_WIDTH + MARGIN, y=row * (72.0 + MARGIN), graph=graph)[1]
    return graph, ids


def brute_force_nearest(rects: list[tuple[float, float, float, float]], size, wanted) -> float:
    """The distance to the nearest free top-left corner, trying every candidate point there is: `wanted`, and
    every crossing of the lines through it and the borders of the forbidden boxes (O(n^2), for checking)."""
    w, h = size
    boxes = [(x - w - MARGIN, y - h - MARGIN, x + rw + MARGIN, y + rh + MARGIN) for x, y, rw, rh in rects]
    xs = {wanted[0], *(b[0] for b in boxes), *(b[2] for b in boxes)}
    ys = {wanted[1], *(b[1] for b in boxes), *(b[3] for b in boxes)}
    free = [
        math.hypot(x - wanted[0], y - wanted[1])
        for x in xs
        for y in ys
        if not any(b[0] < x < b[2] and b[1] < y < b[3] for b in boxes)
    ]
    return min(free)


def is_free(rects, size, spot) -> bool:
    """Whether a rectangle of `size` at `spot`, grown by the margin less a rounding error, meets none."""
    x, y = spot
    w, h = size
    m = MARGIN - 1e-6
    return not any(
        x - m < rx + rw and rx < x + w + m and y - m < ry + rh and ry < y + h + m for rx, ry, rw, rh in rects
    )


coordinates = st.integers(-20, 20).map(lambda v: v * 37.0)
rectangles_drawn = st.lists(
    st.tuples(coordinates, coordinates, st.sampled_from([168.0, 40.0]), st.sampled_from([72.0, 94.0, 300.0])),
    max_size=25,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(rects=rectangles_drawn, wanted=st.tuples(coordinates, coordinates))
def test_the_free_spot_is_free_and_as_near_as_any(rects, wanted) -> None:
    occupancy = Occupancy({f"n{i}": r for i, r in enumerate(rects)})
    spot = occupancy.free_spot(SIZE, wanted)
    assert is_free(rects, SIZE, spot)
    assert math.hypot(spot[0] - wanted[0], spot[1] - wanted[1]) <= brute_force_nearest(rects, SIZE, wanted) + 1e-6


def test_a_free_wanted_spot_is_kept_and_a_taken_one_gives_the_nearest_free_one() -> None:
    occupancy = Occupancy({"a": (0.0, 0.0, 168.0, 72.0)})
    assert occupancy.free_spot(SIZE, (0.0, 200.0)) == (0.0, 200.0)
    # Dropped right on "a": straight below it (nearer than beside it, the node being wider than tall).
    assert occupancy.free_spot(SIZE, (0.0, 0.0)) == (0.0, 72.0 + MARGIN)


def test_the_search_looks_far_enough_in_a_crowded_graph() -> None:
    graph, ids = crowded(30, 30)
    added = graph.add_node("ReLU", position=(0.0, 0.0)).id
    place_node(graph, added, graph.nodes[ids[15 * 30 + 15]].position)  # in the middle of the block
    assert overlapping_pairs(graph) == set()


def test_a_node_placed_on_others_moves_only_itself() -> None:
    graph, ids = chain(4)
    before = {n: graph.nodes[n].position for n in ids}
    added = graph.add_node("ReLU", position=(250.0, 10.0)).id
    place_node(graph, added, (250.0, 10.0))
    assert {n: graph.nodes[n].position for n in ids} == before
    assert overlapping_pairs(graph) == set()


def test_a_group_keeps_its_arrangement_and_lands_beside_its_originals() -> None:
    graph, ids = chain(3)
    copies = [graph.add_node("ReLU", position=graph.nodes[n].position).id for n in ids[1:]]
    arrangement = [graph.nodes[n].position for n in copies]
    place_group(graph, copies)
    assert overlapping_pairs(graph) == set()
    (x0, y0), (x1, y1) = arrangement[0], graph.nodes[copies[0]].position
    assert [graph.nodes[n].position for n in copies] == [(x + x1 - x0, y + y1 - y0) for x, y in arrangement]
    assert (x1, y1) == (250.0, 72.0 + MARGIN)  # just below the originals


def test_a_group_pasted_under_the_pointer_is_centred_there_when_free() -> None:
    graph, ids = chain(2)
    place_group(graph, ids, centre=(5000.0, 5000.0))
    (x0, y0), (x1, _) = graph.nodes[ids[0]].position, graph.nodes[ids[1]].position
    assert (x0 + x1 + NODE_WIDTH) / 2 == 5000.0 and y0 + 36.0 == 5000.0


def insert(graph: Graph, src: str, dst: str, wanted=None) -> str:
    new = graph.add_node("Dropout", position=(0.0, 0.0)).id
    edge = graph.inputs_of(dst)["x"]
    graph.disconnect(edge)
    graph.connect(edge.src, edge.src_port, new, "x")
    graph.connect(new, "y", dst, "x")
    place_between(graph, new, src, dst, wanted)
    return new


def test_an_insert_where_there_is_room_goes_midway_and_moves_nothing() -> None:
    graph, ids = chain(3, step=500.0)
    before = {n: graph.nodes[n].position for n in ids}
    new = insert(graph, ids[0], ids[1])
    assert graph.nodes[new].position == (250.0, 0.0)
    assert {n: graph.nodes[n].position for n in ids} == before


def test_an_insert_without_room_goes_after_the_source_and_what_follows_moves_on_together() -> None:
    graph, ids = chain(5)
    below = graph.add_node("ReLU", position=(500.0, 300.0)).id  # past the line too, though not fed by it
    above = graph.add_node("ReLU", position=(0.0, -200.0)).id  # before the line: stays
    new = insert(graph, ids[1], ids[2])
    assert graph.nodes[new].position == (250.0 + NODE_WIDTH + 82.0, 0.0)  # keeps the chain's rhythm
    shift = 250.0
    assert [graph.nodes[n].position for n in ids] == [(0.0, 0.0), (250.0, 0.0)] + [
        (i * 250.0 + shift, 0.0) for i in range(2, 5)
    ]
    assert graph.nodes[below].position == (500.0 + shift, 300.0)
    assert graph.nodes[above].position == (0.0, -200.0)
    assert overlapping_pairs(graph) == set()


def test_an_insert_follows_the_edge_downwards_and_backwards() -> None:
    graph = Graph()
    top = graph.add_node("Input", params={"shape": (8,)}, position=(0.0, 0.0)).id
    bottom = graph.add_node("ReLU", position=(0.0, 100.0)).id
    graph.connect(top, "x", bottom, "x")
    new = insert(graph, top, bottom)
    assert graph.nodes[new].position[0] == 0.0 and graph.nodes[bottom].position[0] == 0.0
    assert graph.nodes[new].position[1] > 72.0 and graph.nodes[bottom].position[1] > graph.nodes[new].position[1]
    assert overlapping_pairs(graph) == set()

    graph = Graph()
    right = graph.add_node("Input", params={"shape": (8,)}, position=(0.0, 0.0)).id
    left = graph.add_node("ReLU", position=(-200.0, 0.0)).id
    graph.connect(right, "x", left, "x")
    new = insert(graph, right, left)
    assert graph.nodes[right].position == (0.0, 0.0)
    assert graph.nodes[left].position[0] < graph.nodes[new].position[0] < 0.0
    assert overlapping_pairs(graph) == set()


def test_an_insert_into_a_crowded_graph_overlaps_nothing() -> None:
    graph, ids = crowded(12, 12)
    src = ids[5 * 12 + 4]
    insert(graph, src, ids[5 * 12 + 5])
    assert overlapping_pairs(graph) == set()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data())
def test_an_insert_never_brings_two_nodes_together(data) -> None:
    graph = Graph()
    count = data.draw(st.integers(2, 12))
    ids = []
    for i in range(count):
        position = data.draw(st.tuples(coordinates, coordinates))
        ids.append(graph.add_node("Input" if i == 0 else "ReLU", params={"shape": (8,)} if i == 0 else {}).id)
        graph.move(ids[-1], position)
        if i:
            graph.connect(ids[-2], "x" if i == 1 else "y", ids[-1], "x")
    before = overlapping_pairs(graph)
    at = data.draw(st.integers(1, count - 1))
    wanted = data.draw(st.none() | st.tuples(coordinates, coordinates))
    new = insert(graph, ids[at - 1], ids[at], wanted)
    after = overlapping_pairs(graph)
    assert after <= before
    assert not any(new in pair for pair in after)


def test_a_node_beside_another_goes_to_its_right_and_one_with_nothing_near_before_the_first_node() -> None:
    graph, ids = chain(3)
    added = graph.add_node("Adam", position=(0.0, 0.0)).id
    place_beside(graph, added, ids[2])
    assert graph.nodes[added].position == (500.0 + NODE_WIDTH + GAP, 0.0)
    dataset = graph.add_node("Dataset", position=(0.0, 0.0)).id
    place_beside(graph, dataset, None)
    assert graph.nodes[dataset].position == (-GAP - NODE_WIDTH, 0.0)
    assert overlapping_pairs(graph) == set()
