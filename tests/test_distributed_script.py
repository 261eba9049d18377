"""Gradient accumulation and the exported train.py under torchrun: the same steps as one process with the whole
batch. Every process takes its share of each batch of the same seeded permutation, weighs its loss by that share,
and DistributedDataParallel averages the gradients; torch is the oracle (the one-process run of the same script).
On the CPU, through gloo, with 2 processes; the network has no dropout (each process draws its own masks) and no
batch norm (each process's statistics are its share's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from netbuilder.project import Project, load_project
from netbuilder.project.run_events import Progress
from netbuilder.training.engine import Trainer, with_settings
from tests.test_package import export
from tests.test_tensorboard_log import hparams_of, read_run

SAMPLES = Path(__file__).parent.parent / "sample_projects"
STEPS = 50  # digits_mlp takes 23 steps of 64 an epoch: three epochs, with two partial last batches between them


def without_dropout() -> Project:
    """digits_mlp with its dropout at 0: the same arithmetic whichever process takes a sample."""
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    for node in list(project.graph.nodes.values()):
        if node.block == "Dropout":
            project.graph.set_param(node.id, "p", 0.0)
    return with_settings(project, device="cpu", epochs=3, batch_size=64)


def engine_losses(project: Project, steps: int = STEPS) -> list[float]:
    """The first `steps` step losses of the app's run of `project`."""
    losses: list[float] = []
    Trainer(project).run(lambda event: isinstance(event, Progress) and losses.extend(event.losses), max_steps=steps)
    return losses[:steps]


def assert_close(first: list[float], second: list[float], steps: int = STEPS) -> None:
    assert len(first) >= steps and len(second) >= steps
    assert max(abs(a - b) for a, b in zip(first[:steps], second[:steps], strict=True)) < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("parts", [2, 3])
def test_accumulation_takes_the_step_of_the_whole_batch(parts):
    project = without_dropout()
    whole = engine_losses(project)
    assert_close(engine_losses(with_settings(project, accumulation=parts)), whole)


@pytest.mark.slow
def test_accumulation_changes_nothing_where_the_batch_has_fewer_samples_than_parts():
    # batches of 4 in 5 parts, and an epoch's last batch of 1438 % 4 = 2 samples: fewer samples than parts
    project = with_settings(without_dropout(), batch_size=4, epochs=1)
    steps = 360  # the whole epoch, its last batch with it
    assert_close(engine_losses(with_settings(project, accumulation=5), steps), engine_losses(project, steps), steps)


