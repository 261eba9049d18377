"""The graph model: edits, events and the typed refusals a person sees in the status bar."""

from __future__ import annotations

import copy
import itertools

import pytest

from netbuilder.graph import (
    CycleError,
    Graph,
    GraphError,
    InvalidParamError,
    LabelTakenError,
    PortInUseError,
    PortKindError,
    PortOccupiedError,
    UnknownPortError,
)
from netbuilder.graph.events import EdgeAdded, EdgeRemoved, NodeRemoved, ParamChanged


def chain(graph: Graph, *blocks: str) -> list[str]:
    ids = [graph.add_node(block, position=(i * 100.0, 0.0)).id for i, block in enumerate(blocks)]
    for a, b in itertools.pairwise(ids):
        out = graph.spec(a).outputs[0].name
        graph.connect(a, out, b, graph.input_ports(b)[0].name)
    return ids


def test_labels_are_unique_and_numbered():
    g = Graph()
    assert [g.add_node("Linear").label for _ in range(3)] == ["fc1", "fc2", "fc3"]
    with pytest.raises(LabelTakenError):
        g.add_node("ReLU", label="fc2")
    g.rename(g.by_label("fc1").id, "encoder")
    assert g.add_node("Linear").label == "fc1"


def test_cycle_is_refused_and_graph_unchanged():
    g = Graph()
    a, _b, c = chain(g, "Linear", "ReLU", "Linear")
    with pytest.raises(CycleError, match="cycle"):
        g.connect(c, "y", a, "x")
    with pytest.raises(CycleError):
        g.connect(a, "y", a, "x")
    assert g.edge_count() == 2


def test_occupied_input_is_refused():
    g = Graph()
    _a, b = chain(g, "Linear", "ReLU")
    c = g.add_node("Linear").id
    with pytest.raises(PortOccupiedError, match="already fed by fc1"):
        g.connect(c, "y", b, "x")


def test_kind_mismatch_is_refused():
    g = Graph()
    data = g.add_node("Dataset").id
    fc = g.add_node("Linear").id
    loss = g.add_node("CrossEntropy").id
    adam = g.add_node("Adam").id
    with pytest.raises(PortKindError, match="target"):
        g.connect(data, "target", fc, "x")
    with pytest.raises(PortKindError):
        g.connect(fc, "y", adam, "loss")
    g.connect(data, "x", loss, "target")  # an autoencoder's target is the input itself
    with pytest.raises(UnknownPortError):
        g.connect(fc, "nope", loss, "input")


def test_events_for_every_change_and_node_removal_takes_edges_first():
    g = Graph()
    events = []
    g.subscribe(events.append)
    a, b, c = chain(g, "Linear", "ReLU", "Linear")
    g.set_param(a, "out_features", 8)
    events.clear()
    removed = g.remove_node(b)
    assert len(removed) == 2
    assert [type(e) for e in events] == [EdgeRemoved, EdgeRemoved, NodeRemoved]
    assert g.edge_count() == 0 and b not in g.nodes
    assert {g.nodes[a].label, g.nodes[c].label} == {"fc1", "fc2"}


def _state(g: Graph) -> tuple:
    nodes = sorted((n.id, n.block, n.label, sorted(n.params.items()), n.position) for n in g.nodes.values())
    return nodes, sorted((e.src, e.src_port, e.dst, e.dst_port) for e in g.edges)


def test_recorded_events_revert_to_the_start_and_replay_to_the_end():
    g = Graph()
    a, b, c = chain(g, "Linear", "ReLU", "Linear")
    start = _state(g)
    events = []
    stop = g.subscribe(lambda event: events.append(copy.deepcopy(event)))
    g.set_param(a, "out_features", 8)
    g.rename(c, "head")
    g.move(b, (40.0, 12.5))
    g.remove_node(b)  # its two edges first, then the node
    d = g.add_node("Tanh").id
    g.connect(a, "y", d, "x")
    g.connect(d, "y", c, "x")
    stop()
    end = _state(g)
    assert len(events) == 9
    for event in reversed(events):
        g.revert(event)
    assert _state(g) == start
    for event in events:
        g.replay(event)
    assert _state(g) == end


def test_set_param_validates_and_reports_old_and_new():
    g = Graph()
    events = []
    fc = g.add_node("Linear").id
    g.subscribe(events.append)
    g.set_param(fc, "out_features", 10)
    assert events == [ParamChanged(fc, "out_features", 64, 10)]
    with pytest.raises(InvalidParamError) as err:
        g.set_param(fc, "out_features", -4)
    assert err.value.param == "out_features"
    assert "got -4" in err.value.reason
    with pytest.raises(InvalidParamError):
        g.set_param(fc, "no_such_param", 1)
    assert g.nodes[fc].params["out_features"] == 10


def test_variadic_ports_follow_the_inputs_parameter():
    g = Graph()
    add = g.add_node("Add", params={"inputs": 3}).id
    assert [p.name for p in g.input_ports(add)] == ["in1", "in2", "in3"]
    src = g.add_node("ReLU").id
    g.connect(src, "y", add, "in3")
    with pytest.raises(PortInUseError, match="in3"):
        g.set_param(add, "inputs", 2)
    g.disconnect(g.inputs_of(add)["in3"])
    g.set_param(add, "inputs", 2)
    with pytest.raises(UnknownPortError):
        g.connect(src, "y", add, "in3")


def test_unknown_block_and_bad_params_on_add():
    g = Graph()
    with pytest.raises(GraphError, match="unknown block"):
        g.add_node("Transmogrifier")
    with pytest.raises(InvalidParamError):
        g.add_node("Linear", params={"out_features": 10**400})
    assert not g.nodes


def test_edge_events_and_check_connection_preview():
    g = Graph()
    events = []
    a = g.add_node("Linear").id
    b = g.add_node("ReLU").id
    g.subscribe(events.append)
    edge = g.connect(a, "y", b, "x")
    assert events == [EdgeAdded(edge)]
    with pytest.raises(PortOccupiedError):
        g.check_connection(edge)
