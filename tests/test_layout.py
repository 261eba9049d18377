"""Auto layout: layers, a straight main chain with branches beside it, losses after the model, no overlap ever,
both orientations, the same positions for the same graph."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbuilder.analysis.footprint import footprint
from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.graph import Graph
from netbuilder.project import load_project

SAMPLES = sorted(Path(__file__).parent.parent.joinpath("sample_projects").glob("*.nbproj"))
MARGIN = 16.0  # the least free space kept around every node (the gaps are larger)
LTR, TTB = Orientation.LEFT_TO_RIGHT, Orientation.TOP_TO_BOTTOM


def overlapping(graph: Graph, positions: dict[str, tuple[float, float]]) -> list[tuple[str, str]]:
    """Pairs of nodes whose rectangles, each grown by MARGIN / 2 on every side, meet (sort and sweep on x)."""
    rects = []
    for node_id, (x, y) in positions.items():
        width, height = footprint(graph, node_id)
        rects.append((x - MARGIN / 2, y - MARGIN / 2, x + width + MARGIN / 2, y + height + MARGIN / 2, node_id))
    rects.sort()
    pairs, open_rects = [], []
    for rect in rects:
        open_rects = [other for other in open_rects if other[2] > rect[0]]
        pairs += [(other[4], rect[4]) for other in open_rects if other[1] < rect[3] and rect[1] < other[3]]
        open_rects.append(rect)
    return pairs


def resnet_like(stages: int, blocks: int) -> tuple[Graph, list[str], list[str]]:
    """Dataset -> stem -> stages of basic blocks (the first of each stage with a downsample branch) -> head ->
    loss -> optimizer, as fx import makes of a ResNet; with the main chain's ids and the downsample nodes'."""
    g = Graph()
    previous = g.add_node("Dataset").id
    chain, branches = [previous], []
    port = "x"

    def then(block: str, source: str, source_port: str = "y", target_port: str = "x") -> str:
        node = g.add_node(block).id
        g.connect(source, source_port, node, target_port)
        return node

    for block in ("Conv2d", "BatchNorm2d", "ReLU"):
        previous = then(block, previous, port)
        port = "y"
        chain.append(previous)
    for stage in range(stages):
        for number in range(blocks):
            entry = previous
            for block in ("Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d"):
                previous = then(block, previous)
                chain.append(previous)
            add = then("Add", previous, target_port="in1")
            if number == 0 and stage > 0:
                branches.append(then("Conv2d", entry))
                branches.append(then("BatchNorm2d", branches[-1]))
                g.connect(branches[-1], "y", add, "in2")
            else:
                g.connect(entry, "y", add, "in2")
            previous = then("ReLU", add)
            chain += [add, previous]
    for block in ("AdaptiveAvgPool2d", "Flatten", "Linear"):
        previous = then(block, previous)
        chain.append(previous)
    loss = then("CrossEntropy", previous, target_port="input")
    g.connect(chain[0], "target", loss, "target")
    then("SGD", loss, "loss", "loss")
    return g, chain, branches


def random_graph(seed: int, size: int) -> Graph:
    """A random network: inputs, one- and two-input blocks wired to random earlier nodes (mostly recent
    ones), some inputs left open, so it may fall in several pieces."""
    rng = random.Random(seed)
    g = Graph()
    made: list[str] = []
    for _ in range(size):
        node = g.add_node(rng.choice(["Input", "ReLU", "Linear", "Add", "Concat"]) if made else "Input").id
        for port in g.input_ports(node):
            if rng.random() < 0.85:
                source = rng.choice(made[-6:] if rng.random() < 0.7 else made)
                g.connect(source, g.spec(source).outputs[0].name, node, port.name)
        made.append(node)
    return g


def laid_out(graph: Graph, orientation: Orientation) -> dict[str, tuple[float, float]]:
    positions = layered_positions(graph, orientation)
    assert set(positions) == set(graph.nodes)
    return positions


@pytest.mark.parametrize("orientation", Orientation)
@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.stem)
def test_no_two_nodes_of_a_sample_overlap(path: Path, orientation: Orientation) -> None:
    graph = load_project(path).graph
    assert overlapping(graph, laid_out(graph, orientation)) == []


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), size=st.integers(1, 40), orientation=st.sampled_from(Orientation))
def test_no_two_nodes_of_a_random_graph_overlap_and_the_same_graph_lays_out_the_same(seed, size, orientation):
    graph = random_graph(seed, size)
    positions = laid_out(graph, orientation)
    assert overlapping(graph, positions) == []
    assert layered_positions(random_graph(seed, size), orientation) == positions


@pytest.mark.parametrize("orientation", Orientation)
def test_a_thousand_node_imported_like_network_overlaps_nowhere_and_keeps_its_chain_straight(orientation):
    graph, chain, branches = resnet_like(stages=8, blocks=18)
    assert len(graph.nodes) > 1000
    positions = laid_out(graph, orientation)
    assert overlapping(graph, positions) == []
    across = 1 if orientation is LTR else 0
    assert {positions[node][across] for node in chain} == {0.0}
    # every downsample runs beside the chain, on one side, not across it
    assert all(positions[node][across] > 0 for node in branches)


@pytest.mark.parametrize("orientation", Orientation)
def test_the_main_chain_is_one_straight_line_and_branches_sit_beside_it(orientation):
    graph, chain, branches = resnet_like(stages=2, blocks=2)
    positions = laid_out(graph, orientation)
    along, across = (0, 1) if orientation is LTR else (1, 0)
    assert {positions[node][across] for node in chain} == {0.0}
    assert [positions[node][along] for node in chain] == sorted({positions[node][along] for node in chain})
    conv, norm = branches
    assert positions[conv][across] == positions[norm][across] > 0
    # the branch follows its input: it starts in the layer after the block's entry
    entry = next(iter(graph.inputs_of(conv).values())).src
    assert positions[entry][along] < positions[conv][along] < positions[norm][along]


def test_the_residual_sample_keeps_its_chain_on_one_row_and_the_loss_after_the_model():
    graph = load_project(next(path for path in SAMPLES if path.stem == "residual_cnn")).graph
    for orientation in Orientation:
        positions = laid_out(graph, orientation)
        along, across = (0, 1) if orientation is LTR else (1, 0)
        model = [n for n in graph.nodes if graph.spec(n).role in ("data", "model")]
        assert {positions[n][across] for n in model} == {0.0}
        loss, optimizer = graph.by_label("loss").id, graph.by_label("optimizer").id
        fc = graph.by_label("fc").id
        assert positions[fc][along] < positions[loss][along] < positions[optimizer][along]
        # beside the model, past its nodes: the target's long edge runs by the model, not through it
        lowest = max(positions[n][across] + footprint(graph, n)[across] for n in model)
        assert positions[loss][across] > lowest
        assert positions[optimizer][across] == positions[loss][across]


def test_orientation_swaps_the_axes():
    graph, _, _ = resnet_like(stages=3, blocks=2)
    across_flow = laid_out(graph, LTR)
    down_flow = laid_out(graph, TTB)
    nodes = list(graph.nodes)
    for a in nodes[::7]:
        for b in nodes:
            # the same layers (x left to right, y top to bottom) and the same order within them
            assert (across_flow[a][0] == across_flow[b][0]) == (down_flow[a][1] == down_flow[b][1])
            assert (across_flow[a][0] < across_flow[b][0]) == (down_flow[a][1] < down_flow[b][1])
            if across_flow[a][0] == across_flow[b][0]:
                assert (across_flow[a][1] < across_flow[b][1]) == (down_flow[a][0] < down_flow[b][0])


def test_the_order_in_each_layer_takes_out_crossings_the_graph_order_would_make():
    g = Graph()
    inputs = [g.add_node("Input").id for _ in range(5)]
    relus = [g.add_node("ReLU").id for _ in range(5)]
    for source, target in zip(inputs, [relus[i] for i in (3, 0, 4, 1, 2)], strict=True):
        g.connect(source, "x", target, "x")
    join = g.add_node("Concat", params={"inputs": 5}).id  # one piece, so the order within layers is all
    for number, relu in enumerate(relus, 1):
        g.connect(relu, "y", join, f"in{number}")
    for orientation in Orientation:
        positions = laid_out(g, orientation)
        across = 1 if orientation is LTR else 0
        by_input = sorted(inputs, key=lambda n: positions[n][across])
        fed = [next(e.dst for e in g.outputs_of(n)) for n in by_input]
        assert [positions[n][across] for n in fed] == sorted(positions[n][across] for n in fed)


def test_an_input_that_feeds_a_late_merge_waits_beside_it():
    g = Graph()
    previous = g.add_node("Input").id
    for _ in range(6):
        node = g.add_node("Linear").id
        g.connect(previous, "y" if g.nodes[previous].block != "Input" else "x", node, "x")
        previous = node
    late = g.add_node("Input").id
    add = g.add_node("Add").id
    g.connect(previous, "y", add, "in1")
    g.connect(late, "x", add, "in2")
    positions = laid_out(g, LTR)
    assert positions[late][0] == positions[previous][0]  # the layer just before the merge
    assert overlapping(g, positions) == []


def test_separate_pieces_are_stacked_beside_each_other_in_graph_order():
    g = Graph()
    first = g.add_node("Input").id
    g.connect(first, "x", g.add_node("ReLU").id, "x")
    second = g.add_node("Input").id
    g.connect(second, "x", g.add_node("Linear").id, "x")
    for orientation in Orientation:
        positions = laid_out(g, orientation)
        across = 1 if orientation is LTR else 0
        assert positions[first][across] < positions[second][across]
        assert overlapping(g, positions) == []


def test_an_empty_graph_has_no_positions():
    assert layered_positions(Graph()) == {}


def test_the_branches_into_a_merge_come_in_the_order_of_its_inputs():
    g = Graph()
    data = g.add_node("Input").id
    join = g.add_node("Concat", params={"inputs": 3}).id
    ends = []
    for length in (1, 3, 2):  # the longest, the main chain, goes into the middle input
        previous, port = data, "x"
        for _ in range(length):
            node = g.add_node("Linear").id
            g.connect(previous, port, node, "x")
            previous, port = node, "y"
        ends.append(previous)
    for number, end in enumerate(ends, 1):
        g.connect(end, "y", join, f"in{number}")
    for orientation in Orientation:
        positions = laid_out(g, orientation)
        across = 1 if orientation is LTR else 0
        assert positions[ends[0]][across] < positions[ends[1]][across] == 0.0 < positions[ends[2]][across]
