"""A sweep's plan: which block parameters and training settings take which values, and the runs that follow.

An axis is written as `netbuilder sweep --set` takes it, `TARGET=SPEC`: the target is a node's label and one of
its block's parameters ("fc1.out_features", "optimizer.lr") or a training setting ("batch_size", also written
"training.batch_size"); the spec is a list of values ("64,128,256", "relu,gelu"), a range with steps
("1e-4:1e-1:log:8", "0:0.5:lin:6") or random samples from a range ("1e-4:1e-1:lograndom:8", "16:256:random:5").
A plan crosses its axes (grid search, the first axis varying slowest) or draws runs at random from them, at most
`budget` runs either way, and is deterministic: the same plan on the same project gives the same trials.

Every value is checked by the rule that checks it in the window (the block's ParamSpec, the SettingSpec), so a
sweep is refused before anything trains, in one line naming the target and what it takes.
"""

from __future__ import annotations

import difflib
import math
import random
from dataclasses import dataclass, replace
from typing import Any

from netbuilder.analysis import analyze
from netbuilder.blocks.spec import ParamError, ParamSpec
from netbuilder.graph import Graph
from netbuilder.graph.errors import GraphError
from netbuilder.project.errors import SettingsError
from netbuilder.project.project import Project
from netbuilder.project.project_file import copy_project
from netbuilder.project.settings import SETTING, SETTINGS, SettingSpec
from netbuilder.quoting import cut, quoted

MAX_TRIALS = 1000  # runs in one plan; also the most points an axis may give
LIST_SCALE = ""  # an axis of listed values has no scale
RANGE_SCALES = ("lin", "log")  # evenly spaced points, log-evenly for log
RANDOM_SCALES = ("random", "lograndom")  # uniform draws, log-uniform for lograndom
SEARCHES = ("grid", "random")
# the metrics a run's history can hold, as the engine names them (run_comparison says which way is better)
METRICS = (
    "val_accuracy",
    "val_top5_accuracy",
    "val_loss",
    "val_mae",
    "val_rmse",
    "val_r2",
    "train_loss",
    "train_accuracy",
)
SPEC_SYNTAX = "a list (64,128,256), a range LOW:HIGH:lin|log:COUNT or random samples LOW:HIGH:random|lograndom:COUNT"
_SIGNIFICANT = 12  # digits a computed point keeps: 1e-3 rather than 0.0010000000000000002
_SETTING_PREFIX = "training."

INTEGER, NUMBER, CHOICE, BOOL = "integer", "number", "choice", "bool"


class SweepError(ValueError):
    """A plan, an axis or a value that cannot be swept: one line saying what is wrong and what to write."""


