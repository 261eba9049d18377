"""The graph model: edits, events and the typed refusals a person sees in the status bar."""

from __future__ import annotations

import copy
import itertools

import pytest

from netbuilder.graph import (
    CycleError,
    Edge,
    EdgeRefusedError,
    Graph,
    GraphError,
    InvalidIdError,
    InvalidLabelError,
    InvalidParamError,
    LabelTakenError,
    NodeNotFoundError,
    PortInUseError,
    PortKindError,
    PortOccupiedError,
    TooManyNodesError,
    UnknownPortError,
)
from netbuilder.graph import graph as graph_module
from netbuilder.graph.events import EdgeAdded, EdgeRemoved, NodeRemoved, ParamChanged
from netbuilder.graph.limits import MAX_NAME_CHARS
from netbuilder.quoting import QUOTE_CHARS


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


def test_delete_then_undo_puts_the_node_back_in_its_place_so_the_saved_file_is_unchanged():
    g = Graph()
    first, middle, last = chain(g, "Linear", "ReLU", "Linear")
    events = []
    stop = g.subscribe(events.append)
    g.remove_node(middle)
    stop()
    assert events[-1] == NodeRemoved(events[-1].node, 1)
    for event in reversed(events):
        g.revert(event)
    assert list(g.nodes) == [first, middle, last]  # the file lists nodes in this order


def test_a_position_that_is_not_two_finite_numbers_is_refused_and_nothing_moves():
    g = Graph()
    node = g.add_node("ReLU", position=(1.0, 2.0)).id
    for bad in ((float("nan"), 0.0), (0.0, float("inf"))):
        with pytest.raises(GraphError, match="two finite numbers"):
            g.move(node, bad)
    assert g.nodes[node].position == (1.0, 2.0)


def test_a_refusal_names_a_long_or_multiline_label_on_one_short_line():
    g = Graph()
    source = g.add_node("ReLU", label="line one\nline two " + "x" * 200).id
    target = g.add_node("CrossEntropy").id
    with pytest.raises(GraphError) as refused:
        g.connect(source, "nope", target, "input")
    message = str(refused.value)
    assert "\n" not in message and message.startswith("line one line two x")
    assert len(message) < 2 * QUOTE_CHARS


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


# ---- ids, labels and limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("node_id", ["n²", "n1\n", "1n", "", "a b", "é", "n" + "9" * 5000, "x" * 65, "n\ud800"])
def test_an_id_outside_the_ascii_pattern_is_refused_with_a_short_message(node_id: str) -> None:
    g = Graph()
    with pytest.raises(InvalidIdError) as info:
        g.add_node("ReLU", node_id=node_id) if node_id else g.add_node("ReLU", node_id="-")
    assert len(str(info.value)) < 200
    assert not g.nodes


def test_ids_a_file_uses_are_kept_and_new_ids_never_clash_with_them() -> None:
    g = Graph()
    for node_id in ("encoder.block-1", "_x", "n7", "n" + "9" * 18):
        g.add_node("ReLU", node_id=node_id)
    assert g.add_node("ReLU").id == "n1" + "0" * 18  # past the largest counted id
    g.add_node("ReLU", node_id="n1" + "0" * 17 + "1")  # more digits than counted: the counter skips it
    assert g.add_node("ReLU").id == "n1" + "0" * 17 + "2"


def test_a_label_no_file_can_save_is_refused_when_added_renamed_or_typed_in_a_text_field() -> None:
    g = Graph()
    with pytest.raises(InvalidLabelError, match="no file can save"):
        g.add_node("ReLU", label="relu\ud800")
    node = g.add_node("ReLU")
    with pytest.raises(InvalidLabelError, match="no file can save"):
        g.rename(node.id, "\udfff")
    assert node.label == "relu1"
    data = g.add_node("Dataset", params={"dataset": "csv"})
    with pytest.raises(InvalidParamError):
        g.set_param(data.id, "path", "data\ud800.csv")
    assert data.params["path"] == "data"


def test_a_label_longer_than_the_limit_is_refused() -> None:
    g = Graph()
    g.add_node("ReLU", label="r" * MAX_NAME_CHARS)
    with pytest.raises(InvalidLabelError, match=f"at most {MAX_NAME_CHARS} characters"):
        g.add_node("ReLU", label="s" * (MAX_NAME_CHARS + 1))
    with pytest.raises(InvalidLabelError, match="empty"):
        g.add_node("ReLU", label=" ")
    copy = g.add_node("ReLU", label=g.unique_label("r" * MAX_NAME_CHARS))  # what paste and duplicate do
    assert copy.label == "r" * (MAX_NAME_CHARS - 1) + "1"


