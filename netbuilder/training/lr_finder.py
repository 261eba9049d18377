"""The learning-rate range test: train from the project's starting weights for a few hundred steps while the rate
grows exponentially, and suggest the rate where the smoothed loss falls fastest.

Two smoothings, each an exponential moving average whose span is a twentieth of the test (at least 5 steps: 10
for the default 200), so a short test is not smoothed flat: while the test runs, the average of the losses so
far decides when the loss has blown up (it can only look back); once it ends, the losses are smoothed forwards
and then backwards, which lags neither way, and that curve is the one shown and searched for the steepest
descent, before its lowest point (after it the loss only rises). A moving average alone trails the losses by
its span, and with the span a quarter of the test it had suggested rates where the loss had stopped falling.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy

from netbuilder.project import Project
from netbuilder.training.engine import Trainer

SPAN_SHARE = 20  # the moving average's span is the test's steps / SPAN_SHARE ...
MIN_SPAN = 5  # ... and at least this many steps
BLOW_UP = 4.0  # the test stops once the smoothed loss is this many times its best


@dataclass(frozen=True)
class LrFindResult:
    """The rates tried (one per step), the loss of each step and its smoothed value (smoothed both ways, so
    without lag), the suggested rate (None
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
    should_stop: Callable[[], bool] | None = None,
) -> LrFindResult:
    """Train `steps` steps with the rate growing exponentially from `start` to `end`, one batch per step
    (cycling through epochs when there are fewer batches), and suggest the rate at the steepest descent of the
    smoothed loss against log10(rate). `progress(step, steps, rate, loss)` is called after each step. Stops
    early when the smoothed loss passes BLOW_UP times its best or the loss is not a finite number, and when
    `should_stop()` (asked after each step; the window's Stop) says so: the result then holds the steps taken."""
    if not 0 < start < end:
        raise ValueError(f"the rates must grow: start {start:g} must be above 0 and below end {end:g}")
    if steps < 2:
        raise ValueError(f"give at least 2 steps, not {steps}")
    trainer = Trainer(project, device=device)
    rates = exponential_rates(start, end, steps)
    losses: list[float] = []
    average, best, blew_up = 0.0, math.inf, False
    smoothing = smoothing_for(steps)

    def after_step(step: int, rate: float, loss: float) -> bool:
        nonlocal average, best, blew_up
        if not math.isfinite(loss):
            blew_up = True
            return False
        average = smoothing * average + (1 - smoothing) * loss
        value = average / (1 - smoothing**step)  # bias correction: the average starts at 0
        losses.append(loss)
        if progress is not None:
            progress(step, steps, rate, loss)
        if value > BLOW_UP * best:
            blew_up = True
            return False
        best = min(best, value)
        return should_stop is None or not should_stop()

    trainer.train_at_rates(rates, after_step)
    tried = rates[: len(losses)]
    smoothed = smoothed_both_ways(losses, smoothing)
    return LrFindResult(tried, losses, smoothed, steepest_descent(tried, smoothed), blew_up)


def smoothing_for(steps: int) -> float:
    """How much of the moving average each step keeps, for a test of `steps` steps: a span of a twentieth of
    them, at least MIN_SPAN."""
    return 1 - 1 / max(MIN_SPAN, steps / SPAN_SHARE)


def smoothed_both_ways(values: list[float], smoothing: float) -> list[float]:
    """`values` through a bias-corrected moving average forwards, then the result through it backwards: as
    smooth as two passes and centred, so a fall in the values stays where it happened."""

    def average(xs: list[float]) -> list[float]:
        out, mean = [], 0.0
        for i, x in enumerate(xs, start=1):
            mean = smoothing * mean + (1 - smoothing) * x
            out.append(mean / (1 - smoothing**i))
        return out

    return average(average(values)[::-1])[::-1]


def exponential_rates(start: float, end: float, steps: int) -> list[float]:
    """`steps` rates from `start` to `end`, each the same factor above the one before."""
    return [start * (end / start) ** (i / (steps - 1)) for i in range(steps)]


def steepest_descent(rates: list[float], smoothed: list[float]) -> float | None:
    """The rate where the smoothed loss falls fastest against log10(rate), between the first tenth of the points
    (where the loss has barely begun to move) and the curve's lowest point (after it the loss only rises); None
    when fewer than 5 points lie between."""
    head, lowest = max(1, len(rates) // 10), int(numpy.argmin(smoothed)) if smoothed else 0
    if lowest - head < 5:
        return None
    slope = numpy.gradient(numpy.asarray(smoothed), numpy.log10(numpy.asarray(rates)))
    return rates[head + int(numpy.argmin(slope[head:lowest]))]
