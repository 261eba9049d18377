"""The .nbproj file: round trips, deterministic bytes, errors that name the field, atomic saves."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netbuilder.blocks import catalogue
from netbuilder.graph import Graph
from netbuilder.project import (
    FORMAT_VERSION,
    Project,
    ProjectError,
    SettingsError,
    TrainingSettings,
    load_project,
    project_from_dict,
    project_to_dict,
    project_to_json,
    save_project,
)

TRICKY_LABEL = 'fc "a"\nsecond line, ü 漢字 \\ \t'
CODE_LABEL = "__import__('os').system('echo pwned')"

# Node order in build_project(); the error tests address nodes by these indices.
DATA, SHAPE_IN, FC_A, FC_B, ACT, CAT, HEAD, LOSS, OPT = range(9)


def build_project(*, reverse_edges: bool = False) -> Project:
    """A project touching every kind of value: choices, ints, floats, bools, None (auto), int lists."""
    project = Project.new("demo ✓")
    g = project.graph
    data = g.add_node(
        "Dataset",
        label="data",
        params={"dataset": "spirals", "classes": 4, "samples": 500, "noise": 0.25},
        position=(-120.5, 40.25),
    )
    shape_in = g.add_node("Input", label="image", params={"shape": [1, 8, 8]}, position=(0.1, 1e-7))
    fc_a = g.add_node("Linear", label=TRICKY_LABEL, params={"out_features": 16}, position=(100.0, 0.0))
    fc_b = g.add_node(
        "Linear",
        label=CODE_LABEL,
        params={"in_features": 2, "out_features": 16, "bias": False},
        position=(100.0, 80.0),
    )
    act = g.add_node("LeakyReLU", label="act", params={"negative_slope": 0.2}, position=(100, 160))
    cat = g.add_node("Concat", label="cat", params={"inputs": 3}, position=(200.0, 80.0))
    head = g.add_node("Linear", label="head", params={"out_features": 4}, position=(300.0, 80.0))
    loss = g.add_node("CrossEntropy", label="loss", params={"label_smoothing": 0.1}, position=(400.0, 80.0))
    opt = g.add_node("Adam", label="opt", params={"lr": 0.01}, position=(500.0, 80.0))
    assert [n.id for n in (data, shape_in, fc_a, fc_b, act, cat, head, loss, opt)] == [f"n{i + 1}" for i in range(9)]
    edges = [
        (data.id, "x", fc_a.id, "x"),
        (data.id, "x", fc_b.id, "x"),
        (data.id, "x", act.id, "x"),
        (fc_a.id, "y", cat.id, "in1"),
        (fc_b.id, "y", cat.id, "in2"),
        (act.id, "y", cat.id, "in3"),
        (cat.id, "y", head.id, "x"),
        (head.id, "y", loss.id, "input"),
        (data.id, "target", loss.id, "target"),
        (loss.id, "loss", opt.id, "loss"),
    ]
    for edge in reversed(edges) if reverse_edges else edges:
        g.connect(*edge)
    project.training = TrainingSettings(epochs=5, batch_size=32, val_fraction=0.25, seed=7, device="cpu")
    return project


def edge_set(graph: Graph) -> set[tuple[str, str, str, str]]:
    return {(e.src, e.src_port, e.dst, e.dst_port) for e in graph.edges}


# ---- round trip ------------------------------------------------------------------------------------------


def test_round_trip_keeps_nodes_params_labels_positions_edges_and_settings(tmp_path: Path) -> None:
    original = build_project()
    path = tmp_path / "demo.nbproj"
    save_project(original, path)

    loaded = load_project(path)

    assert loaded.name == "demo ✓"
    assert loaded.path == path
    assert loaded.training == TrainingSettings(epochs=5, batch_size=32, val_fraction=0.25, seed=7, device="cpu")
    assert list(loaded.graph.nodes) == list(original.graph.nodes)
    for node_id, before in original.graph.nodes.items():
        after = loaded.graph.nodes[node_id]
        assert (after.block, after.label, after.params, after.position) == (
            before.block,
            before.label,
            before.params,
            before.position,
        )
    assert loaded.graph.by_label(TRICKY_LABEL).id == "n3"
    assert loaded.graph.nodes["n2"].params["shape"] == (1, 8, 8)  # a list in the file, a tuple again here
    assert loaded.graph.nodes["n3"].params["in_features"] is None
    assert loaded.graph.nodes["n4"].params["in_features"] == 2
    assert loaded.graph.nodes["n2"].position == (0.1, 1e-7)
    assert edge_set(loaded.graph) == edge_set(original.graph)
    assert loaded.graph.edge_count() == 10


def test_loaded_graph_is_editable_without_id_clashes(tmp_path: Path) -> None:
    path = tmp_path / "demo.nbproj"
    save_project(build_project(), path)
    graph = load_project(path).graph
    node = graph.add_node("ReLU")
    assert node.id not in {f"n{i + 1}" for i in range(9)}


def test_params_are_written_in_full_with_auto_sizes_as_null_and_tuples_as_lists(tmp_path: Path) -> None:
    path = tmp_path / "demo.nbproj"
    save_project(build_project(), path)
    data = json.loads(path.read_text(encoding="utf-8"))

    nodes = data["graph"]["nodes"]
    assert list(data) == ["format_version", "name", "definitions", "graph", "training"]
    assert data["format_version"] == FORMAT_VERSION == 3
    assert data["definitions"] == []
    assert list(nodes[FC_A]) == ["id", "block", "label", "params", "position"]
    assert nodes[FC_A]["params"] == {"in_features": None, "out_features": 16, "bias": True}
    assert nodes[SHAPE_IN]["params"] == {"shape": [1, 8, 8], "dtype": "float32"}
    assert nodes[CAT]["params"] == {"inputs": 3, "dim": 1}
    assert set(nodes[DATA]["params"]) == set(catalogue.get("Dataset").defaults())
    assert nodes[ACT]["position"] == [100.0, 160.0]
    assert data["graph"]["edges"][0] == {"from": ["n1", "x"], "to": ["n3", "x"]}
    assert data["training"] == {
        "epochs": 5,
        "batch_size": 32,
        "val_fraction": 0.25,
        "seed": 7,
        "device": "cpu",
        "precision": "fp32",
        "grad_clip": 0.0,
        "early_stopping": 0,
        "accumulation": 1,
        "processes": 1,
        "sync_batchnorm": "off",
    }


def test_resave_is_byte_identical_and_ends_with_a_newline(tmp_path: Path) -> None:
    first, second = tmp_path / "a.nbproj", tmp_path / "b.nbproj"
    save_project(build_project(), first)
    save_project(load_project(first), second)

    raw = first.read_bytes()
    assert second.read_bytes() == raw
    assert raw.endswith(b"}\n") and not raw.endswith(b"\n\n")
    assert "ü 漢字".encode() in raw  # readable UTF-8, not \u escapes
    assert b'\n  "graph": {\n    "nodes": [\n' in raw  # two-space indents


def test_bytes_do_not_depend_on_the_order_edges_were_drawn() -> None:
    assert project_to_json(build_project(reverse_edges=True)) == project_to_json(build_project())


def test_dict_round_trip_without_a_file() -> None:
    data = project_to_dict(build_project())
    project = project_from_dict(copy.deepcopy(data), path="somewhere/demo.nbproj")
    assert project.path == Path("somewhere/demo.nbproj")
    assert project_to_dict(project) == data
    assert project_from_dict(data).path is None


def test_a_param_missing_from_the_file_takes_the_block_default() -> None:
    data = project_to_dict(build_project())
    del data["graph"]["nodes"][FC_B]["params"]["bias"]
    del data["training"]["seed"]
    project = project_from_dict(data)
    assert project.graph.nodes["n4"].params["bias"] is True
    assert project.training.seed == 0


# ---- errors that name the field --------------------------------------------------------------------------


def load_error(tmp_path: Path, text: str | bytes) -> ProjectError:
    path = tmp_path / "bad.nbproj"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError) as info:
        load_project(path)
    return info.value


def test_not_json_says_line_and_column(tmp_path: Path) -> None:
    err = load_error(tmp_path, '{\n  "format_version": 1,\n  oops\n}\n')
    assert err.field is None
    assert str(err).startswith("not valid JSON:")
    assert "line 3, column 3" in str(err)


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    err = load_error(tmp_path, b'{"name": "\xff\xfe"}')
    assert "not UTF-8" in str(err)


@pytest.mark.parametrize("text", ["[1, 2]", '"project"', "null", "3"])
def test_top_level_must_be_an_object(tmp_path: Path, text: str) -> None:
    err = load_error(tmp_path, text)
    assert "expected a JSON object at the top of the file" in str(err)


def test_a_missing_file_is_a_project_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="cannot read"):
        load_project(tmp_path / "nowhere.nbproj")


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    text = project_to_json(build_project()).replace('"name": "demo ✓",', '"name": "a",\n  "name": "b",')
    err = load_error(tmp_path, text)
    assert str(err) == "name: given more than once"


def test_a_newer_format_is_refused_with_advice(tmp_path: Path) -> None:
    data = project_to_dict(build_project())
    data["format_version"] = 4
    data["graph"]["shiny_new_field"] = True  # the version is checked before anything a newer writer adds
    err = load_error(tmp_path, json.dumps(data))
    assert str(err) == (
        "format_version: this file was written by a newer netbuilder (format 4); "
        "this version reads format 3: update netbuilder"
    )


Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _add_edge(src: list[str], dst: list[str]) -> Mutation:
    return lambda data: data["graph"]["edges"].append({"from": src, "to": dst})


def _node(i: int, *rest: Any) -> list[Any]:
    return ["graph", "nodes", i, *rest]


def _edge(i: int, *rest: Any) -> list[Any]:
    return ["graph", "edges", i, *rest]


ERROR_CASES: list[tuple[str, Mutation, str, str]] = [
    # (id, mutation, the field path the message must start with, a fragment it must contain)
    ("version missing", _delete(["format_version"]), "format_version", "missing"),
    ("version a string", _set(["format_version"], "1"), "format_version", "expected an integer, got '1'"),
    ("version a bool", _set(["format_version"], True), "format_version", "expected an integer, got True"),
    ("version a float", _set(["format_version"], 1.0), "format_version", "expected an integer"),
    ("version zero", _set(["format_version"], 0), "format_version", "expected a format from 1 to 3, got 0"),
    ("unknown top key", _set(["colour"], "red"), "colour", "unknown field"),
    ("name missing", _delete(["name"]), "name", "missing"),
    ("name a number", _set(["name"], 7), "name", "expected a string, got 7"),
    ("graph a list", _set(["graph"], []), "graph", "expected an object, got []"),
    ("graph.nodes missing", _delete(["graph", "nodes"]), "graph.nodes", "missing"),
    ("graph.nodes an object", _set(["graph", "nodes"], {}), "graph.nodes", "expected a list, got an object"),
    ("graph.edges a string", _set(["graph", "edges"], "none"), "graph.edges", "expected a list"),
    ("node not an object", _set(_node(HEAD), "Linear"), "graph.nodes[6]", "expected an object"),
    ("node field typo", _set(_node(HEAD, "lable"), "x"), "graph.nodes[6].lable", "did you mean 'label'"),
    ("node id missing", _delete(_node(HEAD, "id")), "graph.nodes[6].id", "missing"),
    ("node id a number", _set(_node(HEAD, "id"), 7), "graph.nodes[6].id", "expected a non-empty string"),
    ("duplicate id", _set(_node(HEAD, "id"), "n1"), "graph.nodes[6].id", "duplicate id 'n1' (graph.nodes[0]"),
    (
        "unknown block",
        _set(_node(HEAD, "block"), "Linaer"),
        "graph.nodes[6].block",
        "unknown block type 'Linaer'",
    ),
    ("block a list", _set(_node(HEAD, "block"), ["Linear"]), "graph.nodes[6].block", "expected a non-empty"),
    (
        "duplicate label",
        _set(_node(HEAD, "label"), "cat"),
        "graph.nodes[6].label",
        "already used by graph.nodes[5]",
    ),
    ("blank label", _set(_node(HEAD, "label"), "  "), "graph.nodes[6].label", "expected a non-empty string"),
    (
        "negative size",
        _set(_node(FC_B, "params", "out_features"), -4),
        "graph.nodes[3].params.out_features",
        "expected an integer from 1 to",
    ),
    ("bool param", _set(_node(FC_B, "params", "bias"), "yes"), "graph.nodes[3].params.bias", "true or false"),
    (
        "choice param",
        _set(_node(DATA, "params", "dataset"), "mnist9"),
        "graph.nodes[0].params.dataset",
        "expected one of",
    ),
    (
        "float param NaN",
        _set(_node(ACT, "params", "negative_slope"), float("nan")),
        "graph.nodes[4].params.negative_slope",
        "got nan",
    ),
    (
        "ints too long",
        _set(_node(SHAPE_IN, "params", "shape"), [1, 2, 3, 4, 5]),
        "graph.nodes[1].params.shape",
        "expected",
    ),
    (
        "ints not ints",
        _set(_node(SHAPE_IN, "params", "shape"), ["a"]),
        "graph.nodes[1].params.shape",
        "integers",
    ),
    (
        "unknown param",
        _set(_node(FC_B, "params", "outfeatures"), 3),
        "graph.nodes[3].params.outfeatures",
        "Linear has no such parameter",
    ),
    (
        "odd param name",
        _set(_node(FC_B, "params", "out features"), 3),
        'graph.nodes[3].params["out features"]',
        "no such",
    ),
    ("params a list", _set(_node(FC_B, "params"), []), "graph.nodes[3].params", "expected an object"),
    ("position short", _set(_node(HEAD, "position"), [1.0]), "graph.nodes[6].position", "expected [x, y]"),
    ("position text", _set(_node(HEAD, "position"), ["1", 2]), "graph.nodes[6].position", "expected [x, y]"),
    ("position bool", _set(_node(HEAD, "position"), [True, 2]), "graph.nodes[6].position", "expected [x, y]"),
    ("position inf", _set(_node(HEAD, "position"), [float("inf"), 2]), "graph.nodes[6].position", "finite"),
    ("position huge", _set(_node(HEAD, "position"), [10**400, 2]), "graph.nodes[6].position", "finite"),
    (
        "float param huge int",
        _set(_node(ACT, "params", "negative_slope"), 10**400),
        "graph.nodes[4].params.negative_slope",
        "expected a number from 0 to 1, got 1000",
    ),
    ("val fraction huge", _set(["training", "val_fraction"], -(10**400)), "training.val_fraction", "got -1000"),
    ("position object", _set(_node(HEAD, "position"), {"x": 1}), "graph.nodes[6].position", "got an object"),
    ("edge not an object", _set(_edge(2), ["n1", "n5"]), "graph.edges[2]", "expected an object"),
    ("edge end missing", _delete(_edge(2, "to")), "graph.edges[2].to", "missing"),
    (
        "edge end a string",
        _set(_edge(2, "from"), "n1.x"),
        "graph.edges[2].from",
        "expected [node id, port name]",
    ),
    (
        "edge from no node",
        _set(_edge(2, "from"), ["n99", "x"]),
        "graph.edges[2].from",
        "no node has the id 'n99'",
    ),
    ("edge to no node", _set(_edge(2, "to"), ["n99", "x"]), "graph.edges[2].to", "no node has the id 'n99'"),
    (
        "edge no output",
        _set(_edge(2, "from"), ["n1", "y"]),
        "graph.edges[2].from",
        "data (Dataset) has no output 'y'",
    ),
    (
        "edge no input",
        _set(_edge(3, "to"), ["n6", "in4"]),
        "graph.edges[3].to",
        "cat (Concat) has no input 'in4'",
    ),
    ("kind mismatch", _set(_edge(0, "from"), ["n1", "target"]), "graph.edges[0]", "carries a target"),
    ("occupied input", _add_edge(["n5", "y"], ["n3", "x"]), "graph.edges[10].to", "already fed by data"),
    ("training a list", _set(["training"], []), "training", "expected an object"),
    ("training typo", _set(["training", "epoch"], 3), "training.epoch", "did you mean 'epochs'"),
    (
        "batch size zero",
        _set(["training", "batch_size"], 0),
        "training.batch_size",
        "expected an integer from 1 to 1048576, got 0",
    ),
    (
        "epochs text",
        _set(["training", "epochs"], "20"),
        "training.epochs",
        "expected an integer from 1 to 100000, got '20'",
    ),
    (
        "val fraction big",
        _set(["training", "val_fraction"], 0.95),
        "training.val_fraction",
        "from 0 to 0.9, got 0.95",
    ),
    ("seed negative", _set(["training", "seed"], -1), "training.seed", "got -1"),
    ("device unknown", _set(["training", "device"], "tpu"), "training.device", "got 'tpu'"),
]


@pytest.mark.parametrize(("mutate", "field", "fragment"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_a_bad_file_names_the_field(tmp_path: Path, mutate: Mutation, field: str, fragment: str) -> None:
    data = project_to_dict(build_project())
    mutate(data)
    err = load_error(tmp_path, json.dumps(data))
    assert str(err).startswith(field + ": "), str(err)
    assert err.field == field
    assert fragment in str(err), str(err)
    assert "Traceback" not in str(err)


def test_a_bad_param_message_is_the_field_then_the_blocks_own_reason() -> None:
    data = project_to_dict(build_project())
    data["graph"]["nodes"][FC_B]["params"]["out_features"] = -4
    with pytest.raises(ProjectError) as info:
        project_from_dict(data)
    expected = catalogue.get("Linear").param("out_features").expected()
    assert str(info.value) == f"graph.nodes[3].params.out_features: expected {expected}, got -4"
    assert (info.value.field, info.value.reason) == (
        "graph.nodes[3].params.out_features",
        f"expected {expected}, got -4",
    )


def test_a_cycle_names_the_edge() -> None:
    project = Project.new("loop")
    a = project.graph.add_node("Linear", label="a")
    b = project.graph.add_node("Linear", label="b")
    project.graph.connect(a.id, "y", b.id, "x")
    data = project_to_dict(project)
    data["graph"]["edges"].append({"from": [b.id, "y"], "to": [a.id, "x"]})
    with pytest.raises(ProjectError) as info:
        project_from_dict(data)
    assert info.value.field == "graph.edges[1]"
    assert str(info.value) == "graph.edges[1]: connecting b to a would make a cycle: a already feeds b"


def test_a_self_loop_is_a_cycle() -> None:
    project = Project.new("loop")
    a = project.graph.add_node("Linear", label="a")
    data = project_to_dict(project)
    data["graph"]["edges"].append({"from": [a.id, "y"], "to": [a.id, "x"]})
    with pytest.raises(ProjectError, match=r"^graph\.edges\[0\]: .*cycle"):
        project_from_dict(data)


# ---- atomic save ---------------------------------------------------------------------------------------


def test_a_failed_rename_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "demo.nbproj"
    project = Project.new("old")
    save_project(project, path)
    before = path.read_bytes()

    def refuse(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    changed = build_project()
    with pytest.raises(ProjectError, match="No space left on device"):
        save_project(changed, path)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.nbproj"]
    assert changed.path is None  # not saved, so not pointed at the file


def test_a_failed_fsync_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "demo.nbproj"
    save_project(Project.new("old"), path)
    before = path.read_bytes()

    def fail(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(ProjectError):
        save_project(build_project(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo.nbproj"]


def test_any_exception_during_save_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_project(build_project(), tmp_path / "demo.nbproj")
    assert list(tmp_path.iterdir()) == []


def test_save_fsyncs_a_temporary_in_the_same_folder_before_renaming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, Any]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", fd))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append(("replace", (Path(src), Path(dst))))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    path = tmp_path / "demo.nbproj"
    save_project(build_project(), path)

    kinds = [kind for kind, _ in events]
    assert "fsync" in kinds and kinds.index("fsync") < kinds.index("replace")
    src, dst = next(arg for kind, arg in events if kind == "replace")
    assert src.parent == tmp_path and src != dst
    assert dst == path
    assert load_project(path).name == "demo ✓"


def test_save_defaults_to_the_project_path_and_records_it(tmp_path: Path) -> None:
    project = build_project()
    with pytest.raises(ValueError, match="give a path"):
        save_project(project)
    path = tmp_path / "demo.nbproj"
    assert save_project(project, str(path)) == path
    assert project.path == path
    project.name = "renamed"
    save_project(project)
    assert load_project(path).name == "renamed"


def test_a_first_save_names_an_untitled_project_after_its_file(tmp_path: Path) -> None:
    project = Project.new("Untitled 1", named=False)
    save_project(project, tmp_path / "cifar_style_cnn.nbproj")
    assert (project.name, project.named) == ("cifar_style_cnn", True)
    assert load_project(tmp_path / "cifar_style_cnn.nbproj").name == "cifar_style_cnn"
    save_project(project, tmp_path / "copy.nbproj")  # named now: Save As keeps the name
    assert load_project(tmp_path / "copy.nbproj").name == "cifar_style_cnn"


def test_a_named_project_keeps_its_name_in_any_file(tmp_path: Path) -> None:
    project = Project.new("Digits CNN")
    save_project(project, tmp_path / "scratch.nbproj")
    assert project.name == load_project(tmp_path / "scratch.nbproj").name == "Digits CNN"


def test_an_untitled_project_that_cannot_be_saved_keeps_its_placeholder(tmp_path: Path) -> None:
    project = Project.new("Untitled 2", named=False)
    with pytest.raises(ProjectError):
        save_project(project, tmp_path / "no such folder" / "net.nbproj")
    assert (project.name, project.named, project.path) == ("Untitled 2", False, None)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and symlinks")
def test_save_keeps_the_file_mode_and_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.nbproj"
    save_project(Project.new("old"), real)
    real.chmod(0o640)
    link = tmp_path / "link.nbproj"
    link.symlink_to(real)

    save_project(build_project(), link)

    assert link.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert load_project(real).name == "demo ✓"


# ---- training settings ---------------------------------------------------------------------------------


def test_training_settings_defaults() -> None:
    settings = TrainingSettings()
    assert settings.to_dict() == {
        "epochs": 20,
        "batch_size": 64,
        "val_fraction": 0.2,
        "seed": 0,
        "device": "auto",
        "precision": "fp32",
        "grad_clip": 0.0,
        "early_stopping": 0,
        "accumulation": 1,
        "processes": 1,
        "sync_batchnorm": "off",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"val_fraction": -0.1}, "val_fraction"),
        ({"val_fraction": 0.91}, "val_fraction"),
        ({"val_fraction": float("nan")}, "val_fraction"),
        ({"seed": 2**32}, "seed"),
        ({"device": "CUDA"}, "device"),
    ],
)
def test_training_settings_refuse_bad_values(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        TrainingSettings(**changes)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: expected ")
    with pytest.raises(SettingsError):
        dataclasses.replace(TrainingSettings(), **changes)


def test_training_settings_accept_the_edges_of_their_ranges() -> None:
    settings = TrainingSettings(epochs=20.0, val_fraction=0, seed=2**32 - 1, device="cuda")
    assert settings.epochs == 20 and isinstance(settings.epochs, int)
    assert settings.val_fraction == 0.0 and isinstance(settings.val_fraction, float)
    assert TrainingSettings(val_fraction=0.9).val_fraction == 0.9


def test_the_project_package_imports_no_torch_qt_or_sklearn() -> None:
    import subprocess

    code = (
        "import sys, netbuilder.project; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'pyqtgraph', 'sklearn')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# ---- the documentation ---------------------------------------------------------------------------------


def _subset_of(part: Any, whole: Any) -> bool:
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(k in whole and _subset_of(v, whole[k]) for k, v in part.items())
    if isinstance(part, list):
        return isinstance(whole, list) and len(part) == len(whole) and all(map(_subset_of, part, whole))
    return part == whole and type(part) is type(whole)


def test_the_example_in_the_docs_loads_and_says_what_it_means() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "project-format.md").read_text(encoding="utf-8")
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    project = project_from_dict(json.loads(example))
    assert project.graph.edge_count() == len(json.loads(example)["graph"]["edges"])
    # Written back, it holds everything the example says (blocks may since have gained parameters).
    assert _subset_of(json.loads(example), project_to_dict(project))


# ---- limits: what is not a project file, or is too big to be one -----------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX FIFOs and devices")
def test_a_fifo_is_refused_at_once_rather_than_waiting_for_a_writer(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "pipe.nbproj"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_project(fifo)
            outcome.append(None)
        except BaseException as err:  # handed to the test's thread
            outcome.append(err)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # blocked in open(): give it a writer so the thread can end, then fail
        with open(fifo, "wb"):
            pass
        worker.join()
        pytest.fail("loading a FIFO waited for a writer")
    assert isinstance(outcome[0], ProjectError)
    assert "not a project file" in str(outcome[0])


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
@pytest.mark.parametrize("where", ["folder", "/dev/null"])
def test_a_folder_or_a_device_is_refused_as_not_a_project_file(tmp_path: Path, where: str) -> None:
    with pytest.raises(ProjectError, match="not a project file") as info:
        load_project(tmp_path if where == "folder" else where)
    assert info.value.field is None


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netbuilder.project import json_file

    path = tmp_path / "big.nbproj"
    path.write_text(project_to_json(build_project()), encoding="utf-8")
    monkeypatch.setattr(json_file, "MAX_FILE_BYTES", 1024)
    monkeypatch.setattr(json_file, "open", lambda *args, **kwargs: pytest.fail("read"), raising=False)
    with pytest.raises(ProjectError, match=r"larger than a project file may be \(0 MiB\)"):
        load_project(path)


def test_a_file_that_grows_after_it_was_measured_is_read_no_further_than_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netbuilder.project import json_file

    path = tmp_path / "growing.nbproj"
    path.write_text(project_to_json(build_project()), encoding="utf-8")
    real_fstat = os.fstat

    def measured_empty(fd: int) -> os.stat_result:  # as the file was when looked at
        info = list(real_fstat(fd))
        info[stat.ST_SIZE] = 0
        return os.stat_result(info)

    monkeypatch.setattr(json_file, "MAX_FILE_BYTES", 1024)
    monkeypatch.setattr(os, "fstat", measured_empty)
    with pytest.raises(ProjectError, match="larger than a project file may be"):
        load_project(path)


def test_a_project_over_the_node_or_edge_limit_is_refused_by_count(monkeypatch: pytest.MonkeyPatch) -> None:
    from netbuilder.project import graph_file

    data = project_to_dict(build_project())
    monkeypatch.setattr(graph_file, "MAX_NODES", 8)
    with pytest.raises(ProjectError) as info:
        project_from_dict(copy.deepcopy(data))
    assert str(info.value) == "graph.nodes: 9 nodes; a project holds at most 8"
    monkeypatch.setattr(graph_file, "MAX_NODES", 9)
    monkeypatch.setattr(graph_file, "MAX_EDGES", 9)
    with pytest.raises(ProjectError, match=r"^graph\.edges: 10 edges; a project holds at most 9$"):
        project_from_dict(data)


# ---- limits: ids, text and what messages quote -----------------------------------------------------------


@pytest.mark.parametrize("node_id", ["n²", "n" + "7" * 5000, "node one", "n1\n", "ö"])
def test_an_id_outside_the_ascii_pattern_is_refused_with_a_message(tmp_path: Path, node_id: str) -> None:
    data = project_to_dict(build_project())
    data["graph"]["nodes"][HEAD]["id"] = node_id
    err = load_error(tmp_path, json.dumps(data))
    assert err.field == "graph.nodes[6].id"
    assert "expected an id of letters, digits" in str(err)
    assert len(str(err)) < 250


def test_ids_of_other_writers_within_the_pattern_load_and_are_kept() -> None:
    data = project_to_dict(build_project())
    old = data["graph"]["nodes"][HEAD]["id"]
    data["graph"]["nodes"][HEAD]["id"] = "layer4.2-conv_3"
    for edge in data["graph"]["edges"]:
        for end in ("from", "to"):
            if edge[end][0] == old:
                edge[end][0] = "layer4.2-conv_3"
    assert project_to_dict(project_from_dict(copy.deepcopy(data))) == data


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (["name"], "name"),
        (_node(HEAD, "label"), "graph.nodes[6].label"),
        (_node(DATA, "params", "path"), "graph.nodes[0].params.path"),
    ],
)
def test_a_lone_surrogate_is_refused_at_load_so_the_project_can_always_be_saved(
    tmp_path: Path, where: list[Any], field: str
) -> None:
    data = project_to_dict(build_project())
    _set(where, "abc\ud800")(data)
    text = json.dumps(data)  # ensure_ascii: the file holds the escape \ud800, as such files do
    assert "\\ud800" in text
    err = load_error(tmp_path, text)
    assert err.field == field
    str(err).encode("utf-8")  # the message itself can be printed


def test_a_label_or_name_over_the_length_limit_is_refused() -> None:
    from netbuilder.graph.limits import MAX_NAME_CHARS

    data = project_to_dict(build_project())
    data["graph"]["nodes"][HEAD]["label"] = "h" * (MAX_NAME_CHARS + 1)
    with pytest.raises(ProjectError, match=rf"^graph\.nodes\[6\]\.label: a label is at most {MAX_NAME_CHARS}"):
        project_from_dict(copy.deepcopy(data))
    data["graph"]["nodes"][HEAD]["label"] = "head"
    data["name"] = "n" * 100_000
    with pytest.raises(ProjectError, match=r"^name: the project's name is at most"):
        project_from_dict(data)


HUGE = "Q" * 10_000_000
HUGE_VALUES: list[tuple[str, Mutation]] = [
    ("name", _set(["name"], HUGE)),
    ("unknown top key", _set([HUGE], 1)),
    ("id", _set(_node(HEAD, "id"), HUGE)),
    ("block", _set(_node(HEAD, "block"), HUGE)),
    ("label", _set(_node(HEAD, "label"), HUGE)),
    ("param name", _set(_node(HEAD, "params", HUGE), 1)),
    ("text param", _set(_node(DATA, "params", "path"), HUGE)),
    ("choice param", _set(_node(DATA, "params", "dataset"), HUGE)),
    ("edge node", _set(_edge(2, "from"), [HUGE, "x"])),
    ("edge port", _set(_edge(2, "from"), ["n1", HUGE])),
    ("training value", _set(["training", "device"], HUGE)),
    ("weights", _set(["weights"], HUGE)),
    ("a long list", _set(_node(HEAD, "position"), list(range(1_000_000)))),
    ("deep nesting", _set(_node(HEAD, "position"), json.loads("[" * 900 + "]" * 900))),
]


@pytest.mark.parametrize("mutate", [c[1] for c in HUGE_VALUES], ids=[c[0] for c in HUGE_VALUES])
def test_a_refusal_quotes_only_a_short_prefix_of_a_huge_value(mutate: Mutation) -> None:
    data = project_to_dict(build_project())
    mutate(data)
    with pytest.raises(ProjectError) as info:
        project_from_dict(data)
    assert len(str(info.value)) < 400, str(info.value)[:500]
    assert "did you mean" not in str(info.value)


def test_a_name_that_cannot_be_written_is_refused_at_save_and_no_file_is_left(tmp_path: Path) -> None:
    project = Project.new("Untitled 3", named=False)
    target = tmp_path / "caf\udce9.nbproj"  # a file name that is not UTF-8, as Python sees it on Linux
    with pytest.raises(ProjectError, match=r"^name: .*no file can save"):
        save_project(project, target)
    assert list(tmp_path.iterdir()) == []
    assert (project.name, project.named, project.path) == ("Untitled 3", False, None)


def test_a_path_that_cannot_be_written_is_a_project_error_not_a_crash(tmp_path: Path) -> None:
    weights = tmp_path / "w\udce9.weights.safetensors"
    weights.write_bytes(b"{}")
    project = build_project()
    project.weights = weights
    with pytest.raises(ProjectError, match="not valid text"):
        save_project(project, tmp_path / "demo.nbproj")
    assert sorted(p.name for p in tmp_path.iterdir()) == [weights.name]


def test_a_project_too_big_to_open_again_is_not_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from netbuilder.project import project_file

    path = tmp_path / "demo.nbproj"
    save_project(Project.new("old"), path)
    before = path.read_bytes()
    monkeypatch.setattr(project_file, "MAX_FILE_BYTES", len(project_to_json(build_project())) - 1)
    with pytest.raises(ProjectError, match="more than a project file may"):
        save_project(build_project(), path)
    assert path.read_bytes() == before
