"""Several sweep runs at once: refused on the CPU (and `auto` there is one at a time); the worker processes
themselves, which are device-blind, run on the CPU here (plain data each way, the same losses as the run in this
process, a stop, a worker killed mid-run failing that run only); and on a CUDA GPU the sweep with runs at once
gives the runs of the sweep in turn."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from netbuilder.cli import main
from netbuilder.project import load_project, project_to_dict
from netbuilder.project.run_events import EpochEnd, Outcome, Progress, RunStart
from netbuilder.project.run_history import RunHistory
from netbuilder.project.sweep_plan import Axis, SweepError, SweepPlan, with_values
from netbuilder.training.control import Control
from netbuilder.training.sweep import SweepStart, TrialEvent, TrialStart, run_sweep
from netbuilder.training.sweep_trial import TrialJob, run_trial
from netbuilder.training.sweep_workers import CONTEXT_BYTES, TrialDone, TrialHeard, TrialPool, auto_workers

SAMPLES = Path(__file__).resolve().parents[1] / "sample_projects"
RATES = "optimizer.lr=0.01,0.003,0.001"
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")


def digits(folder: Path, device: str = "cpu", name: str = "digits_mlp"):
    """A copy of a digits sample in `folder`, in batches of 256 (6 steps an epoch: the tests stay quick)."""
    folder.mkdir(parents=True, exist_ok=True)
    project = load_project(shutil.copy(SAMPLES / f"{name}.nbproj", folder / f"{name}.nbproj"))
    return replace(project, training=replace(project.training, batch_size=256, device=device))


def plan(*axes: str, **options) -> SweepPlan:
    return SweepPlan(tuple(Axis.parse(axis) for axis in axes), **options)


def job(project, folder: Path, epochs: int = 1) -> TrialJob:
    return TrialJob(
        project=project_to_dict(project),
        path=str(project.path),
        epochs=epochs,
        checkpoints=str(folder),
        weights=str(folder / "model.pt"),
    )


def test_several_runs_at_once_are_refused_on_the_cpu_before_anything_trains(tmp_path):
    project = digits(tmp_path)
    with pytest.raises(SweepError, match=r"several runs at once need a CUDA GPU \(on the CPU they would only"):
        run_sweep(project, plan(RATES, epochs=1), history=RunHistory(project.path), parallel=2)
    with pytest.raises(SweepError, match="runs at once must be a number from 1, or auto, not 0"):
        run_sweep(project, plan(RATES, epochs=1), history=RunHistory(project.path), parallel=0)
    assert not (tmp_path / "digits_mlp.runs").exists()


def test_auto_on_the_cpu_runs_one_at_a_time(tmp_path):
    project = digits(tmp_path)
    heard = []
    result = run_sweep(
        project,
        plan("optimizer.lr=0.01", epochs=1),
        history=RunHistory(project.path),
        listener=heard.append,
        parallel="auto",
    )
    assert heard[0].parallel == 1 and result.records[0].status == "completed"


def test_the_cli_refuses_parallel_on_the_cpu_in_one_line(tmp_path, capsys):
    project = digits(tmp_path)
    assert main(["sweep", str(project.path), "--set", RATES, "--device", "cpu", "--parallel", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "several runs at once need a CUDA GPU" in err
    with pytest.raises(SystemExit, match="2"):
        main(["sweep", str(project.path), "--set", RATES, "--parallel", "none"])
    assert "give a number of runs at once from 1, or auto" in capsys.readouterr().err


def test_auto_fits_the_largest_run_k_times_in_half_the_free_memory_up_to_4():
    gib = 2**30
    assert auto_workers(gib - CONTEXT_BYTES, 80 * gib, 10) == 4  # plenty: the most measured
    assert auto_workers(gib - CONTEXT_BYTES, 80 * gib, 3) == 3  # no more than the trials
    assert auto_workers(2 * gib - CONTEXT_BYTES, 12 * gib, 10) == 3  # 6 GiB of room, 2 GiB each
    assert auto_workers(40 * gib, 60 * gib, 10) == 1  # never fewer than one


@pytest.fixture(scope="module")
def pool():
    """Two worker processes on the CPU (the workers do not care which device a run names)."""
    control = Control()
    pool = TrialPool(2, control)
    yield pool, control
    pool.close()


def drain(pool: TrialPool) -> tuple[dict[int, list], dict[int, TrialDone]]:
    """What the runs said until every one ended: events by run, and each run's end."""
    heard: dict[int, list] = {}
    done: dict[int, TrialDone] = {}
    while pool.busy:
        said = pool.next()
        if isinstance(said, TrialHeard):
            heard.setdefault(said.key, []).append(said.event)
        else:
            done[said.key] = said
    return heard, done


def test_two_runs_at_once_in_worker_processes_train_as_in_this_process(pool, tmp_path):
    workers, _ = pool
    project = digits(tmp_path)
    fast, slow = project, with_values(project, {"optimizer.lr": 0.001})
    workers.submit(0, job(fast, tmp_path / "a"))
    workers.submit(1, job(slow, tmp_path / "b"))
    with pytest.raises(ValueError, match="every worker has a run"):
        workers.submit(2, job(fast, tmp_path / "c"))
    heard, done = drain(workers)
    for key in (0, 1):
        kinds = [type(event) for event in heard[key]]
        assert kinds[0] is RunStart and kinds[-1] is Outcome and Progress in kinds and EpochEnd in kinds
        assert done[key].outcome.status == "completed" and done[key].weights.is_file()
    # the same run in this process, with as many threads as a worker has, ends with the same losses
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))
    try:
        here = []
        outcome, _ = run_trial(job(slow, tmp_path / "here"), Control(), here.append)
    finally:
        torch.set_num_threads(threads)
    assert outcome.status == "completed"
    assert [e.train_loss for e in here if isinstance(e, EpochEnd)] == [
        e.train_loss for e in heard[1] if isinstance(e, EpochEnd)
    ]


