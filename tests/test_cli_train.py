"""`netbuilder train` as a person runs it: the run in the project's history, results on disk, exit codes,
resuming, refusals that explain, output that reads well in a log file."""

from __future__ import annotations

import gc
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from netbuilder.blocks.spec import MODEL
from netbuilder.cli import main
from netbuilder.project import load_project, save_project
from netbuilder.project.latest_run import latest_run
from netbuilder.project.run_history import RunHistory, RunRecord
from netbuilder.project.settings import SETTINGS
from netbuilder.training.checkpoint_file import WriteError
from netbuilder.training.engine import Trainer

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.fixture
def digits(tmp_path: Path) -> Path:
    """A copy of the digits sample: training adds runs beside the project file."""
    return Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "digits_mlp.nbproj"))


def test_the_first_line_counts_in_words_one_epoch_and_several_steps(digits, capsys):
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu", "--batch-size", "2000"]) == 0
    assert "Digits MLP: 1 epoch of 1 step, batch 2000, on cpu" in capsys.readouterr().err
    assert main(["train", str(digits), "--epochs", "2", "--device", "cpu"]) == 0
    assert "Digits MLP: 2 epochs of 23 steps, batch 64, on cpu" in capsys.readouterr().err


def test_the_modules_loaded_stay_out_of_the_collectors_sight_while_the_run_goes_on(digits, monkeypatch):
    """Every full collection would walk torch's objects again: the command freezes them once they are loaded,
    and gives them back when it ends, so a caller in the same process collects as before."""
    import netbuilder.training.console as console

    frozen = []
    train = console.train_in_terminal

    def counting(*args, **kwargs):
        frozen.append(gc.get_freeze_count())
        return train(*args, **kwargs)

    monkeypatch.setattr(console, "train_in_terminal", counting)
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu"]) == 0
    assert frozen[0] > 100_000 and gc.get_freeze_count() == 0  # torch's objects and the rest, then none


def test_a_run_joins_the_projects_history_with_its_weights_and_checkpoints(digits, capsys):
    assert main(["train", str(digits), "--epochs", "2", "--device", "cpu", "--seed", "3"]) == 0
    history = RunHistory(digits)
    (record,) = history.records
    assert record.status == "completed" and record.epochs_done == 2 and record.device == "cpu"
    assert record.settings["seed"] == 3 and record.settings["epochs"] == 2
    assert len(record.history) == 2 and record.final["val_accuracy"] > 0.5
    assert len(record.confusion) == 10 and record.class_names[3] == "3"
    assert record.steps and record.steps[-1][0] == record.global_step
    ran = record.project  # the project as it ran, for the Runs view to compare and open
    assert ran["training"]["seed"] == 3 and any(node["label"] == "fc1" for node in ran["graph"]["nodes"])
    weights = history.file_path(record, record.weights)
    assert weights == digits.with_name("digits_mlp.runs") / record.run_id / "model.pt"
    assert "fc1.weight" in torch.load(weights, weights_only=True)
    assert history.file_path(record, record.checkpoint).name == "last.pt"
    assert (weights.parent / "best.pt").exists()
    assert "epoch 2/2" in capsys.readouterr().err


def test_with_out_each_run_gets_its_own_folder_and_latest_names_the_last_finished_one(digits, tmp_path):
    out = tmp_path / "runs"
    assert main(["train", str(digits), "--epochs", "2", "--device", "cpu", "--out", str(out)]) == 0
    (run,) = [path for path in out.iterdir() if path.name != "latest"]
    assert latest_run(out) == run and (out / "latest").is_symlink()
    assert not os.path.isabs(os.readlink(out / "latest"))  # relative: the folder can be moved whole
    metrics = RunRecord.from_dict(json.loads((run / "metrics.json").read_text()))
    assert metrics.run_id == run.name and metrics.status == "completed" and metrics.epochs_done == 2
    assert len(metrics.history) == 2 and len(metrics.confusion) == 10 and metrics.class_names[3] == "3"
    assert "fc1.weight" in torch.load(run / "model.pt", weights_only=True)
    assert (run / "checkpoints" / "last.pt").exists() and (run / "checkpoints" / "best.pt").exists()
    (kept,) = RunHistory(digits).records  # the window lists it too, without files it could reach
    assert kept == metrics and kept.weights is None


def test_a_failed_run_keeps_the_previous_runs_weights(digits, tmp_path, capsys, monkeypatch):
    out = tmp_path / "runs"
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu", "--out", str(out)]) == 0
    first = latest_run(out)
    weights = (first / "model.pt").read_bytes()

    def failing_step(*_):
        raise RuntimeError("a step failed")

    monkeypatch.setattr(Trainer, "_train_step", failing_step)
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu", "--out", str(out)]) == 1
    assert "training failed" in capsys.readouterr().err
    assert latest_run(out) == first and (first / "model.pt").read_bytes() == weights
    failed = [path for path in out.iterdir() if path.name not in ("latest", first.name)]
    assert [json.loads((path / "metrics.json").read_text())["status"] for path in failed] == ["failed"]
    assert not any((path / "model.pt").exists() for path in failed)


