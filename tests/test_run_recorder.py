"""The run recorder: a run's events become its RunRecord, with no torch, no Qt and no plots."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from netbuilder.project import TrainingSettings
from netbuilder.project.run_events import EpochEnd, Outcome, Progress, RunStart
from netbuilder.project.run_history import MAX_STEP_POINTS, RunHistory, RunRecord
from netbuilder.project.run_recorder import LossSmoother, RunRecorder, epoch_entry


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _progress(epoch: int, global_step: int, losses: list[float], steps_per_epoch: int = 4) -> Progress:
    step = global_step - (epoch - 1) * steps_per_epoch
    return Progress(epoch, 2, step, steps_per_epoch, global_step, losses, 0.01, 100.0, 1.0)


def _epoch(epoch: int, loss: float) -> EpochEnd:
    return EpochEnd(epoch, 2, loss, 0.5, loss + 0.1, {"accuracy": 0.75}, 0.01, 0.2)


def _start(history: list[dict] | None = None) -> RunStart:
    return RunStart("cpu", 2, 4, 0, True, ("a", "b"), history or [])


def test_a_run_becomes_its_record() -> None:
    clock = Clock(1000.0)
    settings = TrainingSettings(epochs=2, batch_size=8)
    recorder = RunRecorder("2025-01-01_10-00-00", settings, clock=clock)
    recorder.add(_start())
    recorder.add(_progress(1, 2, [2.0, 1.0]))
    recorder.add(_progress(1, 4, [1.0, 1.0]))
    recorder.add(_epoch(1, 1.2))
    recorder.add(_progress(2, 8, [0.5, 0.5, 0.5, 0.5]))
    recorder.add(_epoch(2, 0.5))
    recorder.add(Outcome("completed", "", 2, 8, {"val_loss": 0.6, "val_accuracy": 0.75}, [[3, 1], [1, 3]], ("a", "b")))
    clock.now = 1012.5
    record = recorder.record(weights="2025-01-01_10-00-00/model.pt", checkpoint="2025-01-01_10-00-00/last.pt")

    assert (record.run_id, record.status, record.device) == ("2025-01-01_10-00-00", "completed", "cpu")
    assert (record.started, record.seconds) == (1000.0, 12.5)
    assert record.settings == settings.to_dict()
    assert (record.epochs_done, record.global_step) == (2, 8)
    assert [e["epoch"] for e in record.history] == [1, 2]
    assert record.history[0] == {
        "epoch": 1,
        "train_loss": 1.2,
        "train_accuracy": 0.5,
        "val_loss": pytest.approx(1.3),
        "val_accuracy": 0.75,
        "learning_rate": 0.01,
    }
    assert [s for s, _ in record.steps] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert record.steps[0][1] == 2.0  # debiased: the first smoothed loss is the first loss
    assert record.steps[1][1] == pytest.approx((0.2 * 0.8 * 2.0 + 0.2 * 1.0) / (1 - 0.8**2))
    assert record.final == {"val_loss": 0.6, "val_accuracy": 0.75}
    assert record.confusion == [[3, 1], [1, 3]] and record.class_names == ["a", "b"]
    assert record.weights == "2025-01-01_10-00-00/model.pt"
    assert RunRecord.from_dict(record.to_dict()) == record


def test_a_run_going_on_from_a_checkpoint_keeps_the_epochs_done_before() -> None:
    before = [epoch_entry(_epoch(1, 1.2))]
    recorder = RunRecorder("r", TrainingSettings(), clock=Clock(0.0))
    recorder.add(_start(before))
    recorder.add(_progress(2, 8, [0.5, 0.5, 0.5, 0.5]))  # steps 5..8: the curve starts where the run goes on
    recorder.add(_epoch(2, 0.5))
    recorder.add(Outcome("completed", epochs_done=2, global_step=8))
    record = recorder.record()
    assert [e["epoch"] for e in record.history] == [1, 2]
    assert [s for s, _ in record.steps] == [5, 6, 7, 8]
    assert record.weights is None and record.checkpoint is None


def test_a_loss_that_is_not_finite_leaves_the_smoothed_curve_where_it_was() -> None:
    smoother = LossSmoother()
    assert math.isnan(smoother.add(math.nan))
    assert smoother.add(3.0) == 3.0
    assert smoother.add(math.inf) == 3.0
    assert smoother.add(1.0) == pytest.approx((0.2 * 0.8 * 3.0 + 0.2 * 1.0) / (1 - 0.8**2))


def test_a_long_run_keeps_a_coarse_curve_ending_at_its_last_step() -> None:
    recorder = RunRecorder("r", TrainingSettings(), clock=Clock(0.0))
    for report in range(1, 1001):
        recorder.add(_progress(1, report * 7, [1.0] * 7, steps_per_epoch=7000))
    recorder.add(Outcome("stopped", "stopped", 0, 7000))
    steps = recorder.record().steps
    assert len(steps) <= MAX_STEP_POINTS + 1
    assert steps[0][0] == 1 and steps[-1][0] == 7000
    assert all(loss == pytest.approx(1.0) for _, loss in steps)


def test_no_record_before_the_run_ended() -> None:
    recorder = RunRecorder("r", TrainingSettings())
    recorder.add(_progress(1, 1, [1.0]))
    with pytest.raises(ValueError, match="not ended"):
        recorder.record()


def test_a_run_file_is_named_relative_to_the_runs_folder(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "net.nbproj")
    assert history.relative(tmp_path / "net.runs" / "r1" / "model.pt") == "r1/model.pt"
    assert history.relative(tmp_path / "elsewhere" / "model.pt") is None
    assert history.relative(None) is None
    assert RunHistory(None).relative(tmp_path / "net.runs" / "r1" / "model.pt") is None


def test_the_recorder_needs_neither_torch_nor_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys, netbuilder.project.run_recorder; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'pyqtgraph', 'numpy')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runs_started_in_the_same_second_are_read_back_in_the_order_they_started(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "net.nbproj")
    ids = []
    for _ in range(11):
        ids.append(history.new_id(now=0.0))
        history.add(RunRecord(run_id=ids[-1], status="completed"))
    assert ids[1].endswith("-2") and ids[10].endswith("-11")
    assert [r.run_id for r in RunHistory(tmp_path / "net.nbproj").records] == ids
