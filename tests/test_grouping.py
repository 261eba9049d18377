"""Group and Ungroup, proven over random graphs: the sample projects (two built of composite blocks) and random
networks (branches, merges, open inputs, shape mistakes, a loss that looks at what feeds it), with random
selections.

For every selection: grouping is refused exactly when the selection cannot be one block (empty, a node that is
not a layer, a path that leaves it and comes back), and a refusal changes nothing. Otherwise group then ungroup
gives back the same nodes (ids, labels, parameters, positions) and the same edges; analysis of the grouped graph
tells the same shapes, sizes, parameter counts, MACs and problems as the flat one (an inner problem at its
instance, with its path); and the events a group or an ungroup emits, reverted in reverse order, give back the
graph as it was, node order and definitions included, and replayed redo it exactly (what the undo stack does).
The same holds for a group of a selection holding an instance, for a group inside an opened block (whose ports
then go through the new inner block), ungrouped in either order, and for values set through exposed parameters.
Bounded for CI by NETBUILDER_FUZZ_EXAMPLES (tests/edit_strategies.py).
"""

from __future__ import annotations

import copy
import dataclasses
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from netbuilder.analysis import Analysis, analyze
from netbuilder.analysis.diagnostics import Diagnostic
from netbuilder.analysis.node_check import NodeResult
from netbuilder.blocks.spec import MODEL
from netbuilder.graph import Graph, GraphError
from netbuilder.graph.definitions import Exposed
from netbuilder.graph.events import DefinitionEdited, GraphEvent, NodeAdded, NodeRemoved
from netbuilder.graph.grouping import group, ungroup
from netbuilder.project import load_project
from tests.edit_strategies import SEQUENCE_SETTINGS

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "sample_projects").glob("*.nbproj"))
_LAYERS = ["Linear", "Linear", "ReLU", "GELU", "LayerNorm", "Dropout", "Softmax", "LogSoftmax", "Add", "Concat"]


# ---- graphs --------------------------------------------------------------------------------------------


def random_network(seed: int) -> Graph:
    """A random vector network: a Dataset or Inputs, layers wired to recent earlier nodes (branches and
    merges, now and then an input left open or a size pinned wrong), and most of the time a loss fed by the
    last layer (CrossEntropy or NLL, which look at the block before them) and an optimizer."""
    rng = random.Random(seed)
    g = Graph()
    with_dataset = rng.random() < 0.7
    if with_dataset:
        source = g.add_node("Dataset", params={"dataset": "blobs", "features": 8, "classes": 4}).id
    else:
        source = g.add_node("Input", params={"shape": (8,)}).id
    made = [source]
    for index in range(rng.randint(2, 14)):
        block = rng.choice(_LAYERS)
        params: dict[str, Any] = {}
        if block == "Linear":
            params["out_features"] = rng.choice([4, 8, 8, 16])
            if rng.random() < 0.15:
                params["in_features"] = rng.choice([4, 8, 16])
        if block in ("Add", "Concat") and rng.random() < 0.3:
            params["inputs"] = 3
        if block == "Dropout":
            params["p"] = rng.choice([0.1, 0.5])
        position = (250.0 * (index + 1), rng.choice([0.0, 0.0, 150.0, -150.0]))
        node = g.add_node(block, params=params, position=position).id
        for port in g.input_ports(node):
            if rng.random() < 0.93:
                feeder = rng.choice(made[-4:] if rng.random() < 0.8 else made)
                g.connect(feeder, g.spec(feeder).outputs[0].name, node, port.name)
        made.append(node)
    if with_dataset and rng.random() < 0.8:
        x = 250.0 * len(made)
        loss = g.add_node(rng.choice(["CrossEntropy", "NLL"]), position=(x, 0.0)).id
        g.connect(made[-1], "y", loss, "input")
        g.connect(source, "target", loss, "target")
        g.connect(loss, "loss", g.add_node("Adam", position=(x + 250.0, 0.0)).id, "loss")
    return g


@dataclass(frozen=True, repr=False)
class Network:
    """A graph to group, made afresh on each call (the flat one stays at hand to compare with)."""

    name: str
    make: Callable[[], Graph]

    def __repr__(self) -> str:
        return self.name


@st.composite
def networks(draw: st.DrawFn) -> Network:
    """A sample project's graph (two are built of composite blocks) or a random network."""
    if draw(st.booleans()):
        path = draw(st.sampled_from(SAMPLES))
        return Network(path.name, lambda: load_project(path).graph)
    seed = draw(st.integers(0, 10**9))
    return Network(f"random_network({seed})", lambda: random_network(seed))


