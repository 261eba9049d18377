"""What the sweep's queue adds to each run: N small runs through `run_sweep` (every trial checked, a copy of the
project per run, its record made and written, its weights and checkpoints saved, the best marked) against the
same N runs by a plain loop of `Trainer(...).run()` (the trials' projects made beforehand, nothing saved), in
the same process, alternated in rounds (the fastest round of each kept: a busy machine only ever adds time).

Target (issue 16): under 0.5 s per run beyond the run itself, on the CPU.
Run: `.venv/bin/python benchmarks/bench_sweep_queue.py [--runs N] [--rounds R] [--project NAME] [--device cpu|cuda]`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from netbuilder.project import load_project
from netbuilder.project.run_history import RunHistory
from netbuilder.project.sweep_plan import Axis, SweepPlan, check_trials, trial_project
from netbuilder.training.engine import Trainer
from netbuilder.training.sweep import run_sweep

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


def plain_loop(projects: list) -> float:
    """The runs themselves: a Trainer per trial, trained, nothing kept."""
    start = time.perf_counter()
    for project in projects:
        Trainer(project).run()
    return time.perf_counter() - start


def through_the_queue(project, plan: SweepPlan) -> float:
    """The same runs as a sweep into a fresh run history beside a copy of the project."""
    with tempfile.TemporaryDirectory() as folder:
        copy = replace(project, path=Path(shutil.copy(project.path, Path(folder) / project.path.name)))
        start = time.perf_counter()
        run_sweep(copy, plan, history=RunHistory(copy.path))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--project", default="digits_mlp")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args()
    project = load_project(SAMPLES / f"{args.project}.nbproj")
    project = replace(project, training=replace(project.training, device=args.device))
    # N rates log-spaced over two decades: every run trains the same network for the same steps
    plan = SweepPlan((Axis.parse(f"optimizer.lr=1e-4:1e-2:log:{args.runs}"),), epochs=args.epochs)
    projects = [trial_project(project, trial, plan.epochs) for trial in check_trials(project, plan)]
    Trainer(projects[0]).run()  # warm up: torch's first calls, the loader's first read, a first validation
    plain, queued = [], []
    for _ in range(args.rounds):
        plain.append(plain_loop(projects))
        queued.append(through_the_queue(project, plan))
    steps = Trainer(projects[0]).steps_per_epoch * args.epochs
    base, sweep = min(plain), min(queued)
    print(f"{args.project}, {args.runs} runs of {args.epochs} epoch(s) ({steps} steps each), {args.device}")
    print(
        f"rounds: plain loop {', '.join(f'{t:.2f}' for t in plain)} s; sweep {', '.join(f'{t:.2f}' for t in queued)} s"
    )
    print(f"plain loop {base / args.runs:.3f} s per run; sweep {sweep / args.runs:.3f} s per run")
    print(f"queue overhead {(sweep - base) / args.runs:.3f} s per run (ratio {sweep / base:.2f}x); target < 0.5 s")


if __name__ == "__main__":
    main()
