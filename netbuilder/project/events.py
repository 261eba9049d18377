"""What a project tells its listeners when something outside its graph changes: a training setting, or the
starting weights. Small immutable records holding the old and the new value, as the graph's events do, so an
undo stack can record them and invert them the same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


ProjectEvent = SettingChanged | StartingWeightsChanged
