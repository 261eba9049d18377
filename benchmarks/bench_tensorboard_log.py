"""What TensorBoard logs cost a run: the engine's own loop with a TensorBoardLog (every step's loss, each
epoch's figures, and at the end the hyperparameters, the files flushed and closed) against the same loop
without it, in this run, on the sample projects.

The loops alternate in rounds and the fastest round of each is kept (a busy machine only ever adds time); a
round with the log makes a fresh one before its clock starts (the writer and the graph's trace are a run's
start, not its steps) and ends on its Outcome, which writes the hyperparameters and closes the files, so the
writer's thread has written every step before the round's clock stops. What the Outcome takes is a run's end,
not its steps: it is shown apart ("at the end") and left out of the time per step. The loops' difference
moves by tens of µs between rounds on a busy machine, so the time spent in the listener itself, on the
training thread, is shown too ("in the listener", per step): what the log takes from the loop before the
writer's own thread serialises the events. Last, one step's loss written on its own (`log_step_losses`), with
torch's default queue of 10 events and with the log's deep queue (QUEUED_EVENTS): the baseline is the default.
Run: `.venv/bin/python benchmarks/bench_tensorboard_log.py [--device cpu|cuda] [--steps N] [--rounds R]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from netbuilder.codegen.tensorboard_summaries import log_step_losses
from netbuilder.project import load_project
from netbuilder.project.run_events import Outcome
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.tensorboard_log import QUEUED_EVENTS, TensorBoardLog

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"
PROJECTS = ("digits_mlp", "digits_cnn")


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


class TimedLog(TensorBoardLog):
    """A TensorBoardLog that keeps how long the Outcome took: the hyperparameters written, the files closed."""

    ending = 0.0
    listening = 0.0

    def __call__(self, event: object) -> None:
        started = time.perf_counter()
        super().__call__(event)
        if isinstance(event, Outcome):
            self.ending = time.perf_counter() - started
        else:
            self.listening += time.perf_counter() - started


def round_seconds(trainer: Trainer, steps: int, device: str, folder: Path | None) -> tuple[float, float, float]:
    """One round of `steps` steps (the run goes on from where the last round stopped), with a log in `folder`:
    the seconds of its steps, of its end, and in the listener."""
    log = TimedLog(folder, trainer) if folder is not None else None
    sync(device)
    started = time.perf_counter()
    trainer.run(log, max_steps=steps)
    sync(device)
    ending, listening = (log.ending, log.listening) if log is not None else (0.0, 0.0)
    return time.perf_counter() - started - ending, ending, listening


def scalar_seconds(folder: Path, queue: int, count: int = 20_000) -> float:
    """Seconds per step loss written by log_step_losses through a writer with this queue, until it returns."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder), max_queue=queue)
    losses = [0.5] * count
    started = time.perf_counter()
    log_step_losses(writer, losses, 1)
    seconds = time.perf_counter() - started
    writer.close()
    return seconds / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"{args.device}, torch {torch.__version__}, {args.rounds} rounds of {args.steps} steps")
    print("| project | step without | step with | ratio | per step | in the listener | at the end |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as logs:
        for name in PROJECTS:
            project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), epochs=10_000, device=args.device)
            trainer = Trainer(project)
            round_seconds(trainer, args.steps, args.device, None)  # warm-up: first steps, a CUDA graph's capture
            without, with_log, endings, listening = [], [], [], []
            for index in range(args.rounds):
                without.append(round_seconds(trainer, args.steps, args.device, None)[0])
                steps, ending, heard = round_seconds(trainer, args.steps, args.device, Path(logs) / f"{name}-{index}")
                with_log.append(steps)
                endings.append(ending)
                listening.append(heard)
            plain, logged = min(without) / args.steps, min(with_log) / args.steps
            print(
                f"| {name} | {plain * 1e3:.3f} ms | {logged * 1e3:.3f} ms | {logged / plain:.3f}x "
                f"| {(logged - plain) * 1e6:.0f} µs | {min(listening) / args.steps * 1e6:.0f} µs "
                f"| {min(endings) * 1e3:.0f} ms |"
            )
        default = min(scalar_seconds(Path(logs) / f"default-{index}", 10) for index in range(3))
        deep = min(scalar_seconds(Path(logs) / f"deep-{index}", QUEUED_EVENTS) for index in range(3))
        print(
            f"a step's loss written: {default * 1e6:.0f} µs with a queue of 10, {deep * 1e6:.0f} µs with "
            f"{QUEUED_EVENTS:,} ({deep / default:.2f}x)"
        )


if __name__ == "__main__":
    main()
