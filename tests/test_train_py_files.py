"""The exported train.py keeps its files as netbuilder does: each written all at once (a failed write leaves
the previous file whole and no temporary file), checkpoint.pt as often as keeps writing it to about
WRITING_SHARE of the run, and a bad `--resume` file ends the script in one line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from netbuilder.codegen.script_files import WRITING_SHARE
from netbuilder.project import load_project
from netbuilder.training.program import load_program
from tests.test_package import export

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.fixture(scope="module")
def script():
    return load_program(load_project(SAMPLES / "digits_mlp.nbproj")).script


def test_a_write_that_fails_leaves_the_previous_file_whole(script, tmp_path):
    path = tmp_path / "checkpoint.pt"
    script.save_atomically(str(path), {"epoch": torch.tensor(1)})
    before = path.read_bytes()
    with pytest.raises(Exception, match="pickle"):  # fails halfway through writing
        script.save_atomically(str(path), {"epoch": torch.tensor(2), "unsaveable": lambda: None})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    script.save_atomically(str(tmp_path / "history.json"), b'{"epochs": []}')
    assert (tmp_path / "history.json").read_bytes() == b'{"epochs": []}'


def checkpointed_epochs(script, monkeypatch, tmp_path, *, epoch_seconds, write_seconds, early_stopping=0):
    """The epochs after which train.py wrote checkpoint.pt, on a clock of the test's own: each epoch (its
    validation) takes `epoch_seconds` and each write `write_seconds`. With early stopping, every epoch's
    validation loss is worse than the first's."""
    now = [0.0]
    written = []
    save_checkpoint, evaluate = script.save_checkpoint, script.evaluate

    def saving(path, run, parts):
        save_checkpoint(path, run, parts)
        written.append(run["epochs_done"])
        now[0] += write_seconds

    def evaluating(*args, **kwargs):
        metrics = evaluate(*args, **kwargs)
        now[0] += epoch_seconds
        metrics["loss"] = now[0]  # higher each epoch
        return metrics

    monkeypatch.setattr(script, "time", SimpleNamespace(perf_counter=lambda: now[0], strftime=time.strftime))
    monkeypatch.setattr(script, "save_checkpoint", saving)
    monkeypatch.setattr(script, "evaluate", evaluating)
    script.train(8, 256, 0.2, 0, "cpu", str(tmp_path), early_stopping=early_stopping)
    return written


def test_train_py_writes_its_checkpoint_for_about_a_twentieth_of_the_run_and_always_at_the_end(
    script, monkeypatch, tmp_path
):
    assert WRITING_SHARE == 0.05  # a write of 1 s waits 20 s for the next
    # writing takes as long as an epoch: after the first epoch, only the last
    assert checkpointed_epochs(script, monkeypatch, tmp_path, epoch_seconds=1, write_seconds=1) == [1, 8]
    # epochs of 10 s: one write of 1 s in every 20 s or more
    assert checkpointed_epochs(script, monkeypatch, tmp_path, epoch_seconds=10, write_seconds=1) == [1, 3, 5, 7, 8]
    # writes that take no time: after every epoch
    assert checkpointed_epochs(script, monkeypatch, tmp_path, epoch_seconds=1, write_seconds=0) == list(range(1, 9))
    # an early stop (two epochs no better than the first) is written
    stopped = checkpointed_epochs(script, monkeypatch, tmp_path, epoch_seconds=1, write_seconds=1, early_stopping=2)
    assert stopped == [1, 3]
    run = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["run"]
    assert run["epochs_done"] == 3 and len(run["history"]) == 3


@pytest.mark.slow
def test_a_bad_resume_file_ends_train_py_in_one_line(tmp_path):
    export(load_project(SAMPLES / "digits_mlp.nbproj"), tmp_path)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    result = subprocess.run(
        [sys.executable, "train.py", "--device", "cpu", "--resume", "bad.pt", "--out", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("--resume bad.pt: cannot go on from it: ")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
