"""What `netbuilder sweep --parallel K` gains over the same sweep one run at a time, as a person runs it: the whole
command, timed from its start to its end (torch's import, the data, the worker processes' start and their CUDA
contexts all counted), on copies of the sample projects, K and one at a time alternated in rounds (the fastest
round kept: a busy machine only ever adds time). Each line also says whether the runs ended with the same
losses both ways (every epoch's training loss of every run, from the run history). Without CUDA it says so and
exits. Run on a GPU machine: `python benchmarks/bench_sweep_parallel.py [--runs N] [--epochs E] [--parallel K]
[--rounds R] [--projects digits_mlp,digits_cnn]`.

`--pool-start` (any machine, on the CPU): what starting the workers costs, the pool's way (forks of a fork server
that imported torch once) against spawning each (a fresh interpreter importing torch): a pool of K workers made
and one one-epoch digits_mlp run given to each, to their ends, alternated in rounds, the fastest kept.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from netbuilder.project import load_project, project_to_dict
from netbuilder.project.run_history import RunHistory
from netbuilder.training import sweep_workers
from netbuilder.training.control import Control
from netbuilder.training.sweep_trial import TrialJob

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


def sweep(name: str, folder: Path, runs: int, epochs: int, parallel: int) -> tuple[float, list]:
    """One `netbuilder sweep` of `runs` learning rates on a fresh copy of the sample: its wall time and every
    run's training losses by epoch, in trial order."""
    folder.mkdir(parents=True)
    project = Path(shutil.copy(SAMPLES / f"{name}.nbproj", folder / f"{name}.nbproj"))
    command = [sys.executable, "-m", "netbuilder", "sweep", str(project), "--set", f"optimizer.lr=1e-4:1e-2:log:{runs}"]
    command += ["--epochs", str(epochs), "--device", "cuda", "--parallel", str(parallel), "--json"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    records = sorted(RunHistory(project).records, key=lambda record: record.sweep["index"])
    return seconds, [[entry["train_loss"] for entry in record.history] for record in records]


def pool_start(workers: int, folder: Path, spawned: bool) -> float:
    """Seconds to make a pool of `workers` and run one one-epoch run on each, to their ends."""
    folder.mkdir(parents=True)
    project = load_project(shutil.copy(SAMPLES / "digits_mlp.nbproj", folder / "digits_mlp.nbproj"))
    job = TrialJob(project_to_dict(project), str(project.path), 1)
    start = time.perf_counter()
    if spawned:  # the pool as it would be without a fork server
        original = sweep_workers._context
        sweep_workers._context = lambda: multiprocessing.get_context("spawn")
    try:
        pool = sweep_workers.TrialPool(workers, Control())
    finally:
        if spawned:
            sweep_workers._context = original
    for key in range(workers):
        pool.submit(key, job)
    while pool.busy:
        pool.next()
    pool.close()
    return time.perf_counter() - start


def compare_pool_start(workers: int, rounds: int) -> None:
    times: dict[str, list[float]] = {"fork server": [], "spawned": []}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(rounds):
            for way in times:
                folder = Path(scratch) / f"{way.replace(' ', '-')}-{round_}"
                times[way].append(pool_start(workers, folder, spawned=way == "spawned"))
    forked, spawned = min(times["fork server"]), min(times["spawned"])
    listed = "; ".join(f"{way}: " + ", ".join(f"{s:.2f}" for s in t) for way, t in times.items())
    print(f"{workers} workers and a one-epoch run each: fork server {forked:.2f} s, spawned {spawned:.2f} s, ", end="")
    print(f"{spawned / forked:.2f}x; rounds [{listed}] (the fork server's first round starts the server itself)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="runs in the sweep")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=4, help="K: runs at once")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--projects", default="digits_mlp,digits_cnn")
    parser.add_argument("--pool-start", action="store_true", help="time the workers' start (CPU) instead")
    args = parser.parse_args()
    if args.pool_start:
        compare_pool_start(args.parallel, args.rounds)
        return
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to compare (run this on a GPU machine)")
        sys.exit(0)
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; {args.runs} runs of {args.epochs} epochs")
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.projects.split(","):
            times: dict[int, list[float]] = {1: [], args.parallel: []}
            losses: dict[int, list] = {}
            for round_ in range(args.rounds):
                for parallel in times:
                    folder = Path(scratch) / f"{name}-{parallel}-{round_}"
                    seconds, losses[parallel] = sweep(name, folder, args.runs, args.epochs, parallel)
                    times[parallel].append(seconds)
            one, k = min(times[1]), min(times[args.parallel])
            same = "same losses" if losses[1] == losses[args.parallel] else "other losses"
            listed = "; ".join(f"{p}: " + ", ".join(f"{s:.1f}" for s in t) for p, t in times.items())
            print(f"{name}: one at a time {one:.1f} s, {args.parallel} at once {k:.1f} s: {one / k:.2f}x  ({same})")
            print(f"  rounds [{listed}]", flush=True)


if __name__ == "__main__":
    main()