def test_refusals_quote_only_a_short_prefix_of_what_was_given() -> None:
    g = Graph()
    g.add_node("ReLU", label="l" * MAX_NAME_CHARS)
    node = g.add_node("Linear")
    long = "z" * 100_000
    refusals = [
        lambda: g.add_node("ReLU", label="l" * MAX_NAME_CHARS),
        lambda: g.add_node(long),
        lambda: g.node(long),
        lambda: g.by_label(long),
        lambda: g.set_param(node.id, long, 1),
        lambda: g.connect(node.id, long, node.id, "x"),
    ]
    for refuse in refusals:
        with pytest.raises((GraphError, NodeNotFoundError)) as info:
            refuse()
        assert len(str(info.value)) <= 3 * QUOTE_CHARS + 40, str(info.value)[:300]


def test_a_full_graph_refuses_one_node_more(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_module, "MAX_NODES", 3)
    g = Graph()
    ids = chain(g, "Linear", "ReLU", "Linear")
    with pytest.raises(TooManyNodesError, match="at most 3 nodes"):
        g.add_node("ReLU")
    g.remove_node(ids[1])
    g.add_node("ReLU")


# ---- connecting many edges at once -----------------------------------------------------------------------


def _chain_edges(g: Graph, length: int) -> list[Edge]:
    ids = [g.add_node("ReLU").id for _ in range(length)]
    return [Edge(a, "y", b, "x") for a, b in itertools.pairwise(ids)]


def test_connect_all_connects_a_chain_listed_from_its_end_and_tells_each_edge_in_order() -> None:
    g = Graph()
    edges = list(reversed(_chain_edges(g, 3000)))
    events = []
    g.subscribe(events.append)
    g.connect_all(edges)
    assert events == [EdgeAdded(edge) for edge in edges]
    assert g.edge_count() == len(edges)
    assert list(g.outputs_of(edges[0].src)) == [edges[0]]


def test_connect_all_names_the_first_edge_that_closes_a_cycle_as_connect_would() -> None:
    one_by_one, at_once = Graph(), Graph()
    edges = _chain_edges(one_by_one, 6)
    _chain_edges(at_once, 6)
    closing = [Edge(edges[-1].dst, "y", edges[2].src, "x"), Edge(edges[-1].dst, "y", edges[0].src, "x")]
    # The first closing edge needs the chain first: it waits for its input, taken by edges[1], so put it at
    # the end, after a second one whose input is free.
    listed = [*edges[2:], closing[1], *edges[:2]]
    with pytest.raises(GraphError) as expected:
        for edge in listed:
            one_by_one.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
    events = []
    at_once.subscribe(events.append)
    with pytest.raises(EdgeRefusedError) as info:
        at_once.connect_all(listed)
    assert isinstance(info.value.error, CycleError)
    assert info.value.index == len(listed) - 1
    assert str(info.value) == str(expected.value)
    assert at_once.edge_count() == 0 and events == []


def test_connect_all_reports_a_cycle_before_a_later_bad_port() -> None:
    g = Graph()
    a, b = g.add_node("Linear").id, g.add_node("Linear").id
    listed = [Edge(a, "y", b, "x"), Edge(b, "y", a, "x"), Edge(a, "nope", b, "x")]
    with pytest.raises(EdgeRefusedError) as info:
        g.connect_all(listed)
    assert (info.value.index, type(info.value.error)) == (1, CycleError)
    with pytest.raises(EdgeRefusedError) as info:
        g.connect_all([Edge(a, "y", b, "x"), Edge(a, "nope", b, "x")])
    assert (info.value.index, type(info.value.error)) == (1, UnknownPortError)
    assert g.edge_count() == 0


@pytest.mark.parametrize("seed", range(40))
def test_connect_all_refuses_exactly_the_edges_that_close_a_cycle(seed: int) -> None:
    """Against networkx: a random network of Adds, then random edges added at once to it."""
    import random

    import networkx as nx

    rng = random.Random(seed)
    g = Graph()
    ids = [g.add_node("Add", params={"inputs": 4}).id for _ in range(12)]
    for i in range(1, len(ids)):  # acyclic to start: each node fed by earlier ones
        for port in rng.sample(["in1", "in2"], rng.randint(1, 2)):
            g.connect(ids[rng.randrange(i)], "y", ids[i], port)
    new = [Edge(rng.choice(ids), "y", rng.choice(ids), port) for port in ("in3", "in4")]
    new = [edge for edge in new if edge.src != edge.dst and edge.dst not in {e.dst for e in new if e is not edge}]
    reference = nx.DiGraph((e.src, e.dst) for e in g.edges)
    reference.add_edges_from((e.src, e.dst) for e in new)
    before = g.edge_count()
    if nx.is_directed_acyclic_graph(reference):
        g.connect_all(new)
        assert g.edge_count() == before + len(new)
    else:
        with pytest.raises(EdgeRefusedError) as info:
            g.connect_all(new)
        assert isinstance(info.value.error, CycleError)
