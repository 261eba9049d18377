"""What a project tells its listeners when something outside its graph changes: a training setting, the
starting weights, or the gaps a partial import left. Small immutable records holding the old and the new value,
as the graph's events do, so an undo stack can record them and invert them the same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netbuilder.project.import_gaps import ImportGap


@dataclass(frozen=True)
class SettingChanged:
    """One training setting (a TrainingSettings field) changed from `old` to `new`."""

    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class StartingWeightsChanged:
    """The project's starting weights file changed (None: training starts from the seed)."""

    old: Path | None
    new: Path | None


@dataclass(frozen=True)
class ImportGapsChanged:
    """The calls a partial import could not map that the project keeps: dropped (`new` empty) once the gaps are
    filled or the person dismisses them, or given back by an undo."""

    old: tuple[ImportGap, ...]
    new: tuple[ImportGap, ...]


ProjectEvent = SettingChanged | StartingWeightsChanged | ImportGapsChanged
