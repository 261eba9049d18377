"""What the one-process path pays for accumulation and several processes (issue 18): the engine's own loop with
today's train_step (its parts, its weight, its no_sync check) against the same loop with the step as it was
before (forward, loss, zero_grad, backward, clip, step, written out below), in this run, on the sample projects;
with --processes N also the loop of N processes of the same global batch against one (on a CPU they share its
cores, so that figure says what the processes and their all_reduce cost, not a speed-up).

Target: the one-process ratio within noise of 1.00. The loops alternate in rounds and the fastest round is kept
(a busy machine only ever adds time). On CUDA both steps run as the engine runs them: captured as a CUDA graph.
Run: `.venv/bin/python benchmarks/bench_processes.py [--device cpu|cuda] [--steps N] [--processes N]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch

from netbuilder.project import load_project
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.worker_processes import new_trainer

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"
PROJECTS = ("digits_mlp", "digits_cnn", "digits_resnet")

BEFORE = """
def train_step(model, criterion, optimizer, batch_x, batch_y, grad_clip=0.0, accumulation=1):
    output = model(batch_x)
    loss = compute_loss(criterion, output, batch_x, batch_y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.detach(), output.detach()
"""


def seconds_per_step(trainer: Trainer, steps: int, device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    trainer.run(max_steps=steps)
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--processes", type=int, default=0, help="also time N processes (0: no)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {args.device}", torch.cuda.get_device_name() if args.device == "cuda" else "")
    for name in PROJECTS:
        project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), device=args.device, epochs=1000)
        today, before = Trainer(project), Trainer(project)
        script = before.program.script
        namespace = dict(vars(script))
        exec(BEFORE, namespace)  # the step as it was, over the script's own compute_loss
        before.program = dataclasses.replace(before.program, script=_module(script, namespace))
        best = {"today": float("inf"), "before": float("inf")}
        for _ in range(args.rounds):
            best["today"] = min(best["today"], seconds_per_step(today, args.steps, args.device))
            best["before"] = min(best["before"], seconds_per_step(before, args.steps, args.device))
        line = f"{name:14} before {best['before'] * 1e3:7.3f} ms/step  today {best['today'] * 1e3:7.3f} ms/step"
        print(f"{line}  ratio {best['today'] / best['before']:.3f}")
        if args.processes > 1:
            several = new_trainer(with_settings(project, processes=args.processes))
            took = seconds_per_step(several, args.steps, args.device)
            print(f"{'':14} {args.processes} processes {took * 1e3:7.3f} ms/step (first run: starting included)")


def _module(script, namespace):
    """The script with its train_step replaced (a copy: the Program of `today` keeps its own)."""
    copy = type(script)(script.__name__)
    vars(copy).update(namespace)
    return copy


if __name__ == "__main__":
    main()
