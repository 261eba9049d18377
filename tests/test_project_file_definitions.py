"""Composite blocks in the .nbproj file: definitions round-trip with their instances, ports, exposed parameters
and positions; they may be listed in any order; every refusal names the field; nesting cannot blow up."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from netbuilder.analysis import analyze
from netbuilder.graph import Graph, GraphError
from netbuilder.graph.definitions import Definition, Exposed, Inlet, Outlet
from netbuilder.graph.limits import MAX_EXPANDED_NODES, MAX_NESTING
from netbuilder.project import (
    FORMAT_VERSION,
    Project,
    ProjectError,
    load_project,
    project_from_dict,
    project_to_dict,
    project_to_json,
    save_project,
)
from netbuilder.project.definitions_file import read_definitions


def residual_block(top: Graph, name: str = "Block") -> Definition:
    """conv -> bn -> relu -> conv -> bn, plus the input (an Add), relu: the input feeds conv1 and the Add; the
    width is one exposed parameter that sets both convolutions."""
    inside = Graph(top.definitions, owner=name)
    conv1 = inside.add_node("Conv2d", label="conv1", params={"out_channels": 8, "padding": 1}, position=(0.0, 0.0))
    bn1 = inside.add_node("BatchNorm2d", label="bn1", position=(150.0, 0.0))
    relu1 = inside.add_node("ReLU", label="relu1", position=(300.0, 0.0))
    conv2 = inside.add_node("Conv2d", label="conv2", params={"out_channels": 8, "padding": 1}, position=(450.0, 0.0))
    bn2 = inside.add_node("BatchNorm2d", label="bn2", position=(600.0, 0.0))
    add = inside.add_node("Add", label="add", position=(750.0, -40.5))
    out = inside.add_node("ReLU", label="out", position=(900.0, 0.0))
    for a, b in [(conv1, bn1), (bn1, relu1), (relu1, conv2), (conv2, bn2)]:
        inside.connect(a.id, "y", b.id, "x")
    inside.connect(bn2.id, "y", add.id, "in1")
    inside.connect(add.id, "y", out.id, "x")
    definition = Definition(
        name,
        inside,
        (Inlet("x", ((conv1.id, "x"), (add.id, "in2"))),),
        (Outlet("y", out.id, "y"),),
        (Exposed("width", ((conv1.id, "out_channels"), (conv2.id, "out_channels"))),),
        doc="Two 3x3 convolutions and a skip: ü 漢字",
    )
    top.add_definition(definition)
    return definition


def stage(top: Graph, name: str = "Stage") -> Definition:
    """Two instances of Block in a row, the width exposed once for both."""
    inside = Graph(top.definitions, owner=name)
    first = inside.add_node("Block", label="block1", params={"width": 8}, position=(0.0, 0.0))
    second = inside.add_node("Block", label="block2", params={"width": 8}, position=(0.0, 200.0))
    inside.connect(first.id, "y", second.id, "x")
    definition = Definition(
        name,
        inside,
        (Inlet("x", ((first.id, "x"),)),),
        (Outlet("y", second.id, "y"),),
        (Exposed("width", ((first.id, "width"), (second.id, "width"))),),
    )
    top.add_definition(definition)
    return definition


def composite_project() -> Project:
    """Input (8 channels) -> a Stage (two Blocks) -> a Block -> pool -> flatten -> linear."""
    project = Project.new("nested")
    g = project.graph
    residual_block(g)
    stage(g)
    image = g.add_node("Input", label="image", params={"shape": [8, 16, 16]}, position=(-200.0, 0.0))
    stage1 = g.add_node("Stage", label="stage1", position=(0.0, 0.0))
    extra = g.add_node("Block", label="extra", params={"width": 8}, position=(200.0, 12.25))
    pool = g.add_node("AdaptiveAvgPool2d", label="pool", position=(400.0, 0.0))
    flat = g.add_node("Flatten", label="flat", position=(600.0, 0.0))
    fc = g.add_node("Linear", label="fc", params={"out_features": 3}, position=(800.0, 0.0))
    for a, b in [(stage1, extra), (extra, pool), (pool, flat), (flat, fc)]:
        g.connect(a.id, "y", b.id, "x")
    g.connect(image.id, "x", stage1.id, "x")
    return project


def shape_of(definition: Definition) -> dict[str, Any]:
    inside = definition.graph
    return {
        "name": definition.name,
        "doc": definition.doc,
        "nodes": [(n.id, n.block, n.label, n.params, n.position) for n in inside.nodes.values()],
        "edges": sorted((e.src, e.src_port, e.dst, e.dst_port) for e in inside.edges),
        "inlets": definition.inlets,
        "outlets": definition.outlets,
        "exposed": definition.exposed,
    }


# ---- round trip ------------------------------------------------------------------------------------------


def test_definitions_instances_ports_parameters_and_positions_survive_save_and_open(tmp_path: Path) -> None:
    original = composite_project()
    path = tmp_path / "nested.nbproj"
    save_project(original, path)
    loaded = load_project(path)

    assert [d.name for d in loaded.graph.definitions] == ["Block", "Stage"]
    for before in original.graph.definitions:
        assert shape_of(loaded.graph.definitions[before.name]) == shape_of(before)
    for node_id, before in original.graph.nodes.items():
        after = loaded.graph.nodes[node_id]
        assert (after.block, after.label, after.params, after.position) == (
            before.block,
            before.label,
            before.params,
            before.position,
        )
    assert loaded.graph.spec("n2").params[0].name == "width"  # the instance's parameter is the exposed one
    assert [p.name for p in loaded.graph.input_ports("n2")] == ["x"]
    # What analysis makes of it is the same as of the original: shapes and counts through two levels.
    before, after = analyze(original.graph), analyze(loaded.graph)
    assert not after.problems(training=False)
    assert after.results["n6"].outputs["y"] == before.results["n6"].outputs["y"]
    assert after.results["n2"].params == before.results["n2"].params > 0
    save_project(loaded, tmp_path / "again.nbproj")
    assert (tmp_path / "again.nbproj").read_bytes() == path.read_bytes()


def test_the_file_lists_each_definition_in_the_form_of_the_graph() -> None:
    data = project_to_dict(composite_project())
    block = data["definitions"][0]
    assert list(data) == ["format_version", "name", "definitions", "graph", "training"]
    assert list(block) == ["name", "doc", "nodes", "edges", "inlets", "outlets", "exposed"]
    assert block["inlets"] == [{"name": "x", "targets": [["n1", "x"], ["n6", "in2"]]}]
    assert block["outlets"] == [{"name": "y", "node": "n7", "port": "y"}]
    assert block["exposed"] == [{"name": "width", "targets": [["n1", "out_channels"], ["n4", "out_channels"]]}]
    assert block["nodes"][0]["params"]["out_channels"] == 8
    assert block["nodes"][5]["position"] == [750.0, -40.5]
    assert data["definitions"][1]["nodes"][0]["block"] == "Block"
    instance = data["graph"]["nodes"][1]
    assert (instance["block"], instance["label"], instance["params"]["width"]) == ("Stage", "stage1", 8)


def test_an_instance_keeps_its_own_value_of_an_exposed_parameter(tmp_path: Path) -> None:
    project = composite_project()
    project.graph.set_param("n3", "width", 4)
    data = project_to_dict(project)
    loaded = project_from_dict(copy.deepcopy(data))
    assert loaded.graph.nodes["n3"].params["width"] == 4
    assert loaded.graph.definitions["Block"].graph.nodes["n1"].params["out_channels"] == 8  # the inside keeps its
    assert project_to_dict(loaded) == data


def test_definitions_may_be_listed_after_those_that_use_them_and_keep_the_file_order() -> None:
    data = project_to_dict(composite_project())
    data["definitions"].reverse()  # Stage first, though it holds Blocks
    project = project_from_dict(copy.deepcopy(data))
    assert [d.name for d in project.graph.definitions] == ["Stage", "Block"]
    assert project_to_dict(project) == data
    assert not analyze(project.graph).problems(training=False)


def test_same_document_same_bytes_whatever_the_order_edges_were_drawn_inside() -> None:
    first = composite_project()
    second = composite_project()
    inside = second.graph.definitions["Block"].graph
    edges = list(inside.edges)
    for edge in edges:
        inside.disconnect(edge)
    for edge in reversed(edges):
        inside.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
    assert project_to_json(first) == project_to_json(second)


# ---- format 1 ----------------------------------------------------------------------------------------------

FORMAT_1 = """{
  "format_version": 1,
  "name": "old",
  "graph": {
    "nodes": [
      {"id": "n1", "block": "Input", "label": "x", "params": {"shape": [4]}, "position": [0.0, 0.0]},
      {"id": "n2", "block": "Linear", "label": "fc", "params": {"out_features": 2}, "position": [100.0, 0.0]}
    ],
    "edges": [{"from": ["n1", "x"], "to": ["n2", "x"]}]
  },
  "training": {"epochs": 3}
}
"""


def test_a_format_1_file_opens_unchanged_and_is_saved_in_the_current_format(tmp_path: Path) -> None:
    path = tmp_path / "old.nbproj"
    path.write_text(FORMAT_1, encoding="utf-8")
    project = load_project(path)
    assert len(project.graph.definitions) == 0
    assert [(n.id, n.block, n.label, n.position) for n in project.graph.nodes.values()] == [
        ("n1", "Input", "x", (0.0, 0.0)),
        ("n2", "Linear", "fc", (100.0, 0.0)),
    ]
    assert project.graph.nodes["n2"].params["out_features"] == 2 and project.training.epochs == 3
    data = project_to_dict(project)
    assert data["format_version"] == FORMAT_VERSION and data["definitions"] == []


def test_a_format_1_file_with_definitions_is_refused_as_it_always_was() -> None:
    data = json.loads(FORMAT_1)
    data["definitions"] = []
    with pytest.raises(ProjectError, match=r"^definitions: unknown field in a format-1 file"):
        project_from_dict(data)


def test_a_format_1_file_with_a_key_given_twice_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.nbproj"
    path.write_text(FORMAT_1.replace('"name": "old",', '"name": "old",\n  "name": "new",'), encoding="utf-8")
    with pytest.raises(ProjectError, match=r"^name: given more than once$"):
        load_project(path)


def test_format_2_requires_the_definitions_list() -> None:
    data = project_to_dict(composite_project())
    del data["definitions"]
    with pytest.raises(ProjectError, match=r"^definitions: missing$"):
        project_from_dict(data)


# ---- refusals name the field -------------------------------------------------------------------------------


def _definition(data: dict[str, Any], i: int) -> dict[str, Any]:
    return data["definitions"][i]


def _node_in(data: dict[str, Any], i: int, j: int) -> dict[str, Any]:
    return data["definitions"][i]["nodes"][j]


CASES: list[tuple[str, Any, str]] = [
    ("definitions a dict", lambda d: d.update(definitions={}), "definitions: expected a list, got an object"),
    ("definition a string", lambda d: d["definitions"].__setitem__(0, "Block"), "definitions[0]: expected an object"),
    ("field typo", lambda d: _definition(d, 0).update(inlet=[]), "definitions[0].inlet: unknown field"),
    ("doc missing", lambda d: _definition(d, 0).pop("doc"), "definitions[0].doc: missing"),
    ("doc a number", lambda d: _definition(d, 0).update(doc=3), "definitions[0].doc: expected a string, got 3"),
    ("doc too long", lambda d: _definition(d, 0).update(doc="x" * 5000), "definitions[0].doc: expected text of at"),
    ("name blank", lambda d: _definition(d, 0).update(name=" "), "definitions[0].name: expected a non-empty string"),
    (
        "name a block's",
        lambda d: _definition(d, 1).update(name="Linear"),
        "definitions[1].name: a block named 'Linear'",
    ),
    (
        "name twice",
        lambda d: _definition(d, 1).update(name="Block"),
        "definitions[1].name: duplicate name 'Block' (definitions[0] has it too)",
    ),
    (
        "unknown block inside",
        lambda d: _node_in(d, 1, 0).update(block="Blok"),
        "definitions[1].nodes[0].block: unknown block type 'Blok'; did you mean 'Block'?",
    ),
    (
        "a dataset inside",
        lambda d: _node_in(d, 0, 2).update(block="Dataset", params={}),
        "definitions[0].nodes[2].block: Dataset is not a layer: only layers can go inside a block",
    ),
    (
        "duplicate id inside",
        lambda d: _node_in(d, 0, 2).update(id="n1"),
        "definitions[0].nodes[2].id: duplicate id 'n1' (definitions[0].nodes[0] has it too)",
    ),
    (
        "duplicate label inside",
        lambda d: _node_in(d, 0, 2).update(label="bn1"),
        "definitions[0].nodes[2].label: the label 'bn1' is already used by definitions[0].nodes[1]",
    ),
    (
        "bad param inside",
        lambda d: _node_in(d, 0, 0)["params"].update(out_channels=0),
        "definitions[0].nodes[0].params.out_channels: expected an integer from 1",
    ),
    (
        "instance param inside",
        lambda d: _node_in(d, 1, 0)["params"].update(planes=3),
        "definitions[1].nodes[0].params.planes: Block has no such parameter (it has width",
    ),
    (
        "edge inside to nowhere",
        lambda d: _definition(d, 0)["edges"][0].update(to=["n99", "x"]),
        "definitions[0].edges[0].to: no node has the id 'n99'",
    ),
    (
        "edge inside to a missing port",
        lambda d: _definition(d, 1)["edges"][0].update(to=["n2", "z"]),
        "definitions[1].edges[0].to: block2 (Block) has no input 'z' (it has x)",
    ),
    (
        "cycle inside",
        lambda d: _definition(d, 0)["edges"].append({"from": ["n7", "y"], "to": ["n1", "x"]}),
        "definitions[0].edges[",
    ),
    ("inlets a dict", lambda d: _definition(d, 0).update(inlets={}), "definitions[0].inlets: expected a list"),
    (
        "inlet without targets",
        lambda d: _definition(d, 0)["inlets"][0].update(targets=[]),
        "definitions[0].inlets[0].targets: expected at least one [node id, port name]",
    ),
    (
        "inlet target not a pair",
        lambda d: _definition(d, 0)["inlets"][0].update(targets=["n1"]),
        "definitions[0].inlets[0].targets[0]: expected [node id, port name], got 'n1'",
    ),
    (
        "inlet to no node",
        lambda d: _definition(d, 0)["inlets"][0]["targets"].append(["n99", "x"]),
        "definitions[0].inlets[0].targets[2]: no node inside the block has the id 'n99'",
    ),
    (
        "inlet to no port",
        lambda d: _definition(d, 0)["inlets"][0]["targets"].append(["n6", "in3"]),
        "definitions[0].inlets[0].targets[2]: add (Add) has no input 'in3' (it has in1, in2)",
    ),
    (
        "inlet to a fed port",
        lambda d: _definition(d, 0)["inlets"][0]["targets"].append(["n2", "x"]),
        "definitions[0].inlets[0].targets[2]: bn1.x is already fed by conv1; an input takes one source",
    ),
    (
        "inlet twice to a port",
        lambda d: _definition(d, 0)["inlets"].append({"name": "skip", "targets": [["n6", "in2"]]}),
        "definitions[0].inlets[1].targets[0]: add.in2 is already fed by definitions[0].inlets[0]",
    ),
    (
        "inlet name twice",
        lambda d: _definition(d, 0)["inlets"].append({"name": "x", "targets": [["n5", "x"]]}),
        "definitions[0].inlets[1].name: duplicate name 'x' (definitions[0].inlets[0] has it too)",
    ),
    (
        "outlet from no node",
        lambda d: _definition(d, 0)["outlets"][0].update(node="n99"),
        "definitions[0].outlets[0].node: no node inside the block has the id 'n99'",
    ),
    (
        "outlet from no port",
        lambda d: _definition(d, 0)["outlets"][0].update(port="z"),
        "definitions[0].outlets[0].port: out (ReLU) has no output 'z' (it has y)",
    ),
    (
        "outlet field missing",
        lambda d: _definition(d, 0)["outlets"][0].pop("port"),
        "definitions[0].outlets[0].port: missing",
    ),
    (
        "exposed no such parameter",
        lambda d: _definition(d, 0)["exposed"][0]["targets"].append(["n2", "width"]),
        "definitions[0].exposed[0].targets[2]: bn1 (BatchNorm2d) has no parameter 'width'",
    ),
    (
        "exposed target twice",
        lambda d: _definition(d, 0)["exposed"].append({"name": "w2", "targets": [["n4", "out_channels"]]}),
        "definitions[0].exposed[1].targets[0]: conv2.out_channels is already set by definitions[0].exposed[0]",
    ),
    (
        "exposed of another kind",
        lambda d: _definition(d, 0)["exposed"][0]["targets"].append(["n2", "eps"]),
        "definitions[0].exposed[0].targets[2]: bn1.eps cannot take the value of conv1.out_channels:",
    ),
    (
        "exposed variadic",
        lambda d: _definition(d, 0)["exposed"].append({"name": "n", "targets": [["n6", "inputs"]]}),
        "definitions[0].exposed[1].targets[0]: add.inputs sets how many inputs it has",
    ),
    (
        "exposed name not a word",
        lambda d: _definition(d, 0)["exposed"][0].update(name="out channels"),
        "definitions[0].exposed[0]: 'Block': a parameter's name is a word of letters, digits and '_'",
    ),
    (
        "exposed name taken",
        lambda d: _definition(d, 1)["exposed"][0].update(name="repeat"),
        "definitions[1].exposed[0]: 'Stage': it already has a parameter 'repeat'",
    ),
    (
        "exposed without targets",
        lambda d: _definition(d, 0)["exposed"][0].update(targets=[]),
        "definitions[0].exposed[0].targets: expected at least one [node id, parameter name]",
    ),
    (
        "a block inside itself",
        lambda d: _node_in(d, 0, 2).update(block="Block", params={}),
        "definitions[0].nodes[2].block: 'Block' cannot go inside itself: a block cannot contain itself",
    ),
    (
        "two blocks inside each other",
        lambda d: _node_in(d, 0, 2).update(block="Stage", params={}),
        "definitions[1].nodes[0].block: 'Block' cannot go inside 'Stage', which it contains (Stage › Block › Stage)",
    ),
    (
        "too many ports",
        lambda d: _definition(d, 0).update(outlets=[{"name": f"y{i}", "node": "n7", "port": "y"} for i in range(65)]),
        "definitions[0].outlets: 65 items; a block has at most 64",
    ),
    (
        "top node of an unknown composite",
        lambda d: d["graph"]["nodes"][1].update(block="Stag"),
        "graph.nodes[1].block: unknown block type 'Stag'; did you mean 'Stage'?",
    ),
    (
        "top instance with a wrong parameter",
        lambda d: d["graph"]["nodes"][2]["params"].update(width=-1),
        "graph.nodes[2].params.width: expected an integer from 1",
    ),
    (
        "top edge into no port of an instance",
        lambda d: d["graph"]["edges"][0].update(to=["n2", "in2"]),
        "graph.edges[0].to: stage1 (Stage) has no input 'in2' (it has x)",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_definition_is_refused_naming_the_field(mutate: Any, message: str) -> None:
    data = project_to_dict(composite_project())
    mutate(data)
    with pytest.raises(ProjectError) as info:
        project_from_dict(data)
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)


def test_the_messages_in_the_docs_are_the_ones_given() -> None:
    """Every definitions[...] line of docs/project-format.md's error list is a message the reader gives (the
    cases above make the same files, with the documented names)."""
    doc = (Path(__file__).parents[1] / "docs" / "project-format.md").read_text(encoding="utf-8")
    listed = [line for line in doc.splitlines() if line.startswith("definitions[")]
    assert len(listed) >= 8
    given = {_message_of(mutate) for _, mutate, _ in CASES} | {_message_of(lambda d: d.update(_nested_file(10, 10)))}
    for line in listed:
        assert line in given, line


def _message_of(mutate: Any) -> str:
    data = project_to_dict(composite_project())
    mutate(data)
    try:
        project_from_dict(data)
    except ProjectError as err:
        return str(err)
    return ""


# ---- nesting cannot blow up --------------------------------------------------------------------------------


def _nested_file(levels: int, copies: int) -> dict[str, Any]:
    """Definition Nest0 holds `copies` instances of Nest1 in a chain, Nest1 of Nest2 ..., the last a chain of
    ReLUs; the top graph one instance of Nest0: copies ** levels nodes once expanded, in a file of a few KB."""
    definitions = []
    for level in range(levels):
        block = f"Nest{level + 1}" if level + 1 < levels else "ReLU"
        nodes = [
            {"id": f"n{i}", "block": block, "label": f"b{i}", "params": {}, "position": [0.0, 0.0]}
            for i in range(1, copies + 1)
        ]
        edges = [{"from": [f"n{i}", "y"], "to": [f"n{i + 1}", "x"]} for i in range(1, copies)]
        definitions.append(
            {
                "name": f"Nest{level}",
                "doc": "",
                "nodes": nodes,
                "edges": edges,
                "inlets": [{"name": "x", "targets": [["n1", "x"]]}],
                "outlets": [{"name": "y", "node": f"n{copies}", "port": "y"}],
                "exposed": [],
            }
        )
    top = [{"id": "n1", "block": "Nest0", "label": "net", "params": {}, "position": [0.0, 0.0]}]
    return {
        "format_version": 2,
        "name": "bomb",
        "definitions": definitions,
        "graph": {"nodes": top, "edges": []},
        "training": {},
    }


def test_ten_definitions_each_holding_ten_of_the_next_are_refused_at_once() -> None:
    data = _nested_file(10, 10)
    assert len(json.dumps(data)) < 30_000
    started = time.process_time()
    with pytest.raises(ProjectError) as info:
        project_from_dict(data)
    assert time.process_time() - started < 1.0  # counted from the lists, nothing built (a generous bound)
    # The deepest definition past the limit is named: Nest5 holds 10**5 + ... nodes, Nest6 11,110.
    assert str(info.value) == (
        f"definitions[5].nodes: 111,110 nodes once the blocks in it are expanded; "
        f"a project holds at most {MAX_EXPANDED_NODES:,}"
    )


def test_the_top_graph_is_counted_expanded_too() -> None:
    data = _nested_file(4, 10)  # Nest0 is 11,110 nodes expanded: within the limit, twice is not
    data["graph"]["nodes"].append({"id": "n2", "block": "Nest0", "label": "net2", "params": {}, "position": [0.0, 0.0]})
    with pytest.raises(ProjectError, match=r"^graph\.nodes: 22,222 nodes once the blocks in it are expanded"):
        project_from_dict(data)
    del data["graph"]["nodes"][1]
    assert len(project_from_dict(data).graph.definitions) == 4


def test_an_instance_repeated_counts_once_per_copy() -> None:
    data = _nested_file(4, 10)  # Nest0: 11,110 nodes expanded
    data["graph"]["nodes"][0]["params"]["repeat"] = 2
    with pytest.raises(ProjectError, match=r"^graph\.nodes: 22,221 nodes once the blocks in it are expanded"):
        project_from_dict(copy.deepcopy(data))
    data["graph"]["nodes"][0]["params"]["repeat"] = "twice"  # counted as one, then refused as a parameter
    with pytest.raises(ProjectError, match=r"^graph\.nodes\[0\]\.params\.repeat: "):
        project_from_dict(data)


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    data = _nested_file(MAX_NESTING + 1, 1)
    with pytest.raises(ProjectError, match=rf"^definitions\[0\]\.nodes: blocks nest {MAX_NESTING + 1} deep in it"):
        project_from_dict(data)
    data = _nested_file(MAX_NESTING, 1)
    data["definitions"].reverse()  # and read in dependency order however long the chain, without recursion
    assert len(project_from_dict(data).graph.definitions) == MAX_NESTING


def test_more_definitions_than_the_limit_are_refused_before_any_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from netbuilder.project import definitions_file

    monkeypatch.setattr(definitions_file, "MAX_DEFINITIONS", 1)
    data = project_to_dict(composite_project())
    data["definitions"][1] = "not even an object"
    with pytest.raises(ProjectError, match=r"^definitions: 2 blocks; a project holds at most 1$"):
        project_from_dict(data)


def test_a_project_beyond_the_limits_on_composites_is_not_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Graph takes each edit; a file that could not be opened again is refused while the work is in
    memory, and the old file is left as it was."""
    from netbuilder.project import definitions_file

    project = composite_project()
    path = tmp_path / "p.nbproj"
    save_project(project, path)
    before = path.read_bytes()
    monkeypatch.setattr(definitions_file, "MAX_EXPANDED_NODES", 20)
    with pytest.raises(ProjectError, match=r"cannot save .*: the network holds 29 nodes once the blocks"):
        save_project(project, path)
    monkeypatch.setattr(definitions_file, "MAX_NESTING", 1)
    with pytest.raises(ProjectError, match=r": in the block 'Stage', blocks nest 2 deep in it; blocks nest at most 1"):
        save_project(project, path)
    assert path.read_bytes() == before


