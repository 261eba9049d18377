"""The app's run of several processes (the Processes setting): the steps of one process with the whole batch,
rank 0's events live at the parent, Stop reaching every worker, and a worker that dies ending the run. On the
CPU, through gloo, with 2 processes, on digits_mlp without dropout (tests/test_distributed_script.py)."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from netbuilder.cli import main
from netbuilder.project.gradient_samples import GradientReport
from netbuilder.project.run_events import EpochEnd, Outcome, Progress
from netbuilder.project.run_history import RunHistory
from netbuilder.project.sweep_plan import Axis, SweepError, SweepPlan
from netbuilder.training.control import Control
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.sweep import run_sweep
from netbuilder.training.worker_processes import ProcessTrainer, new_trainer
from tests.networks import small_cnn_project
from tests.test_augment import SIZE
from tests.test_distributed_script import SAMPLES, STEPS, assert_close, engine_losses, without_dropout
from tests.test_package import export
from tests.test_streaming import CLASSES, write_folder


def test_one_process_is_todays_trainer():
    assert type(new_trainer(without_dropout())) is Trainer


@pytest.mark.slow
def test_two_processes_take_the_steps_of_one_and_the_parent_ends_where_they_did(tmp_path):
    project = without_dropout()
    heard: list = []
    trainer = new_trainer(with_settings(project, processes=2))
    assert isinstance(trainer, ProcessTrainer) and trainer.run_start().device == "cpu, 2 processes (gloo)"
    # the workers read the data: the parent keeps its sizes, not a copy
    assert not any(hasattr(trainer, part) for part in ("train_x", "train_y", "val_x", "val_y"))
    assert (trainer.train_size, trainer.val_size) == (1438, 359)
    outcome = trainer.run(heard.append, max_steps=STEPS)
    losses = [loss for event in heard if isinstance(event, Progress) for loss in event.losses]
    assert_close(losses, engine_losses(project))
    assert outcome.status == "stopped" and heard[-1] == outcome and outcome.global_step == STEPS
    # the parent holds the run's state: rank 0's weights, its epochs, and the same validation as one process
    alone = Trainer(project)
    alone.run(max_steps=STEPS)
    assert trainer.global_step == STEPS and len(trainer.history) == 2
    assert abs(trainer.history[-1]["val_loss"] - alone.history[-1]["val_loss"]) < 1e-5
    assert trainer.confusion == alone.confusion
    for mine, theirs in zip(trainer.model.state_dict().values(), alone.model.state_dict().values(), strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=0)
    # and it goes on from there to the end, as the exported train.py under torchrun trains
    assert trainer.run(heard.append).status == "completed"
    export(project, tmp_path)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    script = subprocess.run(
        [*launcher, "train.py", "--device", "cpu", "--out", "out"], cwd=tmp_path, capture_output=True, timeout=300
    )
    assert script.returncode == 0, script.stderr
    app = [loss for event in heard if isinstance(event, Progress) for loss in event.losses]
    assert_close(json.loads((tmp_path / "out" / "history.json").read_text())["losses"], app, steps=69)
    assert [event.epoch for event in heard if isinstance(event, EpochEnd)] == [1, 2, 3]
    # the Gradients tab's samples come through too, as one process's
    samples = [sample for event in heard if isinstance(event, GradientReport) for sample in event.samples]
    layers = next(event.layers for event in heard if isinstance(event, GradientReport))
    assert samples and samples[0].step == 1 and len(samples[0].gradient_norms) == len(layers)


@pytest.mark.slow
def test_a_last_batch_smaller_than_the_processes_takes_the_step_of_one_process():
    """1,438 training samples in batches of 479: each epoch's last batch is one sample, which one process takes
    while the other takes the step with nothing to add."""
    project = with_settings(without_dropout(), batch_size=479, epochs=2)
    heard: list = []
    outcome = new_trainer(with_settings(project, processes=2)).run(heard.append)
    assert outcome.ok
    losses = [loss for event in heard if isinstance(event, Progress) for loss in event.losses]
    assert_close(losses, engine_losses(project, 8), steps=8)  # 4 steps an epoch
    ends = [event for event in heard if isinstance(event, EpochEnd)]
    alone = Trainer(project)
    alone.run()
    assert abs(ends[-1].train_loss - alone.history[-1]["train_loss"]) < 1e-5


@pytest.mark.slow
def test_stop_reaches_every_worker():
    control = Control()
    steps: list[int] = []

    def on_event(event):
        if isinstance(event, Progress):
            steps.append(event.global_step)
            control.stop()

    trainer = new_trainer(with_settings(without_dropout(), processes=2, epochs=50))
    outcome = trainer.run(on_event, control)
    # both stopped at the same step (else one would wait in its all_reduce and the run would not end)
    assert outcome.status == "stopped" and outcome.global_step == trainer.global_step < 50 * 23
    assert not multiprocessing.active_children()


@pytest.mark.slow
def test_pause_holds_every_worker_until_resumed():
    control = Control()
    first = threading.Event()
    steps: list[int] = []

    def on_event(event):
        if isinstance(event, Progress):
            steps.append(event.global_step)
            first.set()

    trainer = new_trainer(with_settings(without_dropout(), processes=2, epochs=50))
    ended: list[Outcome] = []
    running = threading.Thread(target=lambda: ended.append(trainer.run(on_event, control)))
    running.start()
    assert first.wait(120)
    control.pause()
    time.sleep(1.0)  # what was on its way has arrived
    held = len(steps)
    time.sleep(1.0)
    assert len(steps) == held and running.is_alive()  # no step while paused, and the run still there
    control.resume()
    control.stop()
    running.join(120)
    assert ended[0].status == "stopped" and ended[0].global_step < 50 * 23
    assert not multiprocessing.active_children()


@pytest.mark.slow
def test_a_worker_that_dies_ends_the_run_with_a_message():
    killed: list[float] = []

    def on_event(event):
        if isinstance(event, Progress) and not killed:
            workers = [child for child in multiprocessing.active_children() if child.name == "rank 1"]
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(time.monotonic())

    outcome = new_trainer(with_settings(without_dropout(), processes=2, epochs=50)).run(on_event)
    assert isinstance(outcome, Outcome) and outcome.status == "failed"
    assert outcome.message.startswith("process 1 of the run ended")
    assert not multiprocessing.active_children()


def test_a_run_that_cannot_be_shared_out_is_refused_in_one_line():
    with pytest.raises(ValueError, match="batches of 1 are smaller than the 2 processes"):
        new_trainer(with_settings(without_dropout(), processes=2, batch_size=1))
    with pytest.raises(ValueError, match="sync batch norm needs CUDA"):
        new_trainer(with_settings(without_dropout(), processes=2, sync_batchnorm="on"))


@pytest.mark.cuda
@pytest.mark.skipif(torch.cuda.device_count() != 1, reason="needs exactly one NVIDIA GPU")
def test_more_processes_than_gpus_are_refused_in_one_line():
    with pytest.raises(ValueError, match="2 processes on CUDA take one GPU each, and this machine has 1"):
        new_trainer(with_settings(without_dropout(), device="cuda", processes=2))


@pytest.mark.slow
@pytest.mark.parametrize("augment", ["crop+flip", "none"])
def test_a_streamed_image_folder_is_read_in_shares_with_the_steps_of_one_process(tmp_path, augment):
    """Each process reads only its share of every batch (per-image crops and flips seeded by the image, so the
    same as one process draws them); 48 images, 38 of them to train in batches of 5: a last batch of 3."""
    dataset = {"dataset": "image_folder", "path": str(write_folder(tmp_path)), "image_size": SIZE, "augment": augment}
    project = small_cnn_project("folder", dataset, channels=4, classes=len(CLASSES), dropout=False)
    project = with_settings(project, device="cpu", epochs=2, batch_size=5)
    one: list[float] = []
    Trainer(project, workers=0).run(lambda event: isinstance(event, Progress) and one.extend(event.losses))
    two: list[float] = []
    outcome = new_trainer(with_settings(project, processes=2)).run(
        lambda event: isinstance(event, Progress) and two.extend(event.losses)
    )
    assert outcome.status == "completed"
    assert_close(two, one, steps=len(one))


@pytest.mark.slow
def test_a_batch_augmented_and_mixed_on_the_device_is_drawn_whole_then_shared_out(tmp_path):
    """Crops and mixup draw random numbers for the whole batch: each process draws them as one process does, then
    takes its share, so the steps stay those of one process; and train.py under torchrun does the same."""
    dataset = {"dataset": "stripes", "samples": 160, "image_size": SIZE, "classes": 4, "augment": "crop", "mixup": 0.4}
    project = small_cnn_project("augmented stripes", dataset, channels=6, classes=4, dropout=False)
    project = with_settings(project, device="cpu", epochs=2, batch_size=12)
    one: list[float] = []
    Trainer(project).run(lambda event: isinstance(event, Progress) and one.extend(event.losses))
    two: list[float] = []
    new_trainer(with_settings(project, processes=2)).run(
        lambda event: isinstance(event, Progress) and two.extend(event.losses)
    )
    assert_close(two, one, steps=len(one))
    export(project, tmp_path)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    script = subprocess.run(
        [*launcher, "train.py", "--device", "cpu", "--out", "out"], cwd=tmp_path, capture_output=True, timeout=300
    )
    assert script.returncode == 0, script.stderr
    assert_close(json.loads((tmp_path / "out" / "history.json").read_text())["losses"], one, steps=len(one))


@pytest.mark.slow
def test_netbuilder_train_with_processes_keeps_the_run_as_one_process_does(tmp_path, capsys):
    """The console's run of 2 processes: rank 0's checkpoints, the parent's weights, the run in the history, and
    going on from its last.pt with 2 processes again."""
    digits = Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "digits_mlp.nbproj"))
    out = tmp_path / "runs"
    arguments = ["train", str(digits), "--device", "cpu", "--processes", "2", "--out", str(out)]
    assert main([*arguments, "--epochs", "1"]) == 0
    assert "cpu, 2 processes (gloo)" in capsys.readouterr().err
    (run,) = [path for path in out.iterdir() if path.name != "latest"]
    assert "fc1.weight" in torch.load(run / "model.pt", weights_only=True)  # no DistributedDataParallel prefix
    assert (run / "checkpoints" / "last.pt").exists() and (run / "checkpoints" / "best.pt").exists()
    assert main([*arguments, "--epochs", "2", "--resume", str(run / "checkpoints" / "last.pt")]) == 0
    (record,) = [r for r in RunHistory(digits).records if r.epochs_done == 2]
    assert record.status == "completed" and record.settings["processes"] == 2 and len(record.history) == 2


def test_a_sweep_of_a_project_set_to_several_processes_is_refused_in_one_line(tmp_path):
    project = with_settings(without_dropout(), processes=2)
    plan = SweepPlan((Axis.parse("batch_size=32,64"),))
    with pytest.raises(SweepError, match="a sweep trains each run in one process, not 2"):
        run_sweep(project, plan, history=RunHistory(tmp_path / "p.nbproj"))
