"""A composite block's inputs and outputs can be renamed: every instance keeps its connections, a block holding
instances passes the renamed port on, and undo gives the old names back."""

from __future__ import annotations

import pytest

from netbuilder.analysis import analyze
from netbuilder.graph import Graph, GraphError
from netbuilder.graph.grouping import group


def _network() -> tuple[Graph, str, str]:
    """Input -> [Linear -> ReLU] as Mlp -> Linear; then [that Mlp instance] grouped again as Outer."""
    g = Graph()
    source = g.add_node("Input", params={"shape": (4,)})
    fc = g.add_node("Linear", params={"out_features": 8})
    act = g.add_node("ReLU")
    head = g.add_node("Linear", params={"out_features": 2})
    g.connect(source.id, g.spec(source.id).outputs[0].name, fc.id, "x")
    g.connect(fc.id, "y", act.id, "x")
    g.connect(act.id, "y", head.id, "x")
    mlp = group(g, [fc.id, act.id], "Mlp")
    outer = group(g, [mlp], "Outer")
    return g, mlp, outer


def _wiring(g: Graph) -> object:
    definitions = tuple((d.name, d.ports, tuple(sorted(map(str, d.graph.edges)))) for d in g.definitions)
    return definitions, tuple(sorted(map(str, g.edges)))


def test_a_renamed_input_and_output_keep_every_connection_and_undo() -> None:
    g, mlp, _ = _network()
    before, params = _wiring(g), analyze(g).total_params
    events = []
    stop = g.subscribe(events.append)
    g.rename_port("Mlp", "x", "features")
    g.rename_port("Mlp", "y", "hidden")
    stop()
    inside = g.definitions["Outer"].graph
    assert [p.name for p in inside.spec(mlp).inputs] == ["features"]
    assert [p.name for p in inside.spec(mlp).outputs] == ["hidden"]
    assert g.definitions["Outer"].inlets[0].targets == ((mlp, "features"),)  # Outer passes the new name on
    assert g.definitions["Outer"].outlets[0].port == "hidden"
    analysis = analyze(g)
    assert analysis.total_params == params and not analysis.has_errors(training=False)
    for event in reversed(events):
        g.revert(event)
    assert _wiring(g) == before
    for event in events:
        g.replay(event)
    assert g.definitions["Outer"].outlets[0].port == "hidden"


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [("x", "two words", "one word"), ("q", "z", "no input or output"), ("y", "x", "already has a port")],
)
def test_a_port_name_that_cannot_be_is_refused_and_changes_nothing(old: str, new: str, why: str) -> None:
    g, _, _ = _network()
    before = _wiring(g)
    with pytest.raises(GraphError, match=why):
        g.rename_port("Mlp", old, new)
    assert _wiring(g) == before
