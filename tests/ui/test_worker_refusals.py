"""How the window's training worker ends a run that cannot go on, in one line: Continue reads a run's
checkpoint as `netbuilder train --resume` does (a file that cannot be gone on from is refused before any data
loads), and an unexpected error is said by its first line."""

from __future__ import annotations

from pathlib import Path

import torch

from netbuilder.project import load_project
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.out_of_memory import out_of_memory_at_start
from netbuilder.training.program import Program
from netbuilder.ui.training.worker import TrainingWorker
from tests.test_out_of_memory import DIGITS_MLP, out_of_memory, says_what_to_lower

SAMPLES = Path(__file__).parent.parent.parent / "sample_projects"


def test_continuing_from_a_weights_file_says_which_file_to_give(tmp_path):
    path = tmp_path / "2025-01-01_10-00-00" / "last.pt"
    path.parent.mkdir()
    torch.save({"fc1.weight": torch.zeros(64, 64)}, path)  # a model.pt put where last.pt belongs
    worker = TrainingWorker(load_project(SAMPLES / "digits_mlp.nbproj"), resume_from=path)
    end = worker.run()
    assert end.status == "failed" and not end.started
    assert end.message == (
        "the checkpoint 2025-01-01_10-00-00/last.pt: holds a network's weights alone (a model.pt), not a run to "
        "go on from: give the run's last.pt"
    )


def test_an_unexpected_error_is_said_in_one_line(monkeypatch):
    def breaks(*_args, **_kwargs):
        raise RuntimeError("something broke\nwith details over\nseveral lines")

    monkeypatch.setattr(Trainer, "run_start", breaks)
    end = TrainingWorker(load_project(SAMPLES / "spirals_mlp.nbproj")).run()
    assert end.status == "failed" and end.message == "training failed: RuntimeError: something broke"


# ---- out of memory: the worker reports it, never raises (tests/test_out_of_memory.py holds the rest) ----


def test_the_windows_worker_reports_it_and_never_raises(monkeypatch):
    monkeypatch.setattr(Trainer, "_train_step", out_of_memory)
    project = with_settings(load_project(DIGITS_MLP), device="cpu", batch_size=128)
    end = TrainingWorker(project).run()
    assert end.status == "failed" and end.started and says_what_to_lower(end.message, 128)


def test_building_the_model_out_of_memory_fails_the_windows_run(monkeypatch):
    monkeypatch.setattr(Program, "new_model", out_of_memory)
    end = TrainingWorker(with_settings(load_project(DIGITS_MLP), device="cpu", batch_size=128)).run()
    assert end.status == "failed" and not end.started and end.message == out_of_memory_at_start()
    assert "make the network smaller" in end.message
