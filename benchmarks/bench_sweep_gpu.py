"""Whether several small runs at once beat the same runs in turn on one GPU (issue 16: "on a GPU, small models
may run several at once if it is measurably faster"). The sweep's queue runs one at a time; this measures what
two ways of running K at once would gain, on the sample projects, in one process tree:

- in turn: K engine runs one after another in one process (what `run_sweep` does), the baseline;
- threads: K engine runs at once in one process, each on its own thread and CUDA stream (sharing the GIL);
- processes: K engine runs at once in K processes, each with its own CUDA context, which the GPU time-slices.

Each way runs in worker processes of its own, started and warmed up beforehand (so no way changes the CUDA state
another runs in); each figure is the wall time of all K runs from the submitting to the last result (the fastest
of the rounds: a busy machine only ever adds time), with the runs' final training losses (the same in every way,
or the way is wrong). Without CUDA it says so and
exits. Run on a GPU machine: `python benchmarks/bench_sweep_gpu.py [--runs K] [--epochs E] [--rounds R]`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import torch

from netbuilder.project import load_project
from netbuilder.project.sweep_plan import Axis, SweepPlan, check_trials, trial_project
from netbuilder.training.engine import Trainer

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"
PROJECTS = ("digits_mlp", "digits_cnn", "digits_resnet")


def trial_projects(name: str, runs: int, epochs: int) -> list:
    """K runs of the sample that differ in their learning rate only (the same steps, the same work)."""
    project = load_project(SAMPLES / f"{name}.nbproj")
    project = replace(project, training=replace(project.training, device="cuda"))
    plan = SweepPlan((Axis.parse(f"optimizer.lr=1e-4:1e-2:log:{runs}"),), epochs=epochs)
    return [trial_project(project, trial, plan.epochs) for trial in check_trials(project, plan)]


def train(project) -> float:
    """One engine run; its last epoch's training loss."""
    trainer = Trainer(project)
    outcome = trainer.run()
    if not outcome.ok:
        raise RuntimeError(f"the run {outcome.status}: {outcome.message}")
    return trainer.history[-1]["train_loss"]


def in_turn(name: str, runs: int, epochs: int) -> list[float | str]:
    """The K runs one after another in this process (what the sweep's queue does)."""
    return [train(project) for project in trial_projects(name, runs, epochs)]


def on_threads(name: str, runs: int, epochs: int) -> list[float | str]:
    """The K runs at once on K threads of this process, each on its own CUDA stream."""
    projects = trial_projects(name, runs, epochs)
    losses: list[float | str] = [0.0] * runs

    def work(index: int) -> None:
        try:
            with torch.cuda.stream(torch.cuda.Stream()):
                losses[index] = train(projects[index])
        except Exception as err:  # a way that fails is reported as such, not hidden
            losses[index] = f"failed: {str(err).splitlines()[0]}"

    threads = [threading.Thread(target=work, args=(i,)) for i in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    torch.cuda.synchronize()
    return losses


def one_run(name: str, runs: int, epochs: int, index: int) -> float | str:
    """One of the K runs, in a worker process of its own."""
    return train(trial_projects(name, runs, epochs)[index])


def timed(pool: ProcessPoolExecutor, jobs: list[tuple]) -> tuple[float, list]:
    """Wall time of the jobs submitted together to `pool`, and their results in order."""
    start = time.perf_counter()
    futures = [pool.submit(*job) for job in jobs]
    results = [future.result() for future in futures]
    return time.perf_counter() - start, results


def compare(pools: dict[str, ProcessPoolExecutor], name: str, runs: int, epochs: int, rounds: int) -> None:
    """The three ways on one sample project, each in worker processes of its own (so that no way leaves the
    CUDA state of another's process changed), alternated in rounds; a line each."""
    jobs = {
        "in turn": [(in_turn, name, runs, epochs)],
        "threads": [(on_threads, name, runs, epochs)],
        "processes": [(one_run, name, runs, epochs, i) for i in range(runs)],
    }
    for way, pool in pools.items():  # warm up: imports, CUDA contexts, the data read once
        timed(pool, [(job[0], name, runs, 1, *job[4:]) for job in jobs[way]])
    times: dict[str, list[float]] = {way: [] for way in jobs}
    losses: dict[str, list] = {}
    for _ in range(rounds):
        for way, way_jobs in jobs.items():
            seconds, results = timed(pools[way], way_jobs)
            losses[way] = results[0] if way != "processes" else results
            times[way].append(seconds)
    base = min(times["in turn"])
    print(f"\n{name} ({Trainer(trial_projects(name, 1, epochs)[0]).steps_per_epoch * epochs} steps a run)")
    for way, seconds in times.items():
        same = "same losses" if losses[way] == losses["in turn"] else f"losses {losses[way]}"
        listed = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"  {way:<10} {min(seconds):7.2f} s  ({base / min(seconds):.2f}x in turn)  [{listed}]  {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="K: runs at once")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--projects", default=",".join(PROJECTS))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to compare (run this on a GPU machine)")
        sys.exit(0)
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; {args.runs} runs of {args.epochs} epochs")
    context = multiprocessing.get_context("spawn")  # CUDA cannot be used in a forked child
    pools = {
        "in turn": ProcessPoolExecutor(1, mp_context=context),
        "threads": ProcessPoolExecutor(1, mp_context=context),
        "processes": ProcessPoolExecutor(args.runs, mp_context=context),
    }
    try:
        for name in args.projects.split(","):
            compare(pools, name, args.runs, args.epochs, args.rounds)
    finally:
        for pool in pools.values():
            pool.shutdown()


if __name__ == "__main__":
    main()