def test_what_a_file_cannot_hold_inside_a_block_the_graph_refuses_too(tmp_path: Path) -> None:
    """Edits inside a definition that its file could not hold: a Dataset inside a block, an edge into an inner
    input its inlet already feeds. The graph refuses them, so the project stays one that saves."""
    project = composite_project()
    path = tmp_path / "p.nbproj"
    save_project(project, path)
    before = path.read_bytes()
    inside = project.graph.definitions["Block"].graph
    with pytest.raises(GraphError, match="a Dataset cannot go inside a block"):
        inside.add_node("Dataset", label="data")
    with pytest.raises(GraphError, match=r"add1?\.in2 is already fed by the block's input"):
        inside.connect("n3", "y", "n6", "in2")  # add.in2 is the inlet's
    save_project(project, path)
    assert path.read_bytes() == before


# ---- reading definitions into an existing project ------------------------------------------------------------


def test_definitions_join_a_project_after_its_own_and_a_refusal_leaves_it_as_it_was() -> None:
    source = project_to_dict(composite_project())["definitions"]
    target = Graph()
    target.add_definition(Definition("Mine", Graph(target.definitions, owner="Mine"), (), ()))
    assert read_definitions(copy.deepcopy(source), target) == ["Block", "Stage"]
    assert [d.name for d in target.definitions] == ["Mine", "Block", "Stage"]

    other = Graph()
    broken = copy.deepcopy(source)
    broken[1]["outlets"][0]["port"] = "z"  # Block is read and added first, then Stage is refused
    events: list[object] = []
    other.subscribe(events.append)
    with pytest.raises(ProjectError, match=r"^definitions\[1\]\.outlets\[0\]\.port"):
        read_definitions(broken, other)
    assert len(other.definitions) == 0 and len(events) == 3  # Block added with its parameter, then removed


def test_a_definition_may_use_one_the_project_already_has() -> None:
    source = project_to_dict(composite_project())["definitions"]
    target = Graph()
    read_definitions([source[0]], target)
    assert read_definitions([source[1]], target, where="blocks") == ["Stage"]
    with pytest.raises(ProjectError, match=r"^blocks\[0\]\.name: a block named 'Stage' already exists"):
        read_definitions([source[1]], target, where="blocks")
