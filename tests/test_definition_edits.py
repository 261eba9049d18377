"""The edits of a project's definitions are the top graph's: made from inside a block, or naming a block the
project does not have, each is refused with what to do, and the project is left as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from netbuilder.graph import Graph, GraphError, NodeNotFoundError
from netbuilder.graph.definitions import Exposed
from netbuilder.graph.grouping import group


def _project() -> tuple[Graph, Graph, str]:
    """Input -> [Linear -> ReLU] grouped as Mlp; returns the top graph, Mlp's inside and its Linear's id."""
    top = Graph()
    source = top.add_node("Input", params={"shape": (4,)})
    fc = top.add_node("Linear", params={"out_features": 8})
    act = top.add_node("ReLU")
    top.connect(source.id, top.spec(source.id).outputs[0].name, fc.id, "x")
    top.connect(fc.id, "y", act.id, "x")
    group(top, [fc.id, act.id], "Mlp")
    return top, top.definitions["Mlp"].graph, fc.id


def _state(top: Graph) -> tuple[object, ...]:
    return tuple(
        (d.name, d.ports, d.graph.owner, tuple((n.block, tuple(n.params.items())) for n in d.graph.nodes.values()))
        for d in top.definitions
    ) + tuple((n.block, tuple(n.params.items())) for n in top.nodes.values())


EDITS: dict[str, Callable[[Graph, str], object]] = {
    "rename": lambda g, fc: g.rename_definition("Mlp", "Trunk"),
    "remove": lambda g, fc: g.remove_definition("Mlp"),
    "set ports": lambda g, fc: g.set_ports("Mlp", ((), (), ())),
    "expose": lambda g, fc: g.expose("Mlp", Exposed("width", ((fc, "out_features"),))),
    "unexpose": lambda g, fc: g.unexpose("Mlp", "width"),
}


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        ("rename", "definitions belong to the project: rename them through its top graph"),
        ("remove", "definitions belong to the project: change them through its top graph"),
        ("set ports", "definitions belong to the project: change them through its top graph"),
        ("expose", "definitions belong to the project: change them through its top graph"),
        ("unexpose", "definitions belong to the project: change them through its top graph"),
    ],
)
def test_a_definition_edit_from_inside_a_block_is_refused_and_changes_nothing(edit: str, why: str) -> None:
    top, inside, fc = _project()
    top.expose("Mlp", Exposed("width", ((fc, "out_features"),)))
    before = _state(top)
    with pytest.raises(GraphError) as refused:
        EDITS[edit](inside, fc)
    assert str(refused.value) == why
    assert _state(top) == before


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_definition_edit_naming_a_block_the_project_lacks_is_refused(edit: str) -> None:
    top, _, fc = _project()
    top.remove_node(top.instances("Mlp")[0])
    top.remove_definition("Mlp")
    before = _state(top)
    with pytest.raises(NodeNotFoundError, match="no block named 'Mlp'"):
        EDITS[edit](top, fc)
    assert _state(top) == before


def test_more_copies_than_a_project_can_hold_are_refused_before_they_are_made() -> None:
    from netbuilder.graph.definitions import expanded_size
    from netbuilder.graph.limits import MAX_EXPANDED_NODES

    g, _, _ = _project()
    mlp = g.instances("Mlp")[0]
    outer = group(g, [mlp], "Outer")
    assert expanded_size(g) == len(g.nodes) + 1 + 2  # Outer holds Mlp, which holds two blocks
    inside = g.definitions["Outer"].graph
    inside.set_param(mlp, "repeat", 100)  # Outer's Mlp, 100 times: 1 + 200 inside Outer
    g.set_param(outer, "repeat", 10)
    assert expanded_size(g) == len(g.nodes) + 10 * 201
    with pytest.raises(GraphError, match="repeat it fewer times"):
        g.set_param(outer, "repeat", MAX_EXPANDED_NODES // 201 + 1)
    assert g.nodes[outer].params["repeat"] == 10