def test_a_worker_killed_mid_run_fails_that_run_in_one_line_and_the_next_run_starts_a_new_one(pool, tmp_path):
    workers, _ = pool
    project = digits(tmp_path)
    workers.submit(7, job(project, tmp_path / "killed", epochs=50))
    said = workers.next()
    assert isinstance(said, TrialHeard) and said.key == 7
    busy = next(p for p in multiprocessing.active_children() if p.name == "netbuilder-sweep-0")
    os.kill(busy.pid, signal.SIGKILL)
    _, done = drain(workers)
    outcome = done[7].outcome
    assert outcome.status == "failed" and done[7].weights is None
    assert outcome.message == (
        "the process running this run ended without finishing it (signal 9: out of memory, or killed)"
    )
    workers.submit(8, job(project, tmp_path / "after"))
    _, done = drain(workers)
    assert done[8].outcome.status == "completed"


def test_a_stop_ends_every_run_at_once_after_its_step(pool, tmp_path):
    workers, control = pool
    project = digits(tmp_path)
    workers.submit(0, job(project, tmp_path / "a", epochs=50))
    workers.submit(1, job(project, tmp_path / "b", epochs=50))
    control.stop()  # before their first steps: seen there, however quick the steps
    _, done = drain(workers)
    assert [done[key].outcome.status for key in (0, 1)] == ["stopped", "stopped"]
    assert (tmp_path / "a" / "last.pt").is_file()  # kept to go on from


# ---- on a CUDA GPU -------------------------------------------------------------------------------------------


@pytest.mark.cuda
@needs_gpu
@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_runs_at_once_on_the_gpu_give_the_runs_in_turn(tmp_path, name):
    the_plan = plan(RATES, "fc1.out_features=16,32" if name == "digits_mlp" else "seed=1,2", epochs=2)
    results = {}
    for parallel in (1, 3):
        project = digits(tmp_path / str(parallel), "cuda", name)
        heard = []
        history = RunHistory(project.path)
        results[parallel] = run_sweep(project, the_plan, history=history, listener=heard.append, parallel=parallel)
        assert heard[0] == replace(heard[0], parallel=parallel)
        assert len({r.run_id for r in RunHistory(project.path).records}) == 6  # every run its own
    one, three = results[1], results[3]
    assert all(r.status == "completed" and r.device.startswith("cuda") for r in three.records)
    assert [r.sweep["values"] for r in three.records] == [r.sweep["values"] for r in one.records]
    # the same losses, to the last bits cuDNN's non-deterministic reductions may differ by (H200: 6e-8 apart)
    for at_once, in_turn in zip(three.records, one.records, strict=True):
        losses = [e["train_loss"] for e in in_turn.history]
        assert [e["train_loss"] for e in at_once.history] == pytest.approx(losses, rel=1e-6)
    assert three.best.sweep["values"] == one.best.sweep["values"]
    runs = tmp_path / "3" / f"{name}.runs"
    assert all((runs / r.weights).is_file() for r in three.records)


@pytest.mark.cuda
@needs_gpu
def test_halving_and_a_stop_with_runs_at_once_on_the_gpu(tmp_path):
    rates = "optimizer.lr=0.01,0.0003,0.003,0.0001"
    project = digits(tmp_path / "halving", "cuda")
    result = run_sweep(project, plan(rates, epochs=2, halving=True), history=RunHistory(project.path), parallel=4)
    going = [r for r in result.records if "halted_at" not in r.sweep]
    assert [r.sweep["values"]["optimizer.lr"] for r in going] == [0.01, 0.003]
    assert all(r.epochs_done == 2 and len(r.history) == 2 for r in going)

    control = Control()
    started = []

    def listener(event):
        if isinstance(event, TrialStart):
            started.append(event.index)
            if len(started) == 2:
                control.stop()

    project = digits(tmp_path / "stop", "cuda")
    result = run_sweep(
        project,
        plan(rates, epochs=50),
        history=RunHistory(project.path),
        listener=listener,
        control=control,
        parallel=2,
    )
    assert result.stopped and started == [0, 1]
    assert [r.status for r in result.records] == ["stopped", "stopped"]


@pytest.mark.cuda
@needs_gpu
def test_auto_and_the_cli_on_the_gpu(tmp_path, capsys):
    project = digits(tmp_path, "cuda")
    heard = []
    run_sweep(project, plan(RATES, epochs=1), history=RunHistory(project.path), listener=heard.append, parallel="auto")
    assert isinstance(heard[0], SweepStart) and heard[0].parallel == 3  # digits_mlp is small: every trial
    assert {e.index for e in heard if isinstance(e, TrialEvent)} == {0, 1, 2}
    assert main(["sweep", str(project.path), "--set", RATES, "--epochs", "1", "--parallel", "2", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "3 runs, 2 at once in processes of their own" in err
    assert [run["status"] for run in json.loads(out)["runs"]] == ["completed"] * 3