def test_train_resumes_from_a_checkpoint(digits, tmp_path):
    out = tmp_path / "runs"
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu", "--out", str(out)]) == 0
    first = latest_run(out)
    resume = ["--resume", str(first / "checkpoints" / "last.pt")]
    assert main(["train", str(digits), "--epochs", "3", "--device", "cpu", "--out", str(out), *resume]) == 0
    assert latest_run(out) != first
    metrics = json.loads((latest_run(out) / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3]
    assert [r.epochs_done for r in RunHistory(digits).records] == [1, 3]


def test_without_validation_the_run_ends_with_its_training_figures(digits, capsys):
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu", "--val-fraction", "0"]) == 0
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith("done (completed): train_loss ") and "train_accuracy" in last_line
    (record,) = RunHistory(digits).records
    assert record.final["val_loss"] is None and latest_run(digits.with_name("digits_mlp.runs")).name == record.run_id


def test_output_to_a_file_is_whole_lines(digits, capsys):
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu"]) == 0
    lines = capsys.readouterr().err.splitlines()
    epoch = next(line for line in lines if line.startswith("epoch 1/1"))
    assert len(epoch) > 80 and "val accuracy" in epoch and epoch.endswith(" s)")
    assert not any("\r" in line or "\x1b" in line for line in lines)  # no bar, no colours


def test_a_project_that_cannot_train_exits_1_and_says_why(tmp_path, capsys):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    project.graph.remove_node(next(n.id for n in project.graph.nodes.values() if n.block == "Adam"))
    path = save_project(project, tmp_path / "no_optimizer.nbproj")
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 1
    assert "training needs an optimizer" in capsys.readouterr().err


def test_bad_overrides_exit_2(tmp_path, capsys):
    assert main(["train", str(SAMPLES / "digits_mlp.nbproj"), "--epochs", "0", "--out", str(tmp_path)]) == 2
    assert "--epochs: expected an integer from 1 to 100000, got 0" in capsys.readouterr().err
    assert main(["train", str(SAMPLES / "digits_mlp.nbproj"), "--val-fraction", "0.95", "--out", str(tmp_path)]) == 2
    assert "--val-fraction: expected a number from 0 to 0.9, got 0.95" in capsys.readouterr().err


def test_every_declared_setting_is_an_option(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    usage = capsys.readouterr().out
    for spec in SETTINGS:
        assert spec.flag in usage


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_cuda_without_a_gpu_exits_2(tmp_path, capsys):
    assert main(["train", str(SAMPLES / "digits_mlp.nbproj"), "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_weights_that_cannot_be_written_end_in_one_line_and_keep_latest(digits, tmp_path, capsys, monkeypatch):
    out = tmp_path / "runs"
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu", "--out", str(out)]) == 0
    first = latest_run(out)

    def full_disk(self, path):
        raise WriteError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(Trainer, "save_weights", full_disk)
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu", "--out", str(out)]) == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith("netbuilder: cannot write ") and last_line.endswith("model.pt: No space left on device")
    assert latest_run(out) == first
    kept = RunHistory(digits).records[-1]
    assert kept.status == "completed" and "No space left on device" in kept.message


def test_a_folder_named_latest_is_left_alone_and_the_run_kept(digits, tmp_path, capsys):
    out = tmp_path / "runs"
    (out / "latest").mkdir(parents=True)
    (out / "latest" / "model.pt").write_bytes(b"an earlier run's weights")
    assert main(["train", str(digits), "--epochs", "1", "--device", "cpu", "--out", str(out)]) == 0
    assert "latest could not name this run" in capsys.readouterr().err
    assert (out / "latest" / "model.pt").read_bytes() == b"an earlier run's weights"
    (run,) = [path for path in out.iterdir() if path.name != "latest"]
    assert (run / "model.pt").is_file()


def test_out_naming_a_file_is_refused_before_any_training(digits, tmp_path, capsys, monkeypatch):
    a_file = tmp_path / "results.txt"
    a_file.write_text("keep me")

    def no_training(*args, **kwargs):
        raise AssertionError("the trainer was built for a folder that cannot hold the run")

    monkeypatch.setattr("netbuilder.training.console.Trainer", no_training)
    assert main(["train", str(digits), "--out", str(a_file)]) == 2
    assert f"{a_file} is a file, not a folder" in capsys.readouterr().err
    assert a_file.read_text() == "keep me"


def test_a_mistyped_setting_is_refused_quoting_only_its_start(capsys):
    for flag, value, expected in (
        ("--epochs", "9" * 5000, "expected an integer from 1 to 100000"),
        ("--device", "x" * 500, "expected one of 'auto', 'cpu', 'cuda'"),
        ("--val-fraction", "lots", "expected a number from 0 to 0.9"),
    ):
        with pytest.raises(SystemExit) as ended:
            main(["train", str(SAMPLES / "digits_mlp.nbproj"), flag, value])
        assert ended.value.code == 2
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert f"argument {flag}: {expected}, got '{value[:20]}" in line and len(line) < 200, line


def test_a_network_without_trainable_parameters_is_refused_before_training_with_what_to_add(tmp_path, capsys):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    graph = project.graph
    loss = next(n.id for n in graph.nodes.values() if n.block == "CrossEntropy")
    data = next(n.id for n in graph.nodes.values() if n.block == "Dataset")
    for node in [n for n in graph.nodes.values() if graph.spec(n.id).role == MODEL]:
        graph.remove_node(node.id)
    flatten = graph.add_node("Flatten", label="flatten").id  # digits -> flatten -> loss: nothing for Adam to change
    graph.connect(data, "x", flatten, "x")
    graph.connect(flatten, "y", loss, "input")
    path = save_project(project, tmp_path / "no_weights.nbproj")
    assert main(["check", str(path)]) == 1
    assert "project: error: this network has no trainable parameters: add a layer with weights" in (
        capsys.readouterr().out
    )
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "this network has no trainable parameters: add a layer with weights (Linear, Conv2d ...)" in err
    assert "empty parameter list" not in err and not (tmp_path / "run").exists()
