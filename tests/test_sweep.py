"""Sweeps through the engine: the runs a plan asks for, kept in the run history with the best marked, the same
losses when run again, successive halving going on from its checkpoints, and a stop."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from netbuilder.project import load_project
from netbuilder.project.run_comparison import best_run
from netbuilder.project.run_events import Progress
from netbuilder.project.run_history import RunHistory
from netbuilder.project.sweep_plan import Axis, SweepError, SweepPlan
from netbuilder.training.control import Control
from netbuilder.training.sweep import SweepEnd, SweepStart, TrialEnd, TrialEvent, TrialStart, run_sweep

SAMPLES = Path(__file__).resolve().parents[1] / "sample_projects"
RATES = "optimizer.lr=0.01,0.003,0.001"
WIDTHS = "fc1.out_features=16,32"


def digits(folder: Path):
    """A copy of the digits MLP in `folder`, in batches of 256 (6 steps an epoch: the tests stay quick)."""
    folder.mkdir(parents=True, exist_ok=True)
    project = load_project(shutil.copy(SAMPLES / "digits_mlp.nbproj", folder / "digits_mlp.nbproj"))
    return replace(project, training=replace(project.training, batch_size=256))


def plan(*axes: str, **options) -> SweepPlan:
    return SweepPlan(tuple(Axis.parse(axis) for axis in axes), **options)


def sweep(folder: Path, the_plan: SweepPlan, **options):
    project = digits(folder)
    return project, run_sweep(project, the_plan, history=RunHistory(project.path), **options)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """The issue's sweep: 3 learning rates by 2 widths, one epoch each, with every event heard."""
    events = []
    project, result = sweep(tmp_path_factory.mktemp("grid"), plan(RATES, WIDTHS, epochs=1), listener=events.append)
    return project, result, events


def test_a_sweep_of_3_rates_by_2_widths_keeps_6_runs_as_asked(grid):
    project, result, _ = grid
    kept = RunHistory(project.path).records  # read back from the runs folder
    assert [r.run_id for r in kept] == [r.run_id for r in result.records]
    asked = [(lr, width) for lr in (0.01, 0.003, 0.001) for width in (16, 32)]
    for record, (lr, width) in zip(kept, asked, strict=True):
        nodes = {node["label"]: node["params"] for node in record.project["graph"]["nodes"]}
        assert (nodes["optimizer"]["lr"], nodes["fc1"]["out_features"]) == (lr, width)
        assert record.settings["epochs"] == 1 and record.epochs_done == 1 and record.status == "completed"
        assert record.sweep["values"] == {"optimizer.lr": lr, "fc1.out_features": width}
        assert record.sweep["id"] == result.sweep_id and record.sweep["of"] == 6
        assert (project.path.parent / "digits_mlp.runs" / record.weights).is_file()
    assert project.graph.by_label("fc1").params["out_features"] == 64  # the project itself is as it was


def test_the_best_run_is_marked_in_the_result_and_in_its_record(grid):
    project, result, _ = grid
    kept = RunHistory(project.path).records
    assert result.metric == "val_accuracy"
    marked = [r for r in kept if r.sweep.get("best")]
    assert [r.run_id for r in marked] == [result.best.run_id] == [best_run(kept, "val_accuracy").run_id]
    assert result.best.final["val_accuracy"] == max(r.final["val_accuracy"] for r in kept)


def test_the_listener_hears_the_sweep_and_every_run(grid):
    _, result, events = grid
    kinds = [type(e) for e in events if isinstance(e, SweepStart | TrialStart | TrialEnd | SweepEnd)]
    assert kinds == [SweepStart] + [TrialStart, TrialEnd] * 6 + [SweepEnd]
    assert {e.index for e in events if isinstance(e, TrialEvent)} == set(range(6))
    assert events[0].trials == 6 and events[0].epochs == 6
    assert any(isinstance(e, TrialEvent) and isinstance(e.event, Progress) for e in events)
    assert events[-1].result == result


