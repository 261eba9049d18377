"""Block files (.nbblock): a project's block saved with the blocks it holds and loaded into another project,
reused when the project has the same block, renamed when it has another of the same name; read as strictly and
within the same limits as a project file, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netbuilder.graph import Graph
from netbuilder.graph.definitions import Definition, Inlet, Outlet
from netbuilder.graph.events import DefinitionAdded, DefinitionExposed
from netbuilder.project import ProjectError, project_to_dict
from netbuilder.project.block_library import block_to_dict, load_block, save_block, shipped_blocks
from tests.test_project_file_definitions import composite_project, residual_block


def _items(graph: Graph) -> list[dict[str, object]]:
    from netbuilder.project.definitions_file import definitions_to_list

    return definitions_to_list(graph.definitions)


def test_a_block_saves_with_the_blocks_it_holds_and_loads_into_another_project(tmp_path: Path) -> None:
    project = composite_project()
    unrelated = Definition("Unused", Graph(project.graph.definitions, owner="Unused"), (), ())
    project.graph.add_definition(unrelated, 0)
    path = save_block(project.graph.definitions, "Stage", tmp_path / "stage.nbblock")

    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == ["format_version", "block", "definitions"]
    assert data["block"] == "Stage" and [d["name"] for d in data["definitions"]] == ["Block", "Stage"]

    other = Graph()
    assert load_block(other, path) == "Stage"
    assert _items(other) == [d for d in project_to_dict(project)["definitions"] if d["name"] != "Unused"]
    instance = other.add_node("Stage", params={"width": 4})
    assert other.spec(instance.id).params[0].name == "width"


def test_the_same_block_gives_the_same_bytes(tmp_path: Path) -> None:
    first = save_block(composite_project().graph.definitions, "Stage", tmp_path / "a.nbblock")
    second = save_block(composite_project().graph.definitions, "Stage", tmp_path / "b.nbblock")
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().endswith(b"}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nbblock", "b.nbblock"]  # no temporary file left


def test_loading_a_block_the_project_already_has_adds_nothing(tmp_path: Path) -> None:
    path = save_block(composite_project().graph.definitions, "Stage", tmp_path / "stage.nbblock")
    graph = Graph()
    load_block(graph, path)
    events: list[object] = []
    graph.subscribe(events.append)
    assert load_block(graph, path) == "Stage"
    assert [d.name for d in graph.definitions] == ["Block", "Stage"] and events == []


def test_a_name_the_project_uses_for_another_block_is_numbered_and_the_blocks_holding_it_follow(
    tmp_path: Path,
) -> None:
    path = save_block(composite_project().graph.definitions, "Stage", tmp_path / "stage.nbblock")
    graph = Graph()
    mine = Graph(graph.definitions, owner="Block")
    relu = mine.add_node("ReLU", label="mine")
    graph.add_definition(Definition("Block", mine, (Inlet("x", ((relu.id, "x"),)),), (Outlet("y", relu.id, "y"),)))
    graph.add_node("Block", label="kept")

    assert load_block(graph, path) == "Stage"

    assert [d.name for d in graph.definitions] == ["Block", "Block2", "Stage"]
    assert graph.definitions["Block"].graph.nodes[relu.id].label == "mine"  # the person's own block is untouched
    assert {n.block for n in graph.definitions["Stage"].graph.nodes.values()} == {"Block2"}
    assert len(graph.definitions["Block2"].graph.nodes) == 7
    # Loaded again, everything is found as it is: nothing more is added.
    assert load_block(graph, path) == "Stage"
    assert len(graph.definitions) == 3


def test_a_clash_with_the_block_itself_renames_it_and_says_so(tmp_path: Path) -> None:
    path = save_block(composite_project().graph.definitions, "Block", tmp_path / "block.nbblock")
    graph = Graph()
    residual_block(graph).graph.set_param("n1", "kernel_size", 5)  # another "Block"
    assert load_block(graph, path) == "Block2"
    assert graph.definitions["Block2"].graph.nodes["n1"].params["kernel_size"] == 3


def test_a_block_the_project_has_under_another_name_is_reused(tmp_path: Path) -> None:
    path = save_block(composite_project().graph.definitions, "Block", tmp_path / "block.nbblock")
    graph = Graph()
    residual_block(graph, name="Residual")
    assert load_block(graph, path) == "Residual"
    assert [d.name for d in graph.definitions] == ["Residual"]


def test_a_block_loads_from_inside_a_definition_into_its_project(tmp_path: Path) -> None:
    path = save_block(composite_project().graph.definitions, "Block", tmp_path / "block.nbblock")
    project = composite_project()
    inside = project.graph.definitions["Stage"].graph
    data = json.loads(path.read_text(encoding="utf-8"))
    data["definitions"][0]["name"] = data["block"] = "Fresh"
    data["definitions"][0]["doc"] = "not the project's Block"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_block(inside, path) == "Fresh"
    assert "Fresh" in project.graph.definitions


def test_definitions_join_through_the_graph_so_an_undo_stack_sees_them(tmp_path: Path) -> None:
    path = save_block(composite_project().graph.definitions, "Stage", tmp_path / "stage.nbblock")
    graph = Graph()
    events: list[object] = []
    graph.subscribe(events.append)
    load_block(graph, path)
    assert [type(e) for e in events] == [DefinitionAdded, DefinitionExposed, DefinitionAdded, DefinitionExposed]
    for event in reversed(events):
        graph.revert(event)  # type: ignore[arg-type]
    assert len(graph.definitions) == 0


# ---- refusals ------------------------------------------------------------------------------------------------


def _block_file(tmp_path: Path, change: object) -> Path:
    data = block_to_dict(composite_project().graph.definitions, "Stage")
    change(data)  # type: ignore[operator]
    path = tmp_path / "bad.nbblock"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(block="Nope"),
            "block: expected the name of one of its definitions (Block, Stage), got 'Nope'",
        ),
        (lambda d: d.update(block=3), "block: expected the name of one of its definitions (Block, Stage), got 3"),
        (lambda d: d.pop("block"), "block: missing"),
        (lambda d: d.update(colour="red"), "colour: unknown field (expected format_version, block, definitions)"),
        (lambda d: d.update(format_version=4), "format_version: this file was written by a newer netbuilder"),
        (lambda d: d["definitions"][0].update(name="Linear"), "definitions[0].name: a block named 'Linear'"),
        (
            lambda d: d["definitions"][1]["nodes"][0].update(block="Stage"),
            "definitions[1].nodes[0].block: 'Stage' cannot go inside itself",
        ),
    ],
)
def test_a_bad_block_file_is_refused_naming_the_field_and_the_project_is_unchanged(
    tmp_path: Path, change: object, message: str
) -> None:
    path = _block_file(tmp_path, change)
    graph = Graph()
    residual_block(graph)
    with pytest.raises(ProjectError) as info:
        load_block(graph, path)
    assert str(info.value).startswith(message), str(info.value)
    assert [d.name for d in graph.definitions] == ["Block"]


def test_a_folder_or_a_huge_file_is_not_a_block_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from netbuilder.project import json_file

    with pytest.raises(ProjectError, match=r"it is a folder, not a block file$"):
        load_block(Graph(), tmp_path)
    path = save_block(composite_project().graph.definitions, "Stage", tmp_path / "stage.nbblock")
    monkeypatch.setattr(json_file, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ProjectError, match=r"is larger than a block file may be"):
        load_block(Graph(), path)


def test_loading_beyond_the_projects_limits_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from netbuilder.project import definitions_file

    path = save_block(composite_project().graph.definitions, "Stage", tmp_path / "stage.nbblock")
    graph = Graph()
    residual_block(graph, name="Mine").graph.set_param("n1", "kernel_size", 5)
    monkeypatch.setattr(definitions_file, "MAX_DEFINITIONS", 2)
    with pytest.raises(ProjectError, match=r"^definitions: 2 blocks and the project's 1; a project holds at most 2$"):
        load_block(graph, path)
    assert [d.name for d in graph.definitions] == ["Mine"]


def test_saving_a_block_the_project_lacks_or_into_no_folder_is_a_project_error(tmp_path: Path) -> None:
    definitions = composite_project().graph.definitions
    with pytest.raises(ProjectError, match=r"^block: the project has no block named 'Nope'$"):
        save_block(definitions, "Nope", tmp_path / "x.nbblock")
    with pytest.raises(ProjectError, match=r"^cannot save .*nowhere/x.nbblock: No such file or directory$"):
        save_block(definitions, "Stage", tmp_path / "nowhere" / "x.nbblock")


def test_shipped_blocks_that_share_a_part_share_one_definition_of_it() -> None:
    blocks = {b.name: b.path for b in shipped_blocks()}
    graph = Graph()
    assert load_block(graph, blocks["ResNetBasicBlockDown"]) == "ResNetBasicBlockDown"
    assert load_block(graph, blocks["ResNetBottleneckDown"]) == "ResNetBottleneckDown"
    assert [d.name for d in graph.definitions] == ["ResNetDownsample", "ResNetBasicBlockDown", "ResNetBottleneckDown"]