def run_script(folder: Path, *arguments: str, processes: int = 1) -> subprocess.CompletedProcess:
    # --standalone: its rendezvous on a free port, so that two such tests at once (pytest -n) do not meet on 29500
    launcher = (
        ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)] if processes > 1 else []
    )
    return subprocess.run(
        [sys.executable, *launcher, "train.py", "--device", "cpu", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def script_losses(folder: Path, out: str) -> list[float]:
    return json.loads((folder / out / "history.json").read_text())["losses"]


@pytest.mark.slow
def test_train_py_under_torchrun_takes_the_steps_of_one_process(tmp_path):
    export(without_dropout(), tmp_path)
    alone = run_script(tmp_path, "--out", "alone")
    assert alone.returncode == 0, alone.stderr
    shared = run_script(tmp_path, "--out", "shared", "--tensorboard", "tb", processes=2)
    assert shared.returncode == 0, shared.stderr
    # one process printed, and wrote the files: rank 0's epoch lines, nobody else's
    assert shared.stdout.count("epoch 1/3") == 1 and "saved the weights" in shared.stdout
    (logged,) = (tmp_path / "tb").iterdir()  # one TensorBoard run, whose hyperparameters say how it ran
    assert hparams_of(read_run(logged))["processes"] == 2
    assert_close(script_losses(tmp_path, "shared"), script_losses(tmp_path, "alone"))
    assert_close(script_losses(tmp_path, "alone"), engine_losses(without_dropout()))  # as the app trains
    first, second = (json.loads((tmp_path / out / "metrics.json").read_text()) for out in ("alone", "shared"))
    assert abs(first["val_loss"] - second["val_loss"]) < 1e-5 and first["confusion"] == second["confusion"]


@pytest.mark.slow
def test_train_py_under_torchrun_splits_a_last_batch_smaller_than_the_processes_and_resumes(tmp_path):
    export(without_dropout(), tmp_path)
    # 1438 training samples in batches of 479: the last batch is one sample, for one process of the two
    alone = run_script(tmp_path, "--batch-size", "479", "--epochs", "2", "--out", "alone")
    assert alone.returncode == 0, alone.stderr
    first = run_script(tmp_path, "--batch-size", "479", "--epochs", "1", "--out", "shared", processes=2)
    assert first.returncode == 0, first.stderr
    resumed = run_script(
        tmp_path,
        "--batch-size",
        "479",
        "--epochs",
        "2",
        "--out",
        "shared",
        "--resume",
        "shared/checkpoint.pt",
        processes=2,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "going on from shared/checkpoint.pt after epoch 1" in resumed.stdout
    assert_close(script_losses(tmp_path, "shared"), script_losses(tmp_path, "alone"), steps=8)  # 4 an epoch


PROBE = """
import gc, sys, torch
gc.disable()  # as when the collector has not run since the run's last allocations
sys.argv = ["train.py", "--device", "cpu", "--epochs", "1", "--out", "out"]
import train
train.main()
alive = sum(type(o) is torch.nn.parallel.DistributedDataParallel for o in gc.get_objects())
print(f"DistributedDataParallel alive: {alive}")
"""


@pytest.mark.slow
def test_train_py_frees_distributed_data_parallel_before_destroying_the_process_group(tmp_path):
    # DistributedDataParallel sits in a reference cycle: left to the collector, it and the gloo process group it
    # holds could be freed while Python exits, which aborted a process (SIGABRT) now and then
    export(without_dropout(), tmp_path)
    (tmp_path / "probe.py").write_text(PROBE)
    launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    result = subprocess.run(
        [sys.executable, *launcher, "probe.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("DistributedDataParallel alive: 0") == 2


@pytest.mark.slow
def test_train_py_refuses_a_batch_smaller_than_the_processes(tmp_path):
    export(without_dropout(), tmp_path)
    result = run_script(tmp_path, "--batch-size", "1", "--out", "out", processes=2)
    assert result.returncode != 0
    assert "--batch-size 1 is smaller than the 2 processes" in result.stderr


def test_only_a_network_with_batch_norm_takes_sync_batchnorm(tmp_path):
    with_norm = export(load_project(SAMPLES / "digits_resnet.nbproj"), tmp_path / "norm")["train.py"]
    assert '"--sync-batchnorm"' in with_norm and "nn.SyncBatchNorm.convert_sync_batchnorm(model)" in with_norm
    assert '"--sync-batchnorm"' not in export(without_dropout(), tmp_path / "plain")["train.py"]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_accumulation_is_captured_as_a_cuda_graph():
    """train_step in parts waits for nothing on the host: the engine still replays it as one CUDA graph."""
    project = with_settings(without_dropout(), device="cuda")
    trainer = Trainer(with_settings(project, accumulation=4))
    losses: list[float] = []
    trainer.run(lambda event: isinstance(event, Progress) and losses.extend(event.losses), max_steps=STEPS)
    assert trainer.graphed is not None and trainer.graphed.captures >= 1 and not trainer.graphed.reason
    whole = engine_losses(project)
    assert max(abs(a - b) for a, b in zip(losses[:STEPS], whole, strict=True)) < 1e-4  # TF32 and kernel order


@pytest.mark.slow
def test_train_py_refuses_sync_batchnorm_without_cuda_in_one_line(tmp_path):
    export(with_settings(load_project(SAMPLES / "digits_resnet.nbproj"), epochs=1), tmp_path)
    result = run_script(tmp_path, "--sync-batchnorm", "on", "--out", "out", processes=2)
    assert result.returncode != 0 and "--sync-batchnorm: torch's SyncBatchNorm needs CUDA" in result.stderr
    alone = run_script(tmp_path, "--sync-batchnorm", "on", "--out", "out")  # one process: nothing to synchronize
    assert alone.returncode == 0, alone.stderr