def layers(graph: Graph) -> list[str]:
    return [n for n in graph.nodes if graph.spec(n).role == MODEL]


def convex(graph: Graph, selected: set[str]) -> set[str]:
    """`selected` with every node on a path between two of its nodes: always one block."""
    return selected | (graph.downstream(selected) & graph.upstream(selected))


def groupable(graph: Graph, selected: set[str]) -> bool:
    """The rule, said independently of grouping.py: layers only, and nothing outside both fed by the
    selection and feeding it (a path that leaves and comes back)."""
    if not selected or any(graph.spec(n).role != MODEL for n in selected):
        return False
    return not ((graph.downstream(selected) - selected) & (graph.upstream(selected) - selected))


# ---- what is compared ----------------------------------------------------------------------------------


def nodes_and_edges(graph: Graph) -> tuple[dict[str, tuple[Any, ...]], set[tuple[str, str, str, str]]]:
    """What a person sees of a graph: each node's block, label, parameters and position, and the edges."""
    nodes = {n.id: (n.block, n.label, dict(n.params), n.position) for n in graph.nodes.values()}
    return nodes, {(e.src, e.src_port, e.dst, e.dst_port) for e in graph.edges}


def exact(graph: Graph) -> tuple[Any, ...]:
    """Everything the project file holds of a graph: nodes in their order, edges, and each definition (in
    order) with its ports, parameters and inside."""
    nodes = [(n.id, n.block, n.label, dict(n.params), n.position) for n in graph.nodes.values()]
    edges = {(e.src, e.src_port, e.dst, e.dst_port) for e in graph.edges}
    definitions = (
        [(d.name, d.inlets, d.outlets, d.exposed, exact_inside(d.graph)) for d in graph.definitions]
        if graph.owner is None
        else []
    )
    return nodes, edges, definitions


def exact_inside(graph: Graph) -> tuple[Any, ...]:
    nodes = [(n.id, n.block, n.label, dict(n.params), n.position) for n in graph.nodes.values()]
    return nodes, {(e.src, e.src_port, e.dst, e.dst_port) for e in graph.edges}


def flat_results(graph: Graph, analysis: Analysis) -> dict[str, NodeResult]:
    """Each node's result, an instance's replaced by those of the nodes inside it (recursively)."""
    found: dict[str, NodeResult] = {}

    def visit(g: Graph, results: dict[str, NodeResult]) -> None:
        for node_id, result in results.items():
            if result.inner is None:
                found[node_id] = result
            else:
                visit(g.definition_of(node_id).graph, result.inner)

    visit(graph, analysis.results)
    return found


def problem(graph: Graph, d: Diagnostic) -> tuple[Any, ...]:
    """A diagnostic as the flat graph would tell it: an instance's inner problem at the inner node, with the
    path taken off its message. Fixes are left out (a fix on an edge names the edge's ends)."""
    node_id, message, inside = d.node, d.message, graph
    for label in d.path:
        inside = inside.definition_of(node_id).graph
        node_id = inside.by_label(label).id
        message = message.split(" › ", 1)[1]
    return (node_id, d.severity, d.code, message, d.port, d.param, d.training_only)


def node_problems(graph: Graph, analysis: Analysis) -> Counter[tuple[Any, ...]]:
    return Counter(problem(graph, d) for r in analysis.results.values() for d in r.diagnostics)


def graph_problems(graph: Graph, analysis: Analysis, leave_out: set[str]) -> Counter[tuple[Any, ...]]:
    """The whole-graph problems (data cut off, training setup), but those at `leave_out`."""
    return Counter(problem(graph, d) for d in analysis.structural if d.node not in leave_out)


def assert_same_analysis(flat: Graph, before: Analysis, grouped: Graph, after: Analysis, selected: set[str]) -> None:
    """Shapes, sizes, counts and problems through the composite are those of the flat graph."""
    inner_before = flat_results(flat, before)
    inner_after = flat_results(grouped, after)
    assert set(inner_after) == set(inner_before)
    for node_id, result in inner_before.items():
        got = inner_after[node_id]
        assert got.outputs == result.outputs, node_id
        assert got.resolved == result.resolved, node_id
        assert (got.params, got.macs) == (result.params, result.macs), node_id
    built = set(before.model_nodes)  # what model.py builds of the flat graph
    whole = 0 < len(selected & built) < len(selected)  # a block is built whole, a branch left out with it
    if not whole:
        assert (after.total_params, after.total_macs) == (before.total_params, before.total_macs)
    assert node_problems(grouped, after) == node_problems(flat, before)
    # Data reaching a node and an output going unused are told per node: the composite answers for the whole
    # selection at once, so those are compared only where the grouping cannot change them.
    moved = flat.downstream(selected) if selected <= set(flat.nodes) else set(flat.nodes)
    changed = moved | set(grouped.nodes) - set(flat.nodes)
    said = graph_problems(grouped, after, changed), graph_problems(flat, before, changed)
    if whole:  # whether what is built has parameters to train changes with it
        said = tuple(Counter({p: n for p, n in c.items() if p[2] != "no-parameters"}) for c in said)
    assert said[0] == said[1]


