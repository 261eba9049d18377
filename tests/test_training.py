"""The training engine without Qt: it learns, it is exactly reproducible across pauses, stops and
checkpoints, it trains what is exported, and every failure ends in a message, never a crash."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import torch

from netbuilder.project import load_project
from netbuilder.project.settings import SETTINGS
from netbuilder.training import callbacks
from netbuilder.training.callbacks import Callback, Checkpoints, EarlyStopping
from netbuilder.training.control import Control
from netbuilder.training.engine import EpochEnd, Outcome, Progress, Trainer, with_settings

SAMPLES = sorted((Path(__file__).parent.parent / "sample_projects").glob("*.nbproj"))
DIGITS_MLP = Path(__file__).parent.parent / "sample_projects" / "digits_mlp.nbproj"


def trainer(path: Path = DIGITS_MLP, **settings) -> Trainer:
    return Trainer(with_settings(load_project(path), device="cpu", **settings))


def weights(t: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in t.model.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_digits_mlp_learns_past_95_percent():
    events = []
    outcome = trainer().run(events.append)
    assert outcome.status == "completed"
    assert outcome.val_metrics["val_accuracy"] > 0.95
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert len(epochs) == 20 and epochs[-1].train_loss < epochs[0].train_loss
    assert sum(len(e.losses) for e in events if isinstance(e, Progress)) == outcome.global_step
    assert outcome.confusion is not None and sum(map(sum, outcome.confusion)) == len(trainer().val_x)


def test_the_engine_trains_exactly_what_train_py_trains(tmp_path):
    """Run the exported script's own train() and the engine for one epoch: bit-identical weights."""
    t = trainer(epochs=1)
    t.run()
    script_model = t.program.script.train(1, 64, 0.2, 0, "cpu", str(tmp_path))
    assert same(weights(t), {k: v for k, v in script_model.state_dict().items()})


@pytest.fixture(scope="module")
def uninterrupted():
    t = trainer(epochs=3)
    t.run()
    return weights(t)


def test_stop_then_go_on_ends_with_the_same_weights(uninterrupted):
    t = trainer(epochs=3)
    first = t.run(max_steps=30)  # stops mid-epoch 2
    assert first.status == "stopped" and t.epoch == 1 and t.position > 0
    assert t.run().status == "completed"
    assert same(weights(t), uninterrupted)


def test_resume_from_a_checkpoint_ends_with_the_same_weights(uninterrupted, tmp_path):
    t = trainer(epochs=3)
    t.run(max_steps=37, checkpoint_dir=tmp_path)
    fresh = trainer(epochs=3)
    fresh.load_checkpoint(tmp_path / "last.pt")
    assert fresh.global_step == 37
    assert fresh.run().status == "completed"
    assert same(weights(fresh), uninterrupted)


def test_resume_from_the_checkpoint_saved_at_an_epochs_end_ends_with_the_same_weights(uninterrupted, tmp_path):
    """The engine draws the next epoch's order before an epoch's validation (while the device works on): the
    checkpoint saved after that epoch keeps the shuffling as it was before the draw, so a run resumed from it
    draws the same order as the uninterrupted run."""

    class SaveAfterFirstEpoch(Callback):
        def on_epoch_end(self, trainer: Trainer, record: dict) -> None:
            if trainer.epoch == 1:
                trainer.save_checkpoint(tmp_path / "after_1.pt")

    t = trainer(epochs=3)
    t.callbacks.append(SaveAfterFirstEpoch())
    assert t.run().status == "completed" and same(weights(t), uninterrupted)
    fresh = trainer(epochs=3)
    fresh.load_checkpoint(tmp_path / "after_1.pt")
    assert fresh.epoch == 1 and fresh.position == 0
    assert fresh.run().status == "completed"
    assert same(weights(fresh), uninterrupted)


