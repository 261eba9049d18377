"""Where one call of the engine's run() stands, for its reports."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from netbuilder.project.run_events import Listener
from netbuilder.training.control import Control


@dataclass
class Pace:
    """Where one call of run() stands, for its reports: the clock, time spent paused, steps taken, and this
    epoch's step losses on the device (read at most every engine.REPORT_SECONDS)."""

    emit: Listener
    control: Control
    max_steps: int | None
    losses: torch.Tensor
    reported: int  # steps of this epoch already reported
    started: float = field(default_factory=time.perf_counter)
    last_report: float = field(default_factory=time.perf_counter)
    epoch_started: float = 0.0
    paused_for: float = 0.0
    steps: int = 0