# ---- events, as the undo stack keeps them --------------------------------------------------------------


def snapshot(event: GraphEvent) -> GraphEvent:
    """The event as the undo stack keeps it: a Node in it is copied (the graph may change the live one)."""
    if isinstance(event, NodeAdded | NodeRemoved):
        return dataclasses.replace(event, node=copy.deepcopy(event.node))
    if isinstance(event, DefinitionEdited):
        return dataclasses.replace(event, event=snapshot(event.event))
    return event


def recorded(graph: Graph, edit: Callable[[], Any]) -> tuple[Any, list[GraphEvent]]:
    events: list[GraphEvent] = []
    stop = graph.subscribe(lambda event: events.append(snapshot(event)))
    try:
        return edit(), events
    finally:
        stop()


def assert_undo_redo(graph: Graph, events: list[GraphEvent], before: Any) -> None:
    """Reverting `events` in reverse order gives back `before`; replaying them gives back the graph now. After
    every step, each definition's ports and parameters name nodes that exist (a view may read them then)."""
    now = exact(graph)
    for change in reversed(events):
        graph.revert(change)
        assert_ports_name_nodes(graph)
    assert exact(graph) == before
    for change in events:
        graph.replay(change)
        assert_ports_name_nodes(graph)
    assert exact(graph) == now


def assert_ports_name_nodes(graph: Graph) -> None:
    for definition in graph.definitions:
        named = [t for i in definition.inlets for t in i.targets] + [t for e in definition.exposed for t in e.targets]
        named += [(o.node, o.port) for o in definition.outlets]
        assert all(node in definition.graph.nodes for node, _ in named), definition.name


# ---- the properties ------------------------------------------------------------------------------------


@SEQUENCE_SETTINGS
@given(network=networks(), data=st.data())
def test_group_then_ungroup_gives_the_graph_back(network: Network, data: st.DataObject) -> None:
    graph, reference = network.make(), network.make()
    candidates = layers(graph)
    if not candidates:
        return
    selected = set(data.draw(st.lists(st.sampled_from(candidates), min_size=1, unique=True)))
    if data.draw(st.booleans()):
        selected = convex(graph, selected)
    flat = exact(graph)
    seen = nodes_and_edges(graph)
    before = analyze(graph)
    event("refused" if not groupable(graph, selected) else "grouped")
    if not groupable(graph, selected):
        with pytest.raises(GraphError):
            group(graph, selected, "Block")
        assert exact(graph) == flat
        return

    instance, events = recorded(graph, lambda: group(graph, selected, "Block"))
    assert set(graph.nodes) == {node[0] for node in flat[0]} - selected | {instance}
    assert set(graph.definitions["Block"].graph.nodes) == selected
    assert_same_analysis(reference, before, graph, analyze(graph), selected)
    assert_undo_redo(graph, events, flat)

    grouped = exact(graph)
    put_back, events = recorded(graph, lambda: ungroup(graph, instance))
    assert set(put_back) == selected
    assert nodes_and_edges(graph) == seen
    assert "Block" not in graph.definitions
    assert_undo_redo(graph, events, grouped)


@SEQUENCE_SETTINGS
@given(network=networks(), data=st.data())
def test_refused_selections_change_nothing(network: Network, data: st.DataObject) -> None:
    """Data, losses and optimizers stay outside; a path that leaves and comes back is refused; so is nothing."""
    graph = network.make()
    others = [n for n in graph.nodes if graph.spec(n).role != MODEL]
    picked = set(data.draw(st.lists(st.sampled_from(list(graph.nodes)), unique=True)))
    selected = picked | {data.draw(st.sampled_from(others))} if others and data.draw(st.booleans()) else picked
    if groupable(graph, selected):
        return
    flat = exact(graph)
    events: list[GraphEvent] = []
    graph.subscribe(events.append)
    with pytest.raises(GraphError):
        group(graph, selected, "Block")
    assert not events
    assert exact(graph) == flat