def test_pause_and_resume_from_another_thread_ends_with_the_same_weights(uninterrupted):
    t = trainer(epochs=3)
    control = Control()
    paused = threading.Event()

    def on_event(event):
        if isinstance(event, EpochEnd) and event.epoch == 1 and not paused.is_set():
            control.pause()
            paused.set()
            threading.Timer(0.2, control.resume).start()

    assert t.run(on_event, control).status == "completed"
    assert paused.is_set()
    assert same(weights(t), uninterrupted)


def test_stop_takes_effect_within_one_step():
    t = trainer(epochs=5)
    control = Control()
    seen = []

    def on_event(event):
        if isinstance(event, Progress) and not seen:
            seen.append(t.global_step)
            control.stop()

    outcome = t.run(on_event, control)
    assert outcome.status == "stopped"
    assert t.global_step <= seen[0] + 1


def test_checkpoints_load_with_weights_only_for_every_schedule(tmp_path):
    for schedule in ("none", "step", "cosine", "onecycle", "plateau"):
        project = with_settings(load_project(DIGITS_MLP), device="cpu", epochs=2)
        optimizer = next(n for n in project.graph.nodes.values() if n.block == "Adam")
        project.graph.set_param(optimizer.id, "schedule", schedule)
        t = Trainer(project)
        t.run(checkpoint_dir=tmp_path / schedule)
        state = torch.load(tmp_path / schedule / "last.pt", weights_only=True)
        assert state["epoch"] == 2
        assert (tmp_path / schedule / "best.pt").exists()


def test_a_nan_loss_stops_the_run_naming_the_step():
    t = trainer(epochs=2)
    real = t.program.script.compute_loss
    calls = []

    def poisoned(criterion, output, batch_x, batch_y):
        calls.append(1)
        loss = real(criterion, output, batch_x, batch_y)
        return loss * float("nan") if len(calls) == 7 else loss

    t.program.script.compute_loss = poisoned
    outcome = t.run()
    assert outcome.status == "failed"
    assert "at step 7" in outcome.message and "learning rate" in outcome.message


def test_an_exception_in_forward_names_the_node():
    t = trainer(epochs=1)

    def broken(x):
        raise RuntimeError("something inside went wrong")

    t.model.fc2.forward = broken
    outcome = t.run()
    assert outcome.status == "failed"
    assert outcome.message.startswith("fc2 (Linear) failed: RuntimeError: something inside went wrong")


def test_running_out_of_gpu_memory_gives_advice():
    t = trainer(epochs=1)

    def out_of_memory(*args):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    t.program.script.compute_loss = out_of_memory
    outcome = t.run()
    assert outcome.status == "failed"
    assert "ran out of memory" in outcome.message and "lower the batch size (such as 32)" in outcome.message


def test_early_stopping_ends_the_run():
    project = with_settings(load_project(DIGITS_MLP), device="cpu", epochs=50, early_stopping=1)
    optimizer = next(n for n in project.graph.nodes.values() if n.block == "Adam")
    project.graph.set_param(optimizer.id, "lr", 0.5)  # far too high: the validation loss soon stops improving
    outcome = Trainer(project).run()
    assert outcome.status == "early-stopped" and outcome.epochs_done < 50


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_trains_a_few_steps(path):
    t = trainer(path)
    events = []
    outcome = t.run(events.append, max_steps=5)
    assert outcome.status == "stopped" and t.global_step == 5
    losses = [v for e in events if isinstance(e, Progress) for v in e.losses]
    assert len(losses) == 5 and all(torch.isfinite(torch.tensor(losses)))
    loss, metrics, _ = t.evaluate()
    assert loss is not None and metrics


def test_regression_reports_mae_rmse_and_r2():
    autoencoder = DIGITS_MLP.parent / "digits_autoencoder.nbproj"  # values, not classes
    outcome = trainer(autoencoder, epochs=2).run()
    assert {"val_mae", "val_rmse", "val_r2"} <= set(outcome.val_metrics)
    assert isinstance(outcome, Outcome) and outcome.confusion is None


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_training_learns(precision):
    t = Trainer(with_settings(load_project(DIGITS_MLP), device="cuda", precision=precision))
    outcome = t.run()
    assert outcome.status == "completed" and outcome.val_metrics["val_accuracy"] > 0.93


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_a_network_of_composite_blocks_learns_on_the_gpu():
    """The ResNet sample: a block repeated twice and a downsampling one, as generated classes, in a CUDA graph."""
    resnet = DIGITS_MLP.parent / "digits_resnet.nbproj"
    t = Trainer(with_settings(load_project(resnet), device="cuda"))
    outcome = t.run()
    assert outcome.status == "completed" and outcome.val_metrics["val_accuracy"] > 0.9
    assert sum(p.numel() for p in t.model.parameters()) == 24_378


