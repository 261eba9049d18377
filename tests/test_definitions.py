"""Composite definitions: the rules a project's blocks keep (no block inside itself, no removing one still in
use, no name a catalogue block has), exposed parameters that set inner values, problems inside an instance told
at the instance with their path, and analysis that follows edits made inside a definition."""

from __future__ import annotations

import pytest

from netbuilder.analysis import Analysis, Analyzer, analyze
from netbuilder.graph import Graph, GraphError
from netbuilder.graph.definitions import Definition, Exposed, Inlet, Outlet
from netbuilder.graph.events import DefinitionEdited, GraphEvent
from netbuilder.graph.grouping import group, ungroup


def mlp_block(top: Graph, name: str = "Block", *, exposed: bool = True) -> Definition:
    """x -> Linear(16) -> ReLU -> Linear(8): a definition built by hand, its first width exposed as `width`."""
    inside = Graph(top.definitions, owner=name)
    fc1 = inside.add_node("Linear", label="fc1", params={"out_features": 16}, position=(0.0, 0.0)).id
    act = inside.add_node("ReLU", label="act", position=(250.0, 0.0)).id
    fc2 = inside.add_node("Linear", label="fc2", params={"out_features": 8}, position=(500.0, 0.0)).id
    inside.connect(fc1, "y", act, "x")
    inside.connect(act, "y", fc2, "x")
    definition = Definition(
        name,
        inside,
        (Inlet("x", ((fc1, "x"),)),),
        (Outlet("y", fc2, "y"),),
        exposed=(Exposed("width", ((fc1, "out_features"),)),) if exposed else (),
    )
    top.add_definition(definition)
    return definition


def fed(top: Graph, block: str, features: int = 4) -> tuple[str, str]:
    """An Input of `features` feeding a new instance of `block`; returns (input, instance)."""
    source = top.add_node("Input", params={"shape": (features,)}).id
    instance = top.add_node(block, position=(250.0, 0.0)).id
    top.connect(source, "x", instance, "x")
    return source, instance


def same(a: Analysis, b: Analysis) -> None:
    assert a.order == b.order
    assert {n: (r.outputs, r.params, r.macs) for n, r in a.results.items()} == {
        n: (r.outputs, r.params, r.macs) for n, r in b.results.items()
    }
    assert a.diagnostics == b.diagnostics


# ---- the rules a definition keeps ----------------------------------------------------------------------


def test_a_definition_cannot_contain_itself_directly_or_through_another():
    top = Graph()
    outer = mlp_block(top, "Outer")
    inner = mlp_block(top, "Inner")
    with pytest.raises(GraphError, match="cannot contain itself"):
        outer.graph.add_node("Outer")
    outer.graph.add_node("Inner")
    with pytest.raises(GraphError, match="cannot contain itself"):
        inner.graph.add_node("Outer")
    assert "Outer" not in {n.block for n in inner.graph.nodes.values()}


def test_a_definition_in_use_cannot_be_removed():
    top = Graph()
    mlp_block(top, "Inner")
    outer = mlp_block(top, "Outer")
    _, instance = fed(top, "Outer")
    with pytest.raises(GraphError, match="still used"):
        top.remove_definition("Outer")
    top.remove_node(instance)
    top.remove_definition("Outer")
    assert "Outer" not in top.definitions
    used = mlp_block(top, "Outer")
    assert used is not outer
    used.graph.add_node("Inner")
    with pytest.raises(GraphError, match="still used by Outer"):
        top.remove_definition("Inner")


@pytest.mark.parametrize("name", ["Linear", "Conv2d", "Dataset", "Block", "", "  "])
def test_a_name_a_block_already_has_is_refused(name: str):
    top = Graph()
    mlp_block(top, "Block")
    relu = top.add_node("ReLU").id
    with pytest.raises(GraphError):
        group(top, {relu}, name)
    assert relu in top.nodes
    assert [d.name for d in top.definitions] == ["Block"]


def test_definitions_belong_to_the_top_graph_of_their_project():
    top, other = Graph(), Graph()
    with pytest.raises(GraphError, match="another project"):
        top.add_definition(Definition("Foreign", Graph(other.definitions, owner="Foreign"), (), ()))
    block = mlp_block(top)
    with pytest.raises(GraphError, match="top graph"):
        block.graph.add_definition(Definition("Nested", Graph(top.definitions, owner="Nested"), (), ()))


# ---- exposed parameters --------------------------------------------------------------------------------