@SEQUENCE_SETTINGS
@given(network=networks(), data=st.data(), inner_first=st.booleans())
def test_nested_groups_ungroup_either_way(network: Network, data: st.DataObject, inner_first: bool) -> None:
    """Group, then group a selection holding that instance: analysis is still the flat graph's, and
    ungrouping the outer then the inner, or the inner (inside the outer's definition) then the outer, gives the
    graph back; every step's events undo and redo it."""
    graph, reference = network.make(), network.make()
    candidates = layers(graph)
    if not candidates:
        return
    first = convex(graph, set(data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique=True))))
    seen = nodes_and_edges(graph)
    before = analyze(graph)
    inner = group(graph, first, "Inner")
    around = set(data.draw(st.lists(st.sampled_from(layers(graph)), max_size=4, unique=True)))
    second = convex(graph, around | {inner})
    state = exact(graph)
    outer, events = recorded(graph, lambda: group(graph, second, "Outer"))
    assert_undo_redo(graph, events, state)
    selected = (second - {inner}) | first
    assert_same_analysis(reference, before, graph, analyze(graph), selected)
    assert graph.definitions["Outer"].graph.nodes[inner].block == "Inner"

    steps: list[tuple[Graph, str]]
    if inner_first:
        steps = [(graph.definitions["Outer"].graph, inner), (graph, outer)]
    else:
        steps = [(graph, outer), (graph, inner)]
    for where, instance in steps:
        state = exact(graph)
        _, events = recorded(graph, lambda where=where, instance=instance: ungroup(where, instance))
        assert_undo_redo(graph, events, state)
        assert_same_analysis(reference, before, graph, analyze(graph), selected)
    assert nodes_and_edges(graph) == seen
    assert [d.name for d in graph.definitions] == [d.name for d in reference.definitions]


@SEQUENCE_SETTINGS
@given(network=networks(), data=st.data(), inner_first=st.booleans())
def test_grouping_inside_a_definition_keeps_its_ports(network: Network, data: st.DataObject, inner_first: bool) -> None:
    """Group a selection, open the block and group part of its inside: the block's inputs and outputs that led
    into that part go through the new inner block, so analysis is still the flat graph's; ungrouping either
    first gives the graph back, and every step's events undo and redo it."""
    graph, reference = network.make(), network.make()
    candidates = layers(graph)
    if not candidates:
        return
    outer_nodes = convex(graph, set(data.draw(st.lists(st.sampled_from(candidates), min_size=1, unique=True))))
    seen = nodes_and_edges(graph)
    before = analyze(graph)
    outer = group(graph, outer_nodes, "Outer")
    inside = graph.definitions["Outer"].graph
    part = data.draw(st.lists(st.sampled_from(sorted(outer_nodes)), min_size=1, unique=True))
    inner_nodes = convex(inside, set(part))
    state = exact(graph)
    inner, events = recorded(graph, lambda: group(inside, inner_nodes, "Inner"))
    assert_undo_redo(graph, events, state)
    assert_same_analysis(reference, before, graph, analyze(graph), outer_nodes)

    steps = [(inside, inner), (graph, outer)] if inner_first else [(graph, outer), (graph, None)]
    for where, instance in steps:
        if instance is None:  # put back at the top, the inner block's instance took a free id there
            (instance,) = graph.instances("Inner")
        state = exact(graph)
        _, events = recorded(graph, lambda where=where, instance=instance: ungroup(where, instance))
        assert_undo_redo(graph, events, state)
        assert_same_analysis(reference, before, graph, analyze(graph), outer_nodes)
    assert nodes_and_edges(graph) == seen
    assert [d.name for d in graph.definitions] == [d.name for d in reference.definitions]


@SEQUENCE_SETTINGS
@given(network=networks(), data=st.data())
def test_exposed_values_reach_the_inside_and_ungroup_keeps_them(network: Network, data: st.DataObject) -> None:
    """Expose the widths of some grouped Linears as one parameter and set it on the instance: analysis is that
    of the flat graph with those widths, and ungrouping puts the nodes back with them."""
    graph = network.make()
    linears = [n for n in graph.nodes if graph.nodes[n].block == "Linear"]
    if not linears:
        return
    chosen = set(data.draw(st.lists(st.sampled_from(linears), min_size=1, max_size=3, unique=True)))
    selected = convex(graph, chosen)
    width = data.draw(st.sampled_from([2, 5, 16]))
    instance = group(graph, selected, "Block")
    targets = tuple(sorted((n, "out_features") for n in chosen))
    graph.expose("Block", Exposed("width", targets))
    graph.set_param(instance, "width", width)

    widened = network.make()
    for node_id in chosen:
        widened.set_param(node_id, "out_features", width)
    assert_same_analysis(widened, analyze(widened), graph, analyze(graph), selected)
    ungroup(graph, instance)
    assert nodes_and_edges(graph) == nodes_and_edges(widened)