@dataclass(frozen=True)
class Axis:
    """One swept target and the values it takes: `values` (a list, in the order given), or a range from `low`
    to `high` with `count` points whose `scale` is "lin" / "log" (evenly spaced) or "random" / "lograndom"
    (drawn)."""

    target: str
    values: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    count: int = 0
    scale: str = LIST_SCALE

    @classmethod
    def parse(cls, text: str) -> Axis:
        """An axis from "TARGET=SPEC"; SweepError (one line, with the syntax) when it is not one."""
        target, equals, spec = text.partition("=")
        target, spec = target.strip(), spec.strip()
        if not equals or not target or not spec:
            raise SweepError(f"{cut(text)}: expected TARGET=VALUES, such as fc1.out_features=64,128 ({SPEC_SYNTAX})")
        if target.startswith(_SETTING_PREFIX) and target[len(_SETTING_PREFIX) :] in SETTING:
            target = target[len(_SETTING_PREFIX) :]  # one name for a setting, as run_comparison keys it
        if ":" in spec:
            return cls._parse_range(target, spec)
        values = tuple(_literal(item.strip()) for item in spec.split(","))
        if any(value == "" for value in values):
            raise SweepError(f"{target}={cut(spec)}: an empty value; expected {SPEC_SYNTAX}")
        if len(values) > MAX_TRIALS:
            raise SweepError(f"{target}: {len(values)} values; at most {MAX_TRIALS}")
        seen: set[tuple[bool, Any]] = set()
        for value in values:
            key = (isinstance(value, bool), value)  # 64 and 64.0 are one value, true and 1 are not
            if key in seen:
                raise SweepError(f"{target}: {cut(_text(value))} is given twice; give each value once")
            seen.add(key)
        return cls(target, values=values)

    @classmethod
    def _parse_range(cls, target: str, spec: str) -> Axis:
        parts = [part.strip() for part in spec.split(":")]
        if len(parts) != 4:
            raise SweepError(f"{target}={cut(spec)}: expected {SPEC_SYNTAX}")
        low, high, scale, count = _literal(parts[0]), _literal(parts[1]), parts[2], _literal(parts[3])
        if scale not in RANGE_SCALES + RANDOM_SCALES:
            close = difflib.get_close_matches(scale, RANGE_SCALES + RANDOM_SCALES, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise SweepError(f"{target}: unknown scale {cut(scale)}; {hint}expected lin, log, random or lograndom")
        for name, bound in (("low", low), ("high", high)):
            if not _is_number(bound) or not math.isfinite(bound):
                raise SweepError(
                    f"{target}: the range's {name} end {cut(parts[0 if name == 'low' else 1])} is not a number"
                )
        if not (type(count) is int and 1 <= count <= MAX_TRIALS):
            raise SweepError(f"{target}: the count {cut(parts[3])} must be a whole number from 1 to {MAX_TRIALS}")
        if not low < high:
            raise SweepError(
                f"{target}: the range must go up (LOW:HIGH with LOW below HIGH), got {parts[0]}:{parts[1]}"
            )
        if scale in ("log", "lograndom") and low <= 0:
            raise SweepError(f"{target}: a log range needs a low end above 0, got {parts[0]}")
        return cls(target, low=low, high=high, count=count, scale=scale)

    def text(self) -> str:
        """The axis as it is typed ("optimizer.lr=0.0001:0.1:log:8"); Axis.parse reads it back the same."""
        if self.scale == LIST_SCALE:
            return f"{self.target}=" + ",".join(_text(value) for value in self.values)
        return f"{self.target}={_text(self.low)}:{_text(self.high)}:{self.scale}:{self.count}"

    def __str__(self) -> str:
        return self.text()

    @property
    def random(self) -> bool:
        """Whether the axis draws its values (random or lograndom) rather than listing or spacing them."""
        return self.scale in RANDOM_SCALES

    def size(self) -> int:
        """How many points the axis gives (a log range of an integer target may give fewer, see points)."""
        return len(self.values) if self.scale == LIST_SCALE else self.count

    def points(self, rng: random.Random, *, integer: bool = False) -> list[Any]:
        """The values the axis gives: its list; a range's `count` points from low to high, evenly spaced (for
        log, evenly in the logarithm); random samples drawn from `rng` (uniform, or log-uniform). With
        `integer` (an integer target) computed points are rounded, and a range keeps each integer once."""
        if self.scale == LIST_SCALE:
            return list(self.values)
        if self.random:
            drawn = [self.draw(rng) for _ in range(self.count)]
            return [round(v) for v in drawn] if integer else drawn
        n = self.count
        fractions = [i / (n - 1) for i in range(n)] if n > 1 else [0.0]
        if self.scale == "log":
            points = [_clean(self.low * (self.high / self.low) ** f) for f in fractions]
        else:
            points = [_clean(self.low + (self.high - self.low) * f) for f in fractions]
        if integer:
            return list(dict.fromkeys(round(p) for p in points))
        return points

    def draw(self, rng: random.Random) -> float:
        """One value drawn from the range: uniform, or for lograndom uniform in the logarithm."""
        if self.scale == "lograndom":
            return _clean(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return _clean(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class Trial:
    """One run of a sweep: its place in the plan (`index`, from 0) and the values it sets, by target, typed as
    the target takes them."""

    index: int
    values: dict[str, Any]


@dataclass(frozen=True)
class SweepTarget:
    """Something a sweep can set: its `target` name, `label` in words, `kind` ("integer", "number", "choice",
    "bool"), `current` value in the project and, for a choice, its `choices`."""

    target: str
    label: str
    kind: str
    current: Any
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepPlan:
    """A sweep: its axes, grid or random `search`, at most `budget` runs (a grid larger than the budget becomes
    a seeded random subset of it; a random search draws that many), the `epochs` each run trains (None: the
    project's), successive `halving` (every trial trains a first rung of epochs, the better half by `metric`
    goes on for twice as many, until `epochs`), the sweep's own `seed` for its random draws (each run trains
    with the project's seed unless the seed itself is swept), and the `metric` that ranks runs (None: the
    headline metric, see run_comparison.metric_choices)."""

    axes: tuple[Axis, ...]
    search: str = "grid"
    budget: int | None = None
    epochs: int | None = None
    halving: bool = False
    seed: int = 0
    metric: str | None = None

    def __post_init__(self) -> None:
        if not self.axes:
            raise SweepError(f"nothing to sweep: give at least one TARGET=VALUES ({SPEC_SYNTAX})")
        targets = [axis.target for axis in self.axes]
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise SweepError(f"{twice[0]} is swept twice: give all its values in one TARGET=VALUES")
        if self.search not in SEARCHES:
            raise SweepError(f"unknown search {quoted(str(self.search))}: expected grid or random")
        if self.budget is not None and not (type(self.budget) is int and 1 <= self.budget <= MAX_TRIALS):
            raise SweepError(f"the budget must be a whole number of runs from 1 to {MAX_TRIALS}, got {self.budget}")
        if self.search == "random" and self.budget is None:
            raise SweepError("a random search needs a budget: how many runs to draw")
        if self.epochs is not None:
            try:
                SETTING["epochs"].check(self.epochs)
            except SettingsError as err:
                raise SweepError(f"epochs: {err.reason}") from None
        if "epochs" in targets and (self.epochs is not None or self.halving):
            raise SweepError("epochs is swept: leave out the sweep's epochs and halving, or do not sweep it")
        if self.metric is not None and self.metric not in METRICS:
            close = difflib.get_close_matches(self.metric, METRICS, n=3)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise SweepError(f"unknown metric {quoted(self.metric)}; {hint}expected one of {', '.join(METRICS)}")
        if self.search == "grid" and self.budget is None:
            size = math.prod(axis.size() for axis in self.axes)
            if size > MAX_TRIALS:
                raise SweepError(f"the grid has {size:,} runs, more than {MAX_TRIALS:,}: give fewer values or a budget")

    def trials(self, project: Project) -> list[Trial]:
        """The runs of the sweep on `project`, in order, each value checked and typed by its target's rule;
        the same list for the same plan and project. SweepError when a target or a value is wrong."""
        targets = {target.target: target for target in sweep_targets(project, unused=True)}
        integer = {axis.target: _resolve(axis.target, targets).kind == INTEGER for axis in self.axes}
        rng = random.Random(self.seed)
        columns = [
            [] if axis.random and self.search == "random" else _points(axis, project, rng, integer[axis.target])
            for axis in self.axes
        ]
        if self.search == "random" and any(axis.random for axis in self.axes):
            return [Trial(i, self._draw(project, rng, columns, integer)) for i in range(self.budget or 0)]
        size = math.prod(len(points) for points in columns)
        budget = size if self.budget is None else self.budget
        if self.search == "random":
            chosen: Any = rng.sample(range(size), min(budget, size))  # in the order drawn
        elif budget < size:
            chosen = sorted(rng.sample(range(size), budget))  # a subset of the grid, in grid order
        else:
            chosen = range(size)
        return [Trial(i, _grid_point(index, columns, self.axes)) for i, index in enumerate(chosen)]

    def _draw(
        self, project: Project, rng: random.Random, columns: list[list[Any]], integer: dict[str, bool]
    ) -> dict[str, Any]:
        """One run of a random search with a random axis: each random axis draws afresh (its count is what a
        grid search would use), each other axis gives one of its points at random."""
        values = {}
        for axis, points in zip(self.axes, columns, strict=True):
            if axis.random:
                value = axis.draw(rng)
                values[axis.target] = _checked(axis.target, project, round(value) if integer[axis.target] else value)
            else:
                values[axis.target] = rng.choice(points)
        return values

    def rungs(self, trials: int, epochs: int) -> list[tuple[int, int]]:
        """Successive halving's rungs for `trials` runs of `epochs` (the plan's, else the project's): (epochs
        a run has trained by the rung's end, runs in the rung), the epochs doubling up to `epochs` while the
        runs halve (the better half goes on) down to one; one rung of every run without halving."""
        if not self.halving or trials < 2 or epochs < 2:
            return [(epochs, trials)]
        count = 1 + min(int(math.log2(trials)), int(math.log2(epochs)))
        return [(epochs // 2 ** (count - 1 - k), max(1, trials >> k)) for k in range(count)]


def sweep_targets(project: Project, *, unused: bool = False) -> list[SweepTarget]:
    """Everything a sweep can set in `project`: each block parameter of the top graph that a person sets (not
    a size inferred from the input, not text such as a dataset's folder, not a list of sizes), by node in the
    graph's order, then the training settings. Parameters that do nothing with the node's other values (a
    schedule's step_size while the schedule is none) are left out unless `unused`: a sweep may still set
    them, with the value that makes them count."""
    found: list[SweepTarget] = []
    graph = project.graph
    for node in graph.nodes.values():
        spec = graph.block_spec(node.block)
        for param in spec.params:
            kind = _param_kind(param)
            if kind is None or not (unused or param.relevant(node.params)):
                continue
            found.append(
                SweepTarget(
                    f"{node.label}.{param.name}",
                    f"{node.label}'s {param.name}",
                    kind,
                    node.params.get(param.name),
                    param.choices if kind == CHOICE else (),
                )
            )
    for setting in SETTINGS:
        found.append(
            SweepTarget(
                setting.name, setting.label, setting.kind, getattr(project.training, setting.name), setting.choices
            )
        )
    return found


def with_values(project: Project, values: dict[str, Any]) -> Project:
    """A copy of `project` (the original is not touched) with `values` set, by target, each checked as the
    inspector and the Training dock check them; SweepError naming the target when one is refused."""
    copy = copy_project(project)
    training = copy.training
    for target, value in values.items():
        if target in SETTING:
            try:
                training = replace(training, **{target: value})
            except SettingsError as err:
                raise SweepError(f"{target}={cut(_text(value))}: {err.reason}") from None
            continue
        label, _, name = target.rpartition(".")
        node = _node(copy.graph, label, target)
        try:
            copy.graph.set_param(node, name, value)
        except GraphError as err:
            raise SweepError(f"{target}={cut(_text(value))}: {err}") from None
    return replace(copy, training=training)


def trial_project(project: Project, trial: Trial, epochs: int | None = None) -> Project:
    """The project one trial trains: a copy with the trial's values set, and `epochs` (the plan's) when
    given; SweepError when a value is refused."""
    values = trial.values if epochs is None else {**trial.values, "epochs": epochs}
    return with_values(project, values)


def check_trials(project: Project, plan: SweepPlan) -> list[Trial]:
    """The trials of `plan`, each checked as training checks a run before it starts (the analysis' errors), so
    a sweep is refused whole before its first run rather than failing half-way: SweepError naming the first
    trial that cannot train and why. The network is built and analysed once for all the trials that set the
    same block parameters (settings alone were checked with the values)."""
    checked: dict[tuple[Any, ...], str] = {}
    trials = plan.trials(project)
    for trial in trials:
        graph_values = {k: v for k, v in trial.values.items() if k not in SETTING}
        key = tuple((k, repr(v)) for k, v in graph_values.items())
        if key not in checked:
            errors = analyze(with_values(project, graph_values).graph).errors(training=True)
            checked[key] = errors[0].message if errors else ""
        if checked[key]:
            raise SweepError(f"run {trial.index + 1} ({values_text(trial.values)}) cannot train: {checked[key]}")
    return trials


def values_text(values: dict[str, Any]) -> str:
    """A trial's values as a person types them: "optimizer.lr=0.001, fc1.out_features=64"."""
    return ", ".join(f"{target}={cut(_text(value))}" for target, value in values.items())


# ---- helpers -----------------------------------------------------------------------------------------------


def _param_kind(param: ParamSpec) -> str | None:
    """The kind a block parameter sweeps as, or None when it is not swept (inferred, text, a list of sizes)."""
    if param.inferred or param.kind in ("text", "ints"):
        return None
    return {"int": INTEGER, "int_per_dim": INTEGER, "float": NUMBER, "bool": BOOL, "choice": CHOICE}[param.kind]


def _points(axis: Axis, project: Project, rng: random.Random, integer: bool) -> list[Any]:
    """The axis' points, each checked and typed by its target's rule."""
    return [_checked(axis.target, project, value) for value in axis.points(rng, integer=integer)]


def _resolve(target: str, targets: dict[str, SweepTarget]) -> SweepTarget:
    if target in targets:
        return targets[target]
    close = difflib.get_close_matches(target, list(targets), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise SweepError(
        f"nothing to sweep called {quoted(target)}: {hint}expected NODE.PARAMETER (fc1.out_features, optimizer.lr) "
        "or a training setting (batch_size)"
    )


def _checked(target: str, project: Project, value: Any) -> Any:
    """`value` as the target stores it, by the target's own rule (a SettingSpec, or the node's ParamSpec)."""
    if target in SETTING:
        spec: SettingSpec = SETTING[target]
        if spec.kind == NUMBER and type(value) is int:
            value = float(value)
        try:
            return spec.check(value)
        except SettingsError as err:
            raise SweepError(f"{target}={cut(_text(value))}: {err.reason}") from None
    label, _, name = target.rpartition(".")
    graph = project.graph
    param = graph.block_spec(graph.by_label(label).block).param(name)
    try:
        return param.validate(value)
    except ParamError as err:
        raise SweepError(f"{target}={cut(_text(value))}: {err}") from None


def _node(graph: Graph, label: str, target: str) -> str:
    try:
        return graph.by_label(label).id
    except GraphError:
        raise SweepError(f"nothing to sweep called {quoted(target)}: no node is labelled {quoted(label)}") from None


def _grid_point(index: int, columns: list[list[Any]], axes: tuple[Axis, ...]) -> dict[str, Any]:
    """The grid's `index`-th point, the first axis varying slowest."""
    values: dict[str, Any] = {}
    for axis, points in zip(reversed(axes), reversed(columns), strict=True):
        index, at = divmod(index, len(points))
        values[axis.target] = points[at]
    return {axis.target: values[axis.target] for axis in axes}


def _literal(text: str) -> Any:
    """A value as typed: an integer, a number, true / false, or a word."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _text(value: Any) -> str:
    """A value as it is typed back: true, 64, 0.001 (repr keeps every float exactly), relu."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _clean(value: float) -> float:
    """A computed point without the float noise of its arithmetic (1e-3, not 0.0010000000000000002)."""
    return float(f"{value:.{_SIGNIFICANT}g}")
