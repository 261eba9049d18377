"""Placement: a new node lands in free space nearest where it was wanted, a group keeps its arrangement, and a
node inserted on an edge goes between the two ends, moving what follows on to make room; left to right and
top to bottom, where "after" is below and what follows moves down."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbuilder.analysis.footprint import NODE_WIDTH, footprint
from netbuilder.analysis.layout import Orientation
from netbuilder.analysis.placement import GAP, MARGIN, Occupancy, place_beside, place_between, place_group, place_node
from netbuilder.graph import Graph
from tests.overlaps import overlapping_pairs

SIZE = (NODE_WIDTH, 72.0)  # a one-port node
DOWN = Orientation.TOP_TO_BOTTOM


def chain(count: int, step: float = 250.0, *, y: float = 0.0, graph: Graph | None = None) -> tuple[Graph, list[str]]:
    """Input -> ReLU -> ReLU ..., left to right, `step` apart."""
    graph = graph or Graph()
    ids = [graph.add_node("Input", params={"shape": (8,)}, position=(0.0, y)).id]
    for i in range(1, count):
        ids.append(graph.add_node("ReLU", position=(i * step, y)).id)
        graph.connect(ids[-2], "x" if i == 1 else "y", ids[-1], "x")
    return graph, ids


def chain_down(count: int, step: float = 150.0) -> tuple[Graph, list[str]]:
    """Input -> ReLU -> ReLU ..., top to bottom, `step` apart."""
    graph = Graph()
    ids = [graph.add_node("Input", params={"shape": (8,)}, position=(0.0, 0.0)).id]
    for i in range(1, count):
        ids.append(graph.add_node("ReLU", position=(0.0, i * step)).id)
        graph.connect(ids[-2], "x" if i == 1 else "y", ids[-1], "x")
    return graph, ids


def crowded(columns: int, rows: int) -> tuple[Graph, list[str]]:
    """`rows` chains one under the other, each node just MARGIN from its neighbours."""
    graph = Graph()
    ids: list[str] = []
    for row in range(rows):
        ids += chain(columns, NODE_WIDTH + MARGIN, y=row * (72.0 + MARGIN), graph=graph)[1]
    return graph, ids


def brute_force_nearest(rects: list[tuple[float, float, float, float]], size, wanted, orientation) -> tuple:
    """The nearest free top-left corner, trying every candidate point there is: `wanted`, and every crossing
    of the lines through it and the borders of the forbidden boxes (O(n^2), for checking). Of two as near,
    the one moved further across the flow, then the one further on across it, then along it."""
    w, h = size
    boxes = [(x - w - MARGIN, y - h - MARGIN, x + rw + MARGIN, y + rh + MARGIN) for x, y, rw, rh in rects]
    xs = {wanted[0], *(b[0] for b in boxes), *(b[2] for b in boxes)}
    ys = {wanted[1], *(b[1] for b in boxes), *(b[3] for b in boxes)}
    across = 1 if orientation is Orientation.LEFT_TO_RIGHT else 0

    def key(point):
        distance = round(math.hypot(point[0] - wanted[0], point[1] - wanted[1]), 6)
        return distance, -abs(point[across] - wanted[across]), -point[across], -point[1 - across]

    free = [(x, y) for x in xs for y in ys if not any(b[0] < x < b[2] and b[1] < y < b[3] for b in boxes)]
    return min(free, key=key)


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


@pytest.mark.parametrize("orientation", list(Orientation))
@settings(max_examples=150, deadline=None, derandomize=True)
@given(rects=rectangles_drawn, wanted=st.tuples(coordinates, coordinates))
def test_the_free_spot_is_free_and_the_nearest_with_ties_across_the_flow(orientation, rects, wanted) -> None:
    occupancy = Occupancy({f"n{i}": r for i, r in enumerate(rects)})
    spot = occupancy.free_spot(SIZE, wanted, orientation)
    assert is_free(rects, SIZE, spot)
    assert spot == brute_force_nearest(rects, SIZE, wanted, orientation)


def test_of_two_spots_as_near_the_one_across_the_flow_wins() -> None:
    occupancy = Occupancy({"a": (0.0, 0.0, 100.0, 100.0)})
    # Dropped on a square as big as itself: above, below, left and right are all 120 px away.
    assert occupancy.free_spot((100.0, 100.0), (0.0, 0.0)) == (0.0, 120.0)  # left to right: below
    assert occupancy.free_spot((100.0, 100.0), (0.0, 0.0), DOWN) == (120.0, 0.0)  # top to bottom: right


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


def insert(graph: Graph, src: str, dst: str, wanted=None, orientation=Orientation.LEFT_TO_RIGHT) -> str:
    new = graph.add_node("Dropout", position=(0.0, 0.0)).id
    edge = graph.inputs_of(dst)["x"]
    graph.disconnect(edge)
    graph.connect(edge.src, edge.src_port, new, "x")
    graph.connect(new, "y", dst, "x")
    place_between(graph, new, src, dst, wanted, orientation)
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


@pytest.mark.parametrize("orientation", list(Orientation))
@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data())
def test_an_insert_never_brings_two_nodes_together(orientation, data) -> None:
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
    new = insert(graph, ids[at - 1], ids[at], wanted, orientation)
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


# ---- top to bottom --------------------------------------------------------------------------------------


def test_top_to_bottom_an_insert_without_room_goes_below_the_source_and_what_follows_moves_down() -> None:
    graph, ids = chain_down(5)  # 78 px between one node's bottom and the next one's top
    beside = graph.add_node("ReLU", position=(400.0, 450.0)).id  # past the line too, though not fed by it
    above = graph.add_node("ReLU", position=(400.0, -200.0)).id  # before the line: stays
    new = insert(graph, ids[1], ids[2], orientation=DOWN)
    assert graph.nodes[new].position == (0.0, 300.0)  # just below the source, keeping the chain's rhythm
    assert [graph.nodes[n].position for n in ids] == [
        (0.0, 0.0),
        (0.0, 150.0),
        (0.0, 450.0),
        (0.0, 600.0),
        (0.0, 750.0),
    ]
    assert graph.nodes[beside].position == (400.0, 600.0)
    assert graph.nodes[above].position == (400.0, -200.0)
    assert overlapping_pairs(graph) == set()


def test_top_to_bottom_an_insert_moves_down_even_when_the_target_is_a_column_over() -> None:
    """An edge into the next row, one column over (as Auto Layout top to bottom lays a branch out): its ends
    lie further apart across than along, yet what follows moves down, not sideways."""

    def diagonal() -> tuple[Graph, str, str]:
        graph = Graph()
        src = graph.add_node("Input", params={"shape": (8,)}, position=(0.0, 0.0)).id
        dst = graph.add_node("ReLU", position=(224.0, 136.0)).id
        graph.connect(src, "x", dst, "x")
        return graph, src, dst

    graph, src, dst = diagonal()
    new = insert(graph, src, dst, orientation=DOWN)
    assert graph.nodes[dst].position == (224.0, 272.0)
    assert graph.nodes[new].position == (112.0, 136.0)  # below the source, centred between the two
    assert overlapping_pairs(graph) == set()

    graph, src, dst = diagonal()
    insert(graph, src, dst)  # left to right, the same edge makes room to the right
    x, y = graph.nodes[dst].position
    assert x > 224.0 and y == 136.0


def test_top_to_bottom_a_node_after_another_goes_below_it_and_one_with_nothing_near_above_the_first() -> None:
    graph, ids = chain_down(3)
    left = graph.add_node("ReLU", position=(-500.0, 100.0)).id  # the leftmost node, but not the topmost
    added = graph.add_node("Adam", position=(0.0, 0.0)).id
    place_beside(graph, added, ids[2], DOWN)
    assert graph.nodes[added].position == (0.0, 300.0 + 72.0 + GAP)
    dataset = graph.add_node("Dataset", position=(0.0, 0.0)).id
    place_beside(graph, dataset, None, DOWN)
    assert graph.nodes[dataset].position == (0.0, -GAP - footprint(graph, dataset)[1])
    assert graph.nodes[left].position == (-500.0, 100.0)
    assert overlapping_pairs(graph) == set()


def test_top_to_bottom_a_node_dropped_on_a_chain_goes_beside_it() -> None:
    graph, ids = chain_down(4, step=NODE_WIDTH)  # rows too close for a node between them
    before = {n: graph.nodes[n].position for n in ids}
    added = graph.add_node("ReLU", position=(0.0, 0.0)).id
    place_node(graph, added, (0.0, NODE_WIDTH), DOWN)
    assert graph.nodes[added].position == (NODE_WIDTH + MARGIN, NODE_WIDTH)  # to the right of the one it hit
    assert {n: graph.nodes[n].position for n in ids} == before


def test_top_to_bottom_a_duplicated_chain_lands_to_its_right() -> None:
    graph, ids = chain_down(3)
    copies = [graph.add_node("ReLU", position=graph.nodes[n].position).id for n in ids[1:]]
    place_group(graph, copies, orientation=DOWN)
    assert [graph.nodes[n].position for n in copies] == [(NODE_WIDTH + MARGIN, 150.0), (NODE_WIDTH + MARGIN, 300.0)]
    assert overlapping_pairs(graph) == set()