def test_exposed_parameters_set_inner_values_and_analysis_follows_them():
    top = Graph()
    block = mlp_block(top)
    _, first = fed(top, "Block")
    second = top.add_node("Block", position=(500.0, 0.0)).id
    top.connect(first, "y", second, "x")
    assert top.nodes[first].params["width"] == 16
    top.set_param(second, "width", 32)

    analysis = analyze(top)
    fc1 = block.graph.by_label("fc1").id
    assert analysis.results[first].inner[fc1].outputs["y"].shape == ("N", 16)
    assert analysis.results[second].inner[fc1].outputs["y"].shape == ("N", 32)
    assert analysis.results[second].outputs["y"].shape == ("N", 8)
    # Linear(4 -> 16) + Linear(16 -> 8), then Linear(8 -> 32) + Linear(32 -> 8): weights and biases
    assert analysis.total_params == (4 * 16 + 16 + 16 * 8 + 8) + (8 * 32 + 32 + 32 * 8 + 8)
    assert block.graph.nodes[fc1].params["out_features"] == 16, "an instance's value stays its own"

    with pytest.raises(GraphError):
        top.set_param(second, "width", 0)
    ids = ungroup(top, second)
    assert top.nodes[ids[0]].params["out_features"] == 32, "ungrouping keeps the instance's values"
    assert "Block" in top.definitions, "the other instance still uses the definition"


def test_an_exposed_parameter_defaults_to_the_value_inside_and_keeps_its_type():
    top = Graph()
    block = mlp_block(top)
    spec = block.spec()
    assert spec.params[0].name == "width"
    assert spec.param("width").default == 16
    assert [p.name for p in spec.inputs] == ["x"]
    assert [p.name for p in spec.outputs] == ["y"]
    assert spec.category == "This project"
    instance = top.add_node("Block").id
    with pytest.raises(GraphError):
        top.set_param(instance, "width", "wide")


# ---- problems inside an instance -----------------------------------------------------------------------


def test_an_inner_problem_is_told_at_the_instance_with_its_path():
    top = Graph()
    block = mlp_block(top)
    block.graph.set_param(block.graph.by_label("fc2").id, "in_features", 5)
    _, instance = fed(top, "Block")
    problems = analyze(top).problems(training=False)
    assert [(d.node, d.path, d.param) for d in problems] == [(instance, ("fc2",), "in_features")]
    assert problems[0].message.startswith("fc2 › Linear has in_features pinned to 5")
    assert problems[0].fix is None, "a fix on the inner node would edit every instance: none is offered here"


def test_a_problem_two_definitions_deep_has_the_whole_path():
    top = Graph()
    inner = mlp_block(top, "Inner", exposed=False)
    inner.graph.set_param(inner.graph.by_label("fc2").id, "in_features", 5)
    outer = Graph(top.definitions, owner="Outer")
    stage = outer.add_node("Inner", label="stage").id
    top.add_definition(Definition("Outer", outer, (Inlet("x", ((stage, "x"),)),), (Outlet("y", stage, "y"),)))
    _, instance = fed(top, "Outer")
    (problem,) = analyze(top).problems(training=False)
    assert (problem.node, problem.path) == (instance, ("stage", "fc2"))
    assert problem.message.startswith("stage › fc2 › ")


# ---- analysis follows edits inside a definition --------------------------------------------------------


def test_edits_inside_a_definition_reach_the_top_graph_and_its_analysis():
    top = Graph()
    block = mlp_block(top)
    _, first = fed(top, "Block")
    after = top.add_node("Linear", params={"out_features": 3}, position=(500.0, 0.0)).id
    top.connect(first, "y", after, "x")
    events: list[GraphEvent] = []
    top.subscribe(events.append)
    analyzer = Analyzer(top)
    assert analyzer.analysis().results[after].inputs["x"].shape == ("N", 8)

    fc2 = block.graph.by_label("fc2").id
    block.graph.set_param(fc2, "out_features", 12)
    assert [type(e) for e in events] == [DefinitionEdited]
    assert analyzer.analysis().results[after].inputs["x"].shape == ("N", 12)
    same(analyzer.analysis(), analyze(top))

    block.graph.set_param(fc2, "in_features", 7)  # a mistake inside shows at the instance at once
    assert [d.path for d in analyzer.analysis().problems(training=False)] == [("fc2",)]
    top.revert(events[-1])
    assert not analyzer.analysis().has_errors(training=False)

    relu = block.graph.add_node("ReLU", position=(750.0, 0.0)).id  # a new inner node and edge count too
    block.graph.connect(fc2, "y", relu, "x")
    same(analyzer.analysis(), analyze(top))


