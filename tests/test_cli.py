"""The command line as a person and a script use it: output, JSON, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from netbuilder.blocks import BLOCKS
from netbuilder.cli import main
from netbuilder.graph import Graph
from netbuilder.project import Project, save_project

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def broken_project(tmp_path: Path) -> Path:
    project = Project.new("broken")
    g: Graph = project.graph
    data = g.add_node("Dataset", label="digits").id
    fc = g.add_node("Linear", label="fc", params={"out_features": 7}, position=(100, 0)).id
    loss = g.add_node("CrossEntropy", position=(200, 0)).id
    g.connect(data, "x", fc, "x")
    g.connect(fc, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    return save_project(project, tmp_path / "broken.nbproj")


def test_blocks_lists_every_block_by_category(capsys):
    assert main(["blocks"]) == 0
    out = capsys.readouterr().out
    assert "Convolution\n" in out and "Conv2d" in out and f"{len(BLOCKS)} blocks" in out
    assert main(["blocks", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {b["type"] for b in data["blocks"]} == set(BLOCKS)
    linear = next(b for b in data["blocks"] if b["type"] == "Linear")
    in_features = next(p for p in linear["params"] if p["name"] == "in_features")
    assert in_features["default"] is None and in_features["inferred"] is True


def test_check_clean_sample(capsys):
    assert main(["check", str(SAMPLES / "digits_cnn.nbproj")]) == 0
    assert capsys.readouterr().out.strip() == "no problems"


def test_check_reports_problems_with_fixes_and_exit_1(tmp_path, capsys):
    path = broken_project(tmp_path)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "fc.x (Linear): warning: Linear acts on the last dimension only" in out
    assert "fix: add an Adam node fed by loss1.loss" in out
    assert "fix: insert Flatten between digits and fc" in out
    assert "project: error: training needs an optimizer" in out
    assert main(["check", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    fc = next(n for n in data["nodes"] if n["label"] == "fc")
    assert fc["outputs"] == {"y": "(N, 1, 8, 7)"} and fc["parameters"] == 8 * 7 + 7
    assert fc["diagnostics"][0]["fix"] == "insert Flatten between digits and fc"


def test_unreadable_project_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.nbproj"
    bad.write_text(
        '{"format_version": 1, "name": "x", "training": {}, "graph": {"edges": [], "nodes": '
        '[{"id": "n1", "block": "Linear", "label": "fc", "params": {"out_features": -4}, '
        '"position": [0, 0]}]}}'
    )
    assert main(["check", str(bad)]) == 2
    assert "graph.nodes[0].params.out_features: expected an integer from 1 to 1000000, got -4" in (
        capsys.readouterr().err
    )
    assert main(["summary", str(tmp_path / "missing.nbproj")]) == 2


def test_summary_table(capsys):
    assert main(["summary", str(SAMPLES / "digits_cnn.nbproj")]) == 0
    out = capsys.readouterr().out
    assert "(N, 16, 8, 8)" in out and "total" in out
    assert main(["summary", str(SAMPLES / "digits_cnn.nbproj"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["parameters"] == sum(n["parameters"] for n in data["nodes"])


def test_export_writes_the_package(tmp_path, capsys):
    out = tmp_path / "export"
    assert main(["export", str(SAMPLES / "digits_mlp.nbproj"), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "model.py",
        "predict.py",
        "requirements.txt",
        "train.py",
    ]


def test_export_of_a_project_with_training_problems_writes_the_model_and_says_why(tmp_path, capsys):
    path = broken_project(tmp_path)
    out = tmp_path / "export"
    assert main(["export", str(path), "-o", str(out)]) == 1
    assert "train.py was not written" in capsys.readouterr().err


def test_usage_errors_exit_2():
    assert subprocess.run([sys.executable, "-m", "netbuilder", "check"], capture_output=True).returncode == 2
    assert subprocess.run([sys.executable, "-m", "netbuilder", "a", "b"], capture_output=True).returncode == 2


def test_a_folder_or_a_pipe_given_as_the_project_is_refused_in_one_line(tmp_path, capsys):
    pipe = tmp_path / "pipe.nbproj"
    os.mkfifo(pipe)
    for path in (tmp_path, pipe):
        for command in ("check", "summary", "train"):
            assert main([command, str(path)]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and err.count("cannot read") == 1 and str(path) in err


def test_weights_given_as_a_folder_or_a_pipe_are_refused_in_one_line_without_waiting(tmp_path, capsys):
    pipe = tmp_path / "pipe.pt"
    os.mkfifo(pipe)  # reading it would wait for a writer forever
    project = str(SAMPLES / "digits_mlp.nbproj")
    for weights, why in ((tmp_path, "is a folder: give the weights file in it"), (pipe, "is not a regular file")):
        out = tmp_path / "out"
        assert main(["export", project, "-o", str(out), "--format", "safetensors", "--weights", str(weights)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"netbuilder: {weights} {why}") and err.count("\n") == 1


def cut_short_project(tmp_path: Path) -> Path:
    """image -> fc, and act -> head beside it with act's input left unconnected: a model that would stop at fc."""
    project = Project.new("cut short")
    g: Graph = project.graph
    image = g.add_node("Input", label="image", params={"shape": [8]}).id
    fc = g.add_node("Linear", label="fc", params={"out_features": 4}, position=(100, 0)).id
    act = g.add_node("ReLU", label="act", position=(200, 0)).id
    head = g.add_node("Linear", label="head", params={"out_features": 2}, position=(300, 0)).id
    g.connect(image, "x", fc, "x")
    g.connect(act, "y", head, "x")
    return save_project(project, tmp_path / "cut_short.nbproj")


