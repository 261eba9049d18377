"""What the live gradient statistics cost: the engine's own loop with them (every SAMPLE_EVERY steps) against
the same loop without them, in this run, on the sample projects.

Target: under 5 % of a step. Two figures per project: the loops' time per step, with and without (alternated
in rounds, the fastest round kept, as a busy machine only ever adds time), and the cost of one sample (copying the
weights, the norms, reading them) times the samples the loop took per step (one in SAMPLE_EVERY steps, fewer
where steps are quick: see MIN_GAP_SECONDS), which is what the statistics add to a step on average.
Run: `.venv/bin/python benchmarks/bench_gradient_stats.py [--device cpu|cuda] [--steps N]`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from netbuilder.project import load_project
from netbuilder.project.gradient_samples import GradientReport
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.gradient_stats import SAMPLE_EVERY

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"
PROJECTS = ("digits_mlp", "digits_cnn", "digits_resnet")
NEVER = 10**12  # an interval no run reaches: the statistics sample the first step only


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def seconds_per_step(trainer: Trainer, steps: int, device: str, samples: list[int] | None = None) -> float:
    """The loop's time per step over `steps` steps; the samples it took are added to `samples`."""

    def count(event: object) -> None:
        if samples is not None and isinstance(event, GradientReport):
            samples.append(len(event.samples))

    sync(device)
    start = time.perf_counter()
    trainer.run(count, max_steps=steps)
    sync(device)
    return (time.perf_counter() - start) / steps


def seconds_per_sample(trainer: Trainer, device: str, repeats: int = 20) -> float:
    """One sample's own work, measured around a real step of the run (its gradients and its update)."""
    stats, step = trainer.gradient_stats, trainer._model_step  # the step a batch as read goes through
    if trainer.order is None:  # between epochs
        trainer._draw_epoch_order()
    batch_x, batch_y = next(trainer._read_batches())
    times = []
    for _ in range(repeats):
        step(batch_x, batch_y)  # gradients as a step leaves them
        sync(device)
        start = time.perf_counter()
        stats.before_step()
        sync(device)
        middle = time.perf_counter()
        step(batch_x, batch_y)
        sync(device)
        resumed = time.perf_counter()
        stats.after_step(1)
        stats.collect()
        times.append(middle - start + time.perf_counter() - resumed)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--steps", type=int, help="steps per round (50 on the CPU, 1,000 on a GPU)")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    args.steps = args.steps or (1000 if args.device == "cuda" else 50)
    print(f"device {args.device}, sampled every {SAMPLE_EVERY} steps, {args.rounds} rounds of {args.steps} steps")
    for name in PROJECTS:
        project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), device=args.device, epochs=10_000)
        with_stats, without = Trainer(project), Trainer(project)
        without.gradient_stats.every = NEVER
        for trainer in (with_stats, without):  # warm-up: first steps, CUDA graph capture
            seconds_per_step(trainer, 10, args.device)
        timed: dict[str, list[float]] = {"with": [], "without": []}
        samples: list[int] = []
        for _ in range(args.rounds):
            timed["without"].append(seconds_per_step(without, args.steps, args.device))
            timed["with"].append(seconds_per_step(with_stats, args.steps, args.device, samples))
        step_with, step_without = (min(timed[k]) for k in ("with", "without"))
        sample = seconds_per_sample(with_stats, args.device)
        layers = len(with_stats.gradient_stats.layers)
        per_step = sum(samples) / (args.rounds * args.steps)
        print(
            f"{name:14} {layers:2} layers  step {step_without * 1e3:7.3f} ms without, {step_with * 1e3:7.3f} ms with "
            f"(x{step_with / step_without:.3f})  one sample {sample * 1e3:6.3f} ms, one per {1 / per_step:.0f} "
            f"steps = {100 * sample * per_step / step_without:.2f} % of a step"
        )


if __name__ == "__main__":
    main()