def test_an_edit_inside_a_nested_definition_reaches_the_outer_instances():
    top = Graph()
    inner = mlp_block(top, "Inner", exposed=False)
    outer = Graph(top.definitions, owner="Outer")
    stage = outer.add_node("Inner", label="stage").id
    top.add_definition(Definition("Outer", outer, (Inlet("x", ((stage, "x"),)),), (Outlet("y", stage, "y"),)))
    _, instance = fed(top, "Outer")
    analyzer = Analyzer(top)
    assert analyzer.analysis().results[instance].outputs["y"].shape == ("N", 8)
    inner.graph.set_param(inner.graph.by_label("fc2").id, "out_features", 6)
    assert analyzer.analysis().results[instance].outputs["y"].shape == ("N", 6)
    same(analyzer.analysis(), analyze(top))


def test_undo_and_redo_of_a_group_keep_the_analysis_current():
    top = Graph()
    source = top.add_node("Input", params={"shape": (4,)}).id
    fc = top.add_node("Linear", params={"out_features": 8}, position=(250.0, 0.0)).id
    act = top.add_node("ReLU", position=(500.0, 0.0)).id
    top.connect(source, "x", fc, "x")
    top.connect(fc, "y", act, "x")
    analyzer = Analyzer(top)
    analyzer.analysis()
    events: list[GraphEvent] = []
    stop = top.subscribe(events.append)
    instance = group(top, {fc}, "Block")
    stop()
    same(analyzer.analysis(), analyze(top))
    for event in reversed(events):
        top.revert(event)
    same(analyzer.analysis(), analyze(top))
    for event in events:
        top.replay(event)
    same(analyzer.analysis(), analyze(top))
    top.definitions["Block"].graph.set_param(fc, "out_features", 5)
    assert analyzer.analysis().results[act].outputs["y"].shape == ("N", 5)
    assert analyzer.analysis().results[instance].params == 4 * 5 + 5


def test_alike_instances_each_tell_their_own_problem_and_unlike_ones_their_own_shapes():
    """Instances with the same values and inputs share one check of their inside: each still names itself."""
    top = Graph()
    block = mlp_block(top, exposed=False)
    block.graph.set_param(block.graph.by_label("fc2").id, "in_features", 5)
    source = top.add_node("Input", params={"shape": (4,)}).id
    alike = [top.add_node("Block", position=(250.0 * (i + 1), 0.0)).id for i in range(3)]
    for instance in alike:
        top.connect(source, "x", instance, "x")
    analysis = analyze(top)
    assert [d.node for d in analysis.problems(training=False)] == alike

    block.graph.set_param(block.graph.by_label("fc2").id, "in_features", None)
    wide = top.add_node("Input", params={"shape": (6,)}).id
    top.disconnect(top.inputs_of(alike[2])["x"])
    top.connect(wide, "x", alike[2], "x")
    analysis = analyze(top)
    assert [analysis.results[n].inner[block.graph.by_label("fc1").id].inputs["x"].shape for n in alike] == [
        ("N", 4),
        ("N", 4),
        ("N", 6),
    ]
    assert analysis.results[alike[2]].params - analysis.results[alike[0]].params == 2 * 16


def test_grouping_inside_a_definition_passes_its_ports_and_parameters_through_the_new_block():
    top = Graph()
    block = mlp_block(top)
    _, instance = fed(top, "Block")
    top.set_param(instance, "width", 24)
    before = analyze(top)
    ports = block.ports
    fc1, act = block.graph.by_label("fc1").id, block.graph.by_label("act").id

    analyzer = Analyzer(top)
    analyzer.analysis()
    events: list[GraphEvent] = []
    stop = top.subscribe(events.append)
    inner = group(block.graph, {fc1, act}, "Front")
    stop()
    same(analyzer.analysis(), analyze(top))
    front = top.definitions["Front"]
    assert [(i.name, i.targets) for i in front.inlets] == [("x", ((fc1, "x"),))]
    assert [(e.name, e.targets) for e in front.exposed] == [("width", ((fc1, "out_features"),))]
    assert block.inlets == (Inlet("x", ((inner, "x"),)),)
    assert block.exposed == (Exposed("width", ((inner, "width"),)),)
    after = analyze(top)
    assert after.results[instance].outputs == before.results[instance].outputs
    assert after.total_params == before.total_params == 4 * 24 + 24 + 24 * 8 + 8

    ungroup(block.graph, inner)
    assert block.ports == ports
    assert "Front" not in top.definitions
    same(analyzer.analysis(), before)
    for event in events:  # redo the group, then undo it: the ports follow and so does the analysis
        top.replay(event)
    assert block.inlets == (Inlet("x", ((inner, "x"),)),)
    same(analyzer.analysis(), after)
    for event in reversed(events):
        top.revert(event)
    assert block.ports == ports
    same(analyzer.analysis(), before)