def test_export_refuses_a_model_that_check_rejects_and_writes_nothing(tmp_path, capsys):
    path = cut_short_project(tmp_path)
    assert main(["check", str(path), "--model-only"]) == 1
    assert "act.x (ReLU): error: input 'x' is not connected: connect a layer's output to it" in capsys.readouterr().out
    for formats in ("code", "all", "code,torchscript", "onnx"):
        out = tmp_path / formats.replace(",", "_")
        assert main(["export", str(path), "-o", str(out), "--format", formats]) == 1
        assert capsys.readouterr().err == (
            "netbuilder: nothing exported: act.x (ReLU): input 'x' is not connected: connect a layer's output to it\n"
        )
        assert not out.exists()


def test_a_diagram_of_a_model_with_errors_is_still_drawn(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", str(cut_short_project(tmp_path)), "-o", str(out), "--format", "svg"]) == 0
    assert [p.name for p in out.iterdir()] == ["diagram.svg"]


def test_a_problem_at_the_loss_stops_training_but_not_the_model(tmp_path, capsys):
    """Without its Flatten the digits CNN hands the loss images: check says so, check --model-only and export of
    the model do not (the model is as drawn; only train.py waits for the loss)."""
    from netbuilder.project import load_project

    project = load_project(SAMPLES / "digits_cnn.nbproj")
    graph = project.graph
    flatten = graph.by_label("flatten")
    (into,), (out,) = graph.inputs_of(flatten.id).values(), graph.outputs_of(flatten.id)
    graph.remove_node(flatten.id)
    graph.connect(into.src, into.src_port, out.dst, out.dst_port)
    fc = graph.by_label("fc")
    graph.set_param(fc.id, "out_features", 10)
    path = save_project(project, tmp_path / "no_flatten.nbproj")
    assert main(["check", str(path)]) == 1
    assert main(["check", str(path), "--model-only"]) == 0
    capsys.readouterr()
    assert main(["export", str(path), "-o", str(tmp_path / "out"), "--format", "code"]) == 1  # train.py waits
    assert (tmp_path / "out" / "model.py").exists() and not (tmp_path / "out" / "train.py").exists()
