"""The learning-rate range test: train from the project's starting weights for a few hundred steps while the rate
grows exponentially, and suggest the rate where the smoothed loss falls fastest.

It runs on a Trainer of its own (train.py's data split, model, loss, optimizer and `train_step`, batches drawn
as training draws them), so what it measures is what a run would do; the project, its weights and its settings
are left as they were. The scheduler is not stepped: the test sets the rate itself before every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy
import torch

from netbuilder.project import Project
from netbuilder.training.engine import Trainer

SMOOTHING = 0.98  # the loss's exponential moving average keeps this much of the previous average per step
BLOW_UP = 4.0  # the test stops once the smoothed loss is this many times its best


@dataclass(frozen=True)
class LrFindResult:
    """The rates tried (one per step), the loss of each step and its smoothed value, the suggested rate (None
    when too few steps were taken to tell), and whether the test stopped before its last rate because the loss
    blew up."""

    rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float | None
    stopped_early: bool


def find_learning_rate(
    project: Project,
    *,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 200,
    device: str | None = None,
    progress: Callable[[int, int, float, float], None] | None = None,
) -> LrFindResult:
    """Train `steps` steps with the rate growing exponentially from `start` to `end`, one batch per step
    (cycling through epochs when there are fewer batches), and suggest the rate at the steepest descent of the
    smoothed loss against log10(rate). `progress(step, steps, rate, loss)` is called after each step. Stops
    early when the smoothed loss passes BLOW_UP times its best or the loss is not a finite number."""
    if not 0 < start < end:
        raise ValueError(f"the rates must grow: start {start:g} must be above 0 and below end {end:g}")
    if steps < 2:
        raise ValueError(f"give at least 2 steps, not {steps}")
    trainer = Trainer(project, device=device)
    rates = exponential_rates(start, end, steps)
    losses: list[float] = []
    smoothed: list[float] = []
    average, best, stopped_early = 0.0, math.inf, False
    batches = _endless_batches(trainer)
    for step, rate in enumerate(rates):
        for group in trainer.optimizer.param_groups:
            group["lr"] = rate
        batch_x, batch_y = next(batches)
        loss = float(trainer._train_step(batch_x, batch_y)[0])
        if not math.isfinite(loss):
            stopped_early = True
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        value = average / (1 - SMOOTHING ** (step + 1))  # bias correction: the average starts at 0
        losses.append(loss)
        smoothed.append(value)
        if progress is not None:
            progress(step + 1, steps, rate, loss)
        if value > BLOW_UP * best:
            stopped_early = True
            break
        best = min(best, value)
    tried = rates[: len(losses)]
    return LrFindResult(tried, losses, smoothed, steepest_descent(tried, smoothed), stopped_early)


def exponential_rates(start: float, end: float, steps: int) -> list[float]:
    """`steps` rates from `start` to `end`, each the same factor above the one before."""
    return [start * (end / start) ** (i / (steps - 1)) for i in range(steps)]


def steepest_descent(rates: list[float], smoothed: list[float]) -> float | None:
    """The rate where the smoothed loss falls fastest against log10(rate), leaving out the first tenth and the
    last twentieth of the points (the average is still settling at the start; the end is where it blows up);
    None when fewer than 5 points remain."""
    head, tail = max(1, len(rates) // 10), max(1, len(rates) // 20)
    if len(rates) - head - tail < 5:
        return None
    slope = numpy.gradient(numpy.asarray(smoothed), numpy.log10(numpy.asarray(rates)))
    return rates[head + int(numpy.argmin(slope[head : len(rates) - tail]))]


def _endless_batches(trainer: Trainer) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The trainer's batches epoch after epoch, each epoch with its own permutation, as training draws them."""
    trainer.model.train()
    while True:
        trainer.position = 0
        trainer._draw_epoch_order()
        yield from trainer._batches()
