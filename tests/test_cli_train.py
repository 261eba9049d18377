"""`netbuilder train` as a person runs it: results on disk, exit codes, resuming, refusals that explain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from netbuilder.cli import main
from netbuilder.project import load_project, save_project
from netbuilder.project.settings import SETTINGS

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def test_train_writes_metrics_weights_and_checkpoints(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["train", str(SAMPLES / "digits_mlp.nbproj"), "--epochs", "2", "--device", "cpu", "--out", str(out)]) == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_done"] == 2
    assert len(metrics["history"]) == 2 and metrics["final"]["val_accuracy"] > 0.5
    assert len(metrics["confusion_matrix"]) == 10 and metrics["class_names"][3] == "3"
    weights = torch.load(out / "model.pt", weights_only=True)
    assert "fc1.weight" in weights
    assert (out / "checkpoints" / "last.pt").exists() and (out / "checkpoints" / "best.pt").exists()
    assert "epoch 2/2" in capsys.readouterr().err


def test_train_resumes_from_a_checkpoint(tmp_path):
    out = tmp_path / "run"
    assert (
        main(["train", str(SAMPLES / "digits_mlp.nbproj"), "--epochs", "1", "--device", "cpu", "--out", str(out)]) == 0
    )
    assert (
        main(
            [
                "train",
                str(SAMPLES / "digits_mlp.nbproj"),
                "--epochs",
                "3",
                "--device",
                "cpu",
                "--out",
                str(out),
                "--resume",
                str(out / "checkpoints" / "last.pt"),
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3]


def test_a_project_that_cannot_train_exits_1_and_says_why(tmp_path, capsys):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    project.graph.remove_node(next(n.id for n in project.graph.nodes.values() if n.block == "Adam"))
    path = save_project(project, tmp_path / "no_optimizer.nbproj")
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 1
    assert "training needs an optimizer" in capsys.readouterr().err


def test_bad_overrides_exit_2(tmp_path, capsys):
    assert main(["train", str(SAMPLES / "digits_mlp.nbproj"), "--epochs", "0", "--out", str(tmp_path)]) == 2
    assert "--epochs: expected a positive integer, got 0" in capsys.readouterr().err
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