def test_gradient_clipping_and_early_stopping_are_in_train_py_too(tmp_path):
    """The exported script clips and stops early as the app does: the same weights after the same epochs."""
    t = trainer(epochs=30, grad_clip=1.0, early_stopping=1, seed=3, val_fraction=0.05)
    outcome = t.run()
    assert outcome.status == "early-stopped" and outcome.epochs_done == 12
    assert '"--grad-clip", type=float, default=1.0' in t.program.script_source
    script_model = t.program.script.train(30, 64, 0.05, 3, "cpu", str(tmp_path))
    assert same(weights(t), dict(script_model.state_dict()))


def test_the_engine_has_no_step_of_its_own_it_runs_train_pys():
    """Forward, loss, backward and the optimizer's step are train.py's train_step; validation its evaluate."""
    t = trainer(epochs=1)
    script = t.program.script
    calls = {"train_step": 0, "evaluate": 0}
    for name in calls:
        real = getattr(script, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        setattr(script, name, counted)
    t.run()
    assert calls == {"train_step": t.steps_per_epoch, "evaluate": 1}


def test_weight_decay_spares_biases_and_normalisation_in_the_app_and_in_train_py(tmp_path):
    project = with_settings(load_project(DIGITS_MLP), device="cpu", epochs=1)
    adam = next(n for n in project.graph.nodes.values() if n.block == "Adam")
    project.graph.set_param(adam.id, "weight_decay", 0.05)
    t = Trainer(project)
    decaying, spared = t.optimizer.param_groups
    assert decaying["weight_decay"] == 0.05 and all(p.dim() >= 2 for p in decaying["params"])
    assert spared["weight_decay"] == 0.0 and spared["params"] and all(p.dim() < 2 for p in spared["params"])
    assert "p.dim() >= 2" in t.program.script_source
    t.run()
    script_model = t.program.script.train(1, 64, 0.2, 0, "cpu", str(tmp_path))
    assert same(weights(t), dict(script_model.state_dict()))


class _Run:
    """What the callbacks see of a trainer."""

    def __init__(self, epochs: int) -> None:
        self.epoch, self.epochs, self.stop_reason = 0, epochs, ""

    def request_stop(self, reason: str) -> None:
        self.stop_reason = reason

    def state_dict(self) -> dict:
        return {"epoch": self.epoch}

    def end_epoch(self, callbacks, val_loss) -> None:
        self.epoch += 1
        for callback in callbacks:
            callback.on_epoch_end(self, {"val_loss": val_loss})


def test_early_stopping_keeps_its_own_count_and_asks_the_trainer_to_stop():
    run, stopping = _Run(epochs=10), EarlyStopping(patience=2)
    for val_loss in (1.0, 0.5, 0.7, 0.4, 0.6):
        run.end_epoch([stopping], val_loss)
    assert run.stop_reason == "" and stopping.epochs_without_improvement == 1
    again = EarlyStopping(patience=2)
    again.load_state_dict(stopping.state_dict())  # as a checkpoint carries it
    run.end_epoch([again], 0.45)
    assert run.stop_reason == "validation loss did not improve for 2 epochs"
    last = _Run(epochs=2)  # no stopping "early" at the last epoch, nor without a patience
    for stopping in ([EarlyStopping(patience=1)], [EarlyStopping(patience=0)]):
        last.epoch = 0
        for val_loss in (1.0, 2.0):
            last.end_epoch(stopping, val_loss)
    assert last.stop_reason == ""


def saved_epochs(folder: Path) -> tuple[int | None, int | None]:
    """The epochs last.pt and best.pt hold (None: no such file)."""
    return tuple(
        torch.load(folder / name, weights_only=True)["epoch"] if (folder / name).is_file() else None
        for name in ("last.pt", "best.pt")
    )


def test_checkpoints_quick_to_write_keep_every_epoch_and_the_best_one(tmp_path):
    run, checkpoints = _Run(epochs=10), Checkpoints(tmp_path, clock=lambda: 0.0)  # writes that take no time
    seen = []
    for val_loss in (1.0, 0.5, 0.7, None):
        run.end_epoch([checkpoints], val_loss)
        seen.append((*saved_epochs(tmp_path), os.path.samefile(tmp_path / "last.pt", tmp_path / "best.pt")))
    # the best epoch's best.pt is a second name of its last.pt, which the next epoch's last.pt leaves alone
    assert seen == [(1, 1, True), (2, 2, True), (3, 2, False), (4, 2, False)]
    run.epoch = 5  # stopped in the middle of an epoch: where it stands
    checkpoints.on_run_end(run, "stopped")
    assert saved_epochs(tmp_path) == (5, 2)
    run.epoch = 6
    checkpoints.on_run_end(run, "failed")  # a failed run keeps the checkpoint from before its failure
    assert saved_epochs(tmp_path) == (5, 2)
    assert Checkpoints().state_dict() != checkpoints.state_dict() == {"best_saved_val_loss": 0.5}


@pytest.fixture
def slow_writes(monkeypatch):
    """A clock for Checkpoints, in a list to move on, on which each file takes 0.5 s to write."""
    now = [0.0]
    write = callbacks.save_file

    def slow(state, path):
        now[0] += 0.5
        return write(state, path)

    monkeypatch.setattr(callbacks, "save_file", slow)
    return now


def test_checkpoints_slow_to_write_take_a_small_share_of_the_run_and_best_pt_stays_the_best(tmp_path, slow_writes):
    """Each file takes 0.5 s to write and an epoch 1 s: after epoch 1's file (best.pt names the same one),
    writing waits 10 s (0.5 s is 5 % of it); the better epochs between are kept, and the last epoch writes
    both."""
    now = slow_writes
    run, checkpoints = _Run(epochs=8), Checkpoints(tmp_path, clock=lambda: now[0])
    seen = []
    for val_loss in (1.0, 0.5, 0.7, 0.4, 0.6, 0.9, 0.8):
        now[0] += 1.0
        run.end_epoch([checkpoints], val_loss)
        seen.append(saved_epochs(tmp_path))
    assert seen == [(1, 1)] * 7 and now[0] == 7.5
    run.end_epoch([checkpoints], 0.45)  # the last epoch: written, and best.pt is epoch 4's, kept since
    assert saved_epochs(tmp_path) == (8, 4)
    assert checkpoints.state_dict() == {"best_saved_val_loss": 0.4}


def test_a_run_that_fails_or_stops_early_writes_what_it_kept(tmp_path, slow_writes):
    now = slow_writes
    for status in ("failed", "early-stopped"):
        folder = tmp_path / status
        run, checkpoints = _Run(epochs=10), Checkpoints(folder, clock=lambda: now[0])
        run.end_epoch([checkpoints], 1.0)  # written, in 0.5 s: the next write is due 10 s later
        run.end_epoch([checkpoints], 0.5)  # a better epoch, kept, not written
        assert saved_epochs(folder) == (1, 1)
        if status == "failed":
            checkpoints.on_run_end(run, "failed")
            assert saved_epochs(folder) == (1, 2)
        else:
            run.stop_reason = "no better for 1 epoch"
            run.end_epoch([checkpoints], 0.7)
            assert saved_epochs(folder) == (3, 2)


def test_a_run_that_stops_early_writes_its_last_epoch_however_slow_writing_is(tmp_path, slow_writes):
    """The engine asks early stopping before the checkpoints: the epoch that stops the run is written even
    where writing waits (epochs here take no time, each file 0.5 s: after the first epoch, no write is due)."""
    run = trainer(epochs=30, early_stopping=1, seed=3, val_fraction=0.05)
    run.checkpoints._clock = lambda: slow_writes[0]
    outcome = run.run(checkpoint_dir=tmp_path)
    assert outcome.status == "early-stopped" and 1 < outcome.epochs_done < 30
    assert saved_epochs(tmp_path)[0] == outcome.epochs_done


def test_a_run_resumed_from_its_checkpoint_stops_early_where_an_uninterrupted_one_does(tmp_path):
    settings = {"epochs": 30, "early_stopping": 1, "seed": 3, "val_fraction": 0.05}
    whole = trainer(**settings).run()
    assert whole.status == "early-stopped"
    first = trainer(**settings)
    first.run(max_steps=(whole.epochs_done - 1) * first.steps_per_epoch + 3, checkpoint_dir=tmp_path)
    second = trainer(**settings)
    second.load_checkpoint(tmp_path / "last.pt")
    assert second.early_stopping.state_dict() == first.early_stopping.state_dict()
    outcome = second.run()
    assert (outcome.status, outcome.epochs_done) == ("early-stopped", whole.epochs_done)


def test_train_py_takes_each_training_setting_as_an_option_with_the_projects_value(monkeypatch, tmp_path):
    """train.py's command line is derived from the settings declared once (project/settings.py)."""
    settings = {"epochs": 7, "batch_size": 32, "val_fraction": 0.25, "seed": 5, "device": "cpu"}
    settings |= {"precision": "bf16", "grad_clip": 2.5, "early_stopping": 4, "accumulation": 3}
    program = Trainer(with_settings(load_project(DIGITS_MLP), **settings)).program
    # all but --sync-batchnorm, which only a network with batch norm takes, and --processes (torchrun's own)
    left_out = {"sync_batchnorm", "processes"}
    assert all(f'"{spec.flag}"' in program.script_source for spec in SETTINGS if spec.name not in left_out)
    assert '"--sync-batchnorm"' not in program.script_source and '"--processes"' not in program.script_source
    calls = []
    monkeypatch.setattr(program.script, "train", lambda *args, **kwargs: calls.append((args, kwargs)))
    for options in ([], ["--grad-clip", "0", "--early-stopping", "1", "--resume", "c.pt"]):
        monkeypatch.setattr("sys.argv", ["train.py", "--out", str(tmp_path), *options])
        program.script.main()
    (args, kwargs), (_, changed) = calls
    positional = dict(zip(["epochs", "batch_size", "val_fraction", "seed", "device", "out"], args, strict=True))
    assert positional | kwargs == settings | {"out": str(tmp_path), "resume": "", "tensorboard": ""}
    assert changed == kwargs | {"grad_clip": 0.0, "early_stopping": 1, "resume": "c.pt"}
    plain = Trainer(with_settings(load_project(DIGITS_MLP), device="cpu")).program.script_source
    assert '"--precision"' not in plain  # an fp32 project's loop has no mixed precision to choose


def test_train_py_stops_on_a_loss_that_is_no_number_as_the_app_does(tmp_path):
    """A NaN loss ends both runs with one message that says where and what to do; train.py writes no model.pt."""

    def broken(script):
        step = script.train_step

        def no_number(*args, **kwargs):
            loss, output = step(*args, **kwargs)
            return loss * float("nan"), output

        script.train_step = no_number
        return script

    app = trainer(epochs=2)
    broken(app.program.script)
    outcome = app.run()
    assert outcome.status == "failed"
    script = broken(trainer(epochs=2).program.script)
    with pytest.raises(SystemExit) as stopped:
        script.train(2, 64, 0.2, 0, "cpu", str(tmp_path))
    assert (
        str(stopped.value)
        == outcome.message
        == (
            "the loss became nan at step 1 (epoch 1): "
            "lower the learning rate, or add normalization or gradient clipping"
        )
    )
    assert not (tmp_path / "model.pt").exists()
