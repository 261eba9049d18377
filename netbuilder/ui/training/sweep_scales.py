"""How a sweep's values and metrics are laid out on the sweep plot's axes and said in words.

`SweptScale` places one swept value's values on an axis: numbers evenly, or by their logarithm where the
values tried are log-spaced (64, 128, 256; 1e-4 … 1e-1), words (relu, gelu) and booleans evenly in the order
first tried, each labelled with the values themselves; `MetricScale` does the same for the metric, with round
figures between its ends. The words (`metric_name`, `value_text` ...) are also the sweep dialog's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from netbuilder.ui.training.plot_parts import compact_number

LISTED_VALUES = 6  # an axis labels each value tried up to this many, else round values across its range


def metric_name(metric: str) -> str:
    """A metric in words: 'val accuracy', 'train loss'."""
    return metric.replace("_", " ")


def metric_text(metric: str, value: float) -> str:
    """A metric's value as people read it: accuracies in percent (97.2%), the others in four digits."""
    if metric.endswith("accuracy"):
        return f"{value:.1%}"
    return f"{value:.4g}".replace("-", "−")


def value_text(value: Any) -> str:
    """A swept value as an axis or a line names it: 0.001 as 1e-3, 128, relu, true."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return compact_number(value)
    return str(value)


def values_text(values: dict[str, Any]) -> str:
    """'optimizer.lr 1e-3, fc1.out_features 128'."""
    return ", ".join(f"{target} {value_text(value)}" for target, value in values.items())


def is_number(value: Any) -> bool:
    """A number an axis can place by size (a boolean is a choice of two)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def log_spaced(values: Sequence[float]) -> bool:
    """Whether numbers are best laid out by their logarithm: all positive, and either spanning two orders of
    magnitude or more evenly spaced in log than in plain terms (64, 128, 256), or two values a decade apart."""
    distinct = sorted(set(values))
    if not distinct or distinct[0] <= 0 or len(distinct) < 2:
        return False
    ratio = distinct[-1] / distinct[0]
    if ratio >= 100:
        return True
    if len(distinct) == 2:
        return ratio >= 10
    plain = np.diff(distinct)
    logs = np.diff(np.log(distinct))
    return float(np.std(logs) / np.mean(logs)) < float(np.std(plain) / np.mean(plain)) - 1e-9


def round_ticks(low: float, high: float, *, integer: bool = False, count: int = 4) -> list[float]:
    """About `count` round values (1, 2, 2.5 or 5 times a power of ten apart) from `low` to `high`."""
    if not high > low:
        return [low]
    raw = (high - low) / count
    scale = 10.0 ** math.floor(math.log10(raw))
    steps = (1.0, 2.0, 5.0, 10.0) if integer else (1.0, 2.0, 2.5, 5.0, 10.0)
    step = next(m * scale for m in steps if m * scale >= raw * (1 - 1e-9))
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(low / step - 1e-9) * step
    return [first + i * step for i in range(math.floor((high - first) / step + 1e-9) + 1)]


@dataclass(frozen=True)
class SweptScale:
    """How one axis places its values between 0 (bottom or left) and 1: `kind` "lin" or "log" for numbers
    from `low` to `high`, "choice" for words and booleans at evenly spaced places in the order of `choices`."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()
    integer: bool = False

    @classmethod
    def of(cls, name: str, values: Sequence[Any]) -> SweptScale:
        """The scale for the values tried (a missing value is None, and ignored)."""
        present = [v for v in values if v is not None]
        if present and all(is_number(v) for v in present):
            numbers = [float(v) for v in present]
            integer = all(isinstance(v, int) for v in present)
            kind = "log" if log_spaced(numbers) else "lin"
            return cls(name, kind, min(numbers), max(numbers), tuple(sorted(set(numbers))), integer)
        choices = tuple(dict.fromkeys(value_text(v) for v in present))
        if set(choices) == {"false", "true"}:
            choices = ("false", "true")
        return cls(name, "choice", choices=choices)

    def position(self, value: Any) -> float:
        """Where `value` sits, 0 to 1 (0.5 when the axis holds one value); NaN for a value not on it."""
        if self.kind == "choice":
            text = value_text(value)
            if text not in self.choices:
                return math.nan
            return self.choices.index(text) / (len(self.choices) - 1) if len(self.choices) > 1 else 0.5
        if not is_number(value) or (self.kind == "log" and value <= 0):
            return math.nan
        low, high, v = self.low, self.high, float(value)
        if self.kind == "log":
            low, high, v = math.log10(low), math.log10(high), math.log10(v)
        return (v - low) / (high - low) if high > low else 0.5

    def ticks(self) -> list[tuple[float, str]]:
        """(position, label) pairs: each word, each value tried when they are few, else round values."""
        if self.kind == "choice":
            return [(self.position(c), c) for c in self.choices]
        if len(self.choices) <= LISTED_VALUES:
            values = list(self.choices)
        elif self.kind == "log":
            decades = range(math.ceil(math.log10(self.low) - 1e-9), math.floor(math.log10(self.high) + 1e-9) + 1)
            values = [10.0**d for d in decades] if len(decades) >= 2 else [self.low, self.high]
        else:
            values = round_ticks(self.low, self.high, integer=self.integer)
        as_int = self.integer
        return _spaced([(self.position(v), value_text(round(v) if as_int else v)) for v in values])


def _spaced(ticks: list[tuple[float, str]], gap: float = 0.08) -> list[tuple[float, str]]:
    """The ticks whose labels would not print over one another: each at least `gap` (of the axis) from the
    one kept before it, the last one always kept (random values can fall close together)."""
    ordered = sorted(ticks)
    kept: list[tuple[float, str]] = []
    for i, tick in enumerate(ordered):
        if kept and tick[0] - kept[-1][0] < gap:
            if i < len(ordered) - 1:
                continue
            kept.pop()  # the axis' end is named rather than the value just before it
        kept.append(tick)
    return kept


class MetricScale(SweptScale):
    """The metric's axis: plain; its ticks the lowest and highest values reached, written as the metric is
    (95.3%), and round values between them that are not too close to those."""

    def ticks(self) -> list[tuple[float, str]]:
        ends = sorted(set(self.choices[:1] + self.choices[-1:]))
        near = 0.08 * (self.high - self.low)  # a round value this close to an end would print over it
        between = [v for v in round_ticks(self.low, self.high) if all(abs(v - end) > near for end in ends)]
        ticks = [(self.position(v), metric_text(self.name, v)) for v in ends]
        if self.name.endswith("accuracy"):  # round figures, so no 94.0%
            return ticks + [(self.position(v), f"{round(v * 100, 6):g}%") for v in between]
        return ticks + [(self.position(v), metric_text(self.name, v)) for v in between]


def metric_scale_of(metric: str, values: Sequence[float]) -> MetricScale:
    """The metric's axis over the values the runs reached."""
    return MetricScale(metric, "lin", min(values), max(values), tuple(sorted(set(values))))