def test_the_same_sweep_again_gives_the_same_losses(grid, tmp_path):
    _, first, _ = grid
    _, again = sweep(tmp_path, plan(RATES, WIDTHS, epochs=1))
    assert [r.history for r in again.records] == [r.history for r in first.records]
    assert [r.sweep["values"] for r in again.records] == [r.sweep["values"] for r in first.records]


def test_successive_halving_keeps_the_better_half_and_goes_on_from_their_checkpoints(tmp_path):
    rates = "optimizer.lr=0.01,0.0003,0.003,0.0001"
    project, result = sweep(tmp_path / "halving", plan(rates, epochs=2, halving=True))
    kept = RunHistory(project.path).records
    assert len(kept) == 4
    halted = [r for r in kept if "halted_at" in r.sweep]
    going = [r for r in kept if "halted_at" not in r.sweep]
    assert [r.sweep["values"]["optimizer.lr"] for r in going] == [0.01, 0.003]  # the faster learners
    assert all(r.epochs_done == 1 and r.sweep["halted_at"] == 1 and r.status == "early-stopped" for r in halted)
    assert all(r.epochs_done == 2 and r.status == "completed" and len(r.history) == 2 for r in going)
    worst_kept = min(r.history[0]["val_accuracy"] for r in going)
    assert all(r.history[0]["val_accuracy"] <= worst_kept for r in halted)
    assert result.best.run_id in {r.run_id for r in going}
    assert [r.run_id for r in kept if r.sweep.get("best")] == [result.best.run_id]  # its last rung's record too
    # a run that went on from its checkpoint equals one trained without a break
    _, whole = sweep(tmp_path / "whole", plan("optimizer.lr=0.01", epochs=2))
    assert going[0].history == whole.records[0].history
    runs = project.path.parent / "digits_mlp.runs"
    assert all((runs / r.checkpoint).is_file() for r in kept)  # moved into each run's folder
    assert not [p for p in runs.iterdir() if p.name.startswith(".sweep")]  # the work folder is gone


def test_a_stop_ends_the_current_run_and_starts_no_other(tmp_path):
    control = Control()
    started = []

    def listener(event):
        if isinstance(event, TrialStart):
            started.append(event.index)
            if event.index == 1:  # before its first step: the stop is seen there, however quick the steps
                control.stop()

    project, result = sweep(tmp_path, plan(RATES, epochs=1), listener=listener, control=control)
    assert result.stopped and started == [0, 1]
    assert [r.status for r in result.records] == ["completed", "stopped"]
    assert [r.run_id for r in RunHistory(project.path).records] == [r.run_id for r in result.records]
    assert result.records[1].checkpoint is not None  # kept to go on from


def test_a_value_the_network_cannot_train_with_is_refused_before_any_run(tmp_path):
    with pytest.raises(SweepError, match=r"run 2 \(fc2.out_features=5\) cannot train: CrossEntropy receives 5"):
        sweep(tmp_path, plan("fc2.out_features=10,5", epochs=1))
    assert not (tmp_path / "digits_mlp.runs").exists()


def test_a_stop_during_halving_leaves_every_run_begun_stopped_with_its_checkpoint(tmp_path):
    control = Control()
    started = []

    def listener(event):
        if isinstance(event, TrialStart):
            started.append(event.index)
            if event.index == 2:
                control.stop()

    rates = "optimizer.lr=0.01,0.0003,0.003,0.0001"
    project, result = sweep(tmp_path, plan(rates, epochs=2, halving=True), listener=listener, control=control)
    assert result.stopped and started == [0, 1, 2]
    assert [r.status for r in result.records] == ["stopped"] * 3
    assert "stopped before this run's next rung, after epoch 1" in result.records[0].message
    runs = project.path.parent / "digits_mlp.runs"
    assert all((runs / r.checkpoint).is_file() for r in RunHistory(project.path).records)