def test_renaming_a_definition_undoes_and_redoes_and_analysis_follows():
    top = Graph()
    inner = mlp_block(top, "Inner", exposed=False)
    outer = Graph(top.definitions, owner="Outer")
    stage = outer.add_node("Inner", label="stage").id
    top.add_definition(Definition("Outer", outer, (Inlet("x", ((stage, "x"),)),), (Outlet("y", stage, "y"),)))
    _, instance = fed(top, "Inner")
    analyzer = Analyzer(top)
    before = analyzer.analysis()
    events: list[GraphEvent] = []
    top.subscribe(events.append)

    top.rename_definition("Inner", "Stem")
    assert [d.name for d in top.definitions] == ["Stem", "Outer"]
    assert (top.nodes[instance].block, outer.nodes[stage].block, inner.graph.owner) == ("Stem", "Stem", "Stem")
    same(analyzer.analysis(), analyze(top))
    with pytest.raises(GraphError):
        top.rename_definition("Stem", "Linear")
    (renamed,) = events
    top.revert(renamed)
    assert (top.nodes[instance].block, outer.nodes[stage].block, inner.graph.owner) == ("Inner", "Inner", "Inner")
    same(analyzer.analysis(), before)
    top.replay(renamed)
    assert top.definitions.get("Stem") is inner
    inner.graph.set_param(inner.graph.by_label("fc2").id, "out_features", 3)  # still heard under its new name
    assert analyzer.analysis().results[instance].outputs["y"].shape == ("N", 3)


@pytest.mark.parametrize(
    ("label", "said"), [("fc1", "receives the input x of 'Block'"), ("fc2", "gives the output y of 'Block'")]
)
def test_a_node_a_port_of_its_block_names_is_not_deleted_from_inside(label: str, said: str):
    """Deleting inside an opened block the node its input arrives at or its output leaves from would leave
    every instance with a port leading nowhere: refused, with what to do."""
    top = Graph()
    block = mlp_block(top, exposed=False)
    _, instance = fed(top, "Block")
    node = block.graph.by_label(label).id
    with pytest.raises(GraphError, match=f"^{label} {said}: ungroup it to delete this$"):
        block.graph.remove_node(node)
    assert node in block.graph.nodes
    assert block.graph.edge_count() == 2, "its edges stay too"
    block.graph.remove_node(block.graph.by_label("act").id)  # a node no port names goes as ever
    assert not analyze(top).results[instance].outputs


def test_a_node_an_exposed_parameter_sets_is_not_deleted_from_inside():
    top = Graph()
    inside = Graph(top.definitions, owner="Wide")
    first, middle, last = (inside.add_node("Linear").id for _ in range(3))
    inside.connect(first, "y", middle, "x")
    inside.connect(middle, "y", last, "x")
    ports = ((Inlet("x", ((first, "x"),)),), (Outlet("y", last, "y"),))
    top.add_definition(Definition("Wide", inside, *ports, exposed=(Exposed("width", ((middle, "out_features"),)),)))
    with pytest.raises(GraphError, match=r"^fc2 is set by the parameter width of .Wide.: make it inner first$"):
        inside.remove_node(middle)


def test_exposing_and_unexposing_keep_a_kept_analysis_current():
    """Unexposing forgets each instance's value (the inside's own value counts again): the Analyzer sees it at
    once, and undoing gives the instance's value and its shapes back."""
    top = Graph()
    block = mlp_block(top, exposed=False)
    _, instance = fed(top, "Block")
    fc1 = block.graph.by_label("fc1").id
    analyzer = Analyzer(top)
    analyzer.analysis()
    events: list[GraphEvent] = []
    top.subscribe(events.append)
    top.expose("Block", Exposed("width", ((fc1, "out_features"),)))
    top.set_param(instance, "width", 32)
    assert analyzer.analysis().results[instance].inner[fc1].outputs["y"].shape == ("N", 32)
    top.unexpose("Block", "width")
    assert analyzer.analysis().results[instance].inner[fc1].outputs["y"].shape == ("N", 16)
    same(analyzer.analysis(), analyze(top))
    top.revert(events[-1])
    assert analyzer.analysis().results[instance].inner[fc1].outputs["y"].shape == ("N", 32)
    same(analyzer.analysis(), analyze(top))
