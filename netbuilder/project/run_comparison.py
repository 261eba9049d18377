"""Runs compared: which metric is better which way, a run's final and best figure, the best run of several, and
what differs between the project a run trained and another (the current graph, or another run's).

One set of rules for the Runs view, the sweep's table and plot, and `netbuilder sweep`: a metric named `*loss`,
`*mae` or `*rmse` is better lower, every other (accuracy, R²) better higher. Projects are compared as their
files hold them (`project_to_dict`), so a run's record, which keeps that dict, compares without loading it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from netbuilder.project.run_history import RunRecord

_LOWER_IS_BETTER = ("loss", "mae", "rmse")
# the order a metric chooser offers them in: the headline figure first
_PREFERRED = ("val_accuracy", "val_r2", "val_mae", "val_loss", "val_top5_accuracy", "val_rmse", "train_loss")


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of `metric` (a history key such as val_accuracy or val_loss) is the better one."""
    return not metric.endswith(_LOWER_IS_BETTER)


def metric_choices(records: Iterable[RunRecord]) -> list[str]:
    """The metrics the runs' histories hold, the headline one first: val_accuracy for classifiers, val_r2 for
    regression, then the losses and the rest."""
    seen: set[str] = set()
    for record in records:
        for entry in record.history:
            seen |= {k for k, v in entry.items() if k.startswith(("val_", "train_")) and isinstance(v, int | float)}
    return [m for m in _PREFERRED if m in seen] + sorted(seen - set(_PREFERRED))


def final_value(record: RunRecord, metric: str) -> float | None:
    """The run's last finite value of `metric` (its final validation), or None when it has none."""
    values = _values(record, metric)
    return values[-1] if values else None


def best_value(record: RunRecord, metric: str) -> float | None:
    """The run's best value of `metric` over its epochs, or None when it has none."""
    values = _values(record, metric)
    if not values:
        return None
    return max(values) if higher_is_better(metric) else min(values)


def best_run(records: Sequence[RunRecord], metric: str, *, final: bool = True) -> RunRecord | None:
    """The run with the best final (or, with `final` False, best-ever) value of `metric`; the earlier of equal
    runs; None when no run has the metric."""
    value = final_value if final else best_value
    scored = [(v, i) for i, record in enumerate(records) if (v := value(record, metric)) is not None]
    if not scored:
        return None
    sign = -1.0 if higher_is_better(metric) else 1.0
    return records[min(scored, key=lambda pair: (sign * pair[0], pair[1]))[1]]


def _values(record: RunRecord, metric: str) -> list[float]:
    values = [entry.get(metric) for entry in record.history]
    return [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]


@dataclass(frozen=True)
class Change:
    """One difference between two projects. `kind` is "setting" (a training setting), "parameter" (a block
    parameter of node `where`), "added" / "removed" (a node), "block" (a node's block type), "connections"
    (edges of `where`) or "definition" (the inside of composite block `where`); `name`, `before`, `after` say
    which value went from what to what."""

    kind: str
    where: str
    name: str = ""
    before: Any = None
    after: Any = None

    def words(self) -> str:
        """The change as a line: "fc1.out_features 64 → 128", "added fc3 (Linear)"."""
        if self.kind == "setting":
            return f"{self.name} {_shown(self.before)} → {_shown(self.after)}"
        if self.kind == "parameter":
            return f"{self.where}.{self.name} {_shown(self.before)} → {_shown(self.after)}"
        if self.kind in ("added", "removed"):
            return f"{self.kind} {self.where} ({self.name})"
        if self.kind == "block":
            return f"{self.where} {self.before} → {self.after}"
        if self.kind == "connections":
            return f"connections changed in {self.where}"
        return f"inside of {self.where} changed"

    @property
    def key(self) -> str:
        """What a swept value names: "fc1.out_features", "batch_size"."""
        return f"{self.where}.{self.name}" if self.kind == "parameter" else self.name


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """What differs from project `before` to project `after` (each as its file holds it): training settings,
    then each node's block type and parameters (nodes matched by id, named by their label in `after`), nodes
    added and removed, the connections, and the composite blocks whose inside changed. Empty when either is
    None (an older record keeps no project)."""
    if before is None or after is None:
        return []
    found = _setting_changes(before.get("training") or {}, after.get("training") or {})
    found += _graph_changes(before.get("graph") or {}, after.get("graph") or {}, "the network")
    old_defs = {d.get("name"): d for d in before.get("definitions") or [] if isinstance(d, dict)}
    for definition in after.get("definitions") or []:
        name = definition.get("name")
        if name in old_defs and _comparable(old_defs[name]) != _comparable(definition):
            found.append(Change("definition", str(name)))
    return found


def _setting_changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    return [
        Change("setting", "training", name, before.get(name), after.get(name))
        for name in after
        if name in before and before[name] != after[name]
    ]


def _graph_changes(before: dict[str, Any], after: dict[str, Any], where: str) -> list[Change]:
    old = {n["id"]: n for n in before.get("nodes") or [] if isinstance(n, dict) and "id" in n}
    new = {n["id"]: n for n in after.get("nodes") or [] if isinstance(n, dict) and "id" in n}
    found: list[Change] = []
    for node_id, node in new.items():
        label = str(node.get("label") or node_id)
        if node_id not in old:
            found.append(Change("added", label, str(node.get("block", ""))))
            continue
        was = old[node_id]
        if was.get("block") != node.get("block"):
            found.append(Change("block", label, "", was.get("block"), node.get("block")))
            continue
        old_params, new_params = was.get("params") or {}, node.get("params") or {}
        for name in [*new_params, *(name for name in old_params if name not in new_params)]:
            if old_params.get(name) != new_params.get(name):
                found.append(Change("parameter", label, name, old_params.get(name), new_params.get(name)))
    for node_id, node in old.items():
        if node_id not in new:
            found.append(Change("removed", str(node.get("label") or node_id), str(node.get("block", ""))))
    if _edges(before) != _edges(after):
        found.append(Change("connections", where))
    return found


def _edges(graph: dict[str, Any]) -> set[str]:
    return {repr(edge) for edge in graph.get("edges") or []}


def _comparable(definition: dict[str, Any]) -> Any:
    """A definition without its nodes' positions, which move without changing the network."""
    nodes = [
        {k: v for k, v in n.items() if k != "position"} for n in definition.get("nodes") or [] if isinstance(n, dict)
    ]
    return {**{k: v for k, v in definition.items() if k != "nodes"}, "nodes": nodes}


def _shown(value: Any) -> str:
    """A value as a change shows it: numbers in short form, None as "auto" (an inferred size)."""
    if value is None:
        return "auto"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
