"""Exposing an inner parameter makes it a parameter of the composite block, set per instance, and undoes."""

from __future__ import annotations

import pytest

from netbuilder.analysis import analyze
from netbuilder.graph import Graph, GraphError
from netbuilder.graph.definitions import Exposed
from netbuilder.graph.grouping import group


def _block() -> tuple[Graph, str, str, str]:
    """Input -> [Linear -> ReLU -> Linear] grouped as Mlp; returns the graph, the instance and the two Linears."""
    g = Graph()
    source = g.add_node("Input", params={"shape": (4,)})
    first = g.add_node("Linear", params={"out_features": 8})
    act = g.add_node("ReLU")
    second = g.add_node("Linear", params={"out_features": 3})
    g.connect(source.id, g.spec(source.id).outputs[0].name, first.id, "x")
    g.connect(first.id, "y", act.id, "x")
    g.connect(act.id, "y", second.id, "x")
    return g, group(g, [first.id, act.id, second.id], "Mlp"), first.id, second.id


def test_an_exposed_parameter_is_set_per_instance_and_analysis_follows_it() -> None:
    g, instance, first, _ = _block()
    g.expose("Mlp", Exposed("hidden", ((first, "out_features"),)))
    assert g.nodes[instance].params["hidden"] == 8  # the inside's value is the default
    g.set_param(instance, "hidden", 16)
    assert analyze(g).total_params == (4 * 16 + 16) + (16 * 3 + 3)


def test_exposing_and_unexposing_undo_with_each_instances_value() -> None:
    g, instance, first, _ = _block()
    events = []
    stop = g.subscribe(events.append)
    g.expose("Mlp", Exposed("hidden", ((first, "out_features"),)))
    g.set_param(instance, "hidden", 16)
    g.unexpose("Mlp", "hidden")
    stop()
    assert "hidden" not in g.nodes[instance].params
    assert analyze(g).total_params == (4 * 8 + 8) + (8 * 3 + 3)  # the inside's own value again
    undone = list(reversed(events))
    g.revert(undone[0])
    assert g.nodes[instance].params["hidden"] == 16
    for event in undone[1:]:
        g.revert(event)
    assert g.definitions["Mlp"].exposed == () and "hidden" not in g.nodes[instance].params
    for event in events:
        g.replay(event)
    assert "hidden" not in g.nodes[instance].params and g.definitions["Mlp"].exposed == ()


@pytest.mark.parametrize(
    ("name", "targets", "why"),
    [
        ("two words", "first", "a word of letters"),
        ("repeat", "first", "already has a parameter"),
        ("width", "nowhere", "no inner parameter"),
        ("width", "mixed", "different kinds"),
    ],
)
def test_an_exposure_that_cannot_be_is_refused_and_changes_nothing(name: str, targets: str, why: str) -> None:
    g, instance, first, second = _block()
    chosen = {
        "first": ((first, "out_features"),),
        "nowhere": ((first, "no_such"),),
        "mixed": ((first, "out_features"), (second, "bias")),
    }[targets]
    with pytest.raises(GraphError, match=why):
        g.expose("Mlp", Exposed(name, chosen))
    assert g.definitions["Mlp"].exposed == () and g.nodes[instance].params == {"repeat": 1}


def test_an_inner_parameter_is_set_by_one_exposed_parameter_at_most() -> None:
    g, _, first, _ = _block()
    g.expose("Mlp", Exposed("hidden", ((first, "out_features"),)))
    with pytest.raises(GraphError, match="already set"):
        g.expose("Mlp", Exposed("width", ((first, "out_features"),)))
