"""A run's record made from its events, so what the run history keeps depends on the run alone.

`netbuilder train` and the window's Training room feed the same RunRecorder with the run's events (RunStart,
Progress, EpochEnd, Outcome) and keep the RunRecord it makes: one format for a run, wherever it ran, and the
same record whether or not any curve was drawn.
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Callable
from typing import Any

from netbuilder.project.run_events import EpochEnd, Outcome, Progress, RunStart
from netbuilder.project.run_history import RunRecord, coarsen
from netbuilder.project.settings import TrainingSettings

SMOOTHING = 0.8  # weight of the past in the smoothed step loss (debiased, as TensorBoard draws it)


def epoch_entry(event: EpochEnd) -> dict[str, Any]:
    """An epoch's end as the run history keeps it (and as the engine keeps it in its own history): epoch,
    train_loss, train_accuracy, val_loss, val_<metric>..., learning_rate."""
    return {
        "epoch": event.epoch,
        "train_loss": event.train_loss,
        "train_accuracy": event.train_accuracy,
        "val_loss": event.val_loss,
        **{f"val_{name}": value for name, value in event.val_metrics.items()},
        "learning_rate": event.learning_rate,
    }


class LossSmoother:
    """The smoothed step loss: an exponential moving average of the finite losses, debiased so it starts at
    the first loss rather than near 0. A step whose loss is not finite keeps the average (NaN before any)."""

    def __init__(self, smoothing: float = SMOOTHING) -> None:
        self.smoothing = smoothing
        self._average = 0.0
        self._count = 0

    def add(self, loss: float) -> float:
        """The smoothed loss after this step's `loss`."""
        if math.isfinite(loss):
            self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
            self._count += 1
        return self._average / (1 - self.smoothing**self._count) if self._count else math.nan


class RunRecorder:
    """Listens to one run and makes its RunRecord.

    `add` takes the run's events in order: RunStart (the device, and the epochs already done when the run goes
    on from a checkpoint), Progress (every step's loss, smoothed here), EpochEnd (one history entry each) and
    the Outcome. `record` then makes the RunRecord, given where the run's files were kept (paths relative to
    the runs folder, see RunHistory.relative). `clock` is the wall clock, for `started` and `seconds`.
    `project` is the project as its file holds it when the run starts (what the Runs view compares and opens),
    `sweep` the sweep the run belongs to (see RunRecord).
    """

    def __init__(
        self,
        run_id: str,
        settings: TrainingSettings,
        *,
        project: dict[str, Any] | None = None,
        sweep: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.run_id = run_id
        self.settings = settings
        self.project = project
        self.sweep = sweep
        self.clock = clock
        self.started = clock()
        self.device = ""
        self.history: list[dict[str, Any]] = []
        self.outcome: Outcome | None = None
        self._smoother = LossSmoother()
        # every step's smoothed loss until the run ends, compactly: a long run has hundreds of thousands
        self._steps = array("d")
        self._losses = array("d")

    def add(self, event: RunStart | Progress | EpochEnd | Outcome) -> None:
        """Take the run's next event."""
        if isinstance(event, Progress):
            first = event.global_step - len(event.losses) + 1
            for step, loss in enumerate(event.losses, start=first):
                self._steps.append(step)
                self._losses.append(self._smoother.add(loss))
        elif isinstance(event, EpochEnd):
            self.history.append(epoch_entry(event))
        elif isinstance(event, RunStart):
            self.device = event.device
            self.history = [dict(entry) for entry in event.history]
        elif isinstance(event, Outcome):
            self.outcome = event

    def record(self, *, weights: str | None = None, checkpoint: str | None = None) -> RunRecord:
        """The run as it ended; ValueError before its Outcome was heard."""
        outcome = self.outcome
        if outcome is None:
            raise ValueError("the run has not ended: no Outcome yet")
        return RunRecord(
            run_id=self.run_id,
            status=outcome.status,
            message=outcome.message,
            started=self.started,
            seconds=self.clock() - self.started,
            device=self.device,
            settings=self.settings.to_dict(),
            epochs_done=outcome.epochs_done,
            global_step=outcome.global_step,
            history=[dict(entry) for entry in self.history],
            steps=coarsen(self._steps, self._losses),
            final=dict(outcome.val_metrics),
            confusion=[list(row) for row in outcome.confusion] if outcome.confusion else None,
            report=outcome.report,
            class_names=list(outcome.class_names),
            weights=weights,
            checkpoint=checkpoint,
            project=self.project,
            sweep=self.sweep,
        )
