"""The Qt side of a sweep: the work of a BackgroundTask that runs `netbuilder.training.sweep.run_sweep` (each
trial through the engine, one after another, recorded into the project's run history) and turns what it hears
into Qt signals with plain payloads: a trial starting, its progress (throttled), a trial ending with its record.
With several runs at once (on a CUDA GPU, each in a process of its own) their progress comes interleaved, each
in a TrialEvent that names its trial.

torch is imported inside `run`, on the task's thread. Stop goes to the sweep's thread-safe Control: the run
going on stops as a run stops, and the trials after it are not started.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from netbuilder.project import Project, copy_project
from netbuilder.project.run_events import Progress
from netbuilder.project.run_history import RunHistory
from netbuilder.project.sweep_plan import SweepPlan
from netbuilder.ui.training.worker import THROTTLE_SECONDS, training_threads


class SweepWorker(QObject):
    """Runs the sweep `plan` over a snapshot of `project`, keeping each run in `history` (the Training dock's,
    so the runs show there and in the Runs view as they end). `run` is the work of a BackgroundTask and returns
    the SweepResult; it raises what the sweep raised (a plan refused, a project that cannot train). `stop` may
    be called from any thread.

    `history` is written on the task's thread; the window reads it only when `trial_ended` says a run was
    added (RunHistory swaps whole lists and items, which the window's reads see whole)."""

    sweep_started = Signal(object)  # SweepStart: its id, trials, rungs and the epochs of all its runs together
    trial_started = Signal(object)  # TrialStart: its index, the number of trials, its values and run id
    progress = Signal(object)  # TrialEvent of a trial's engine Progress: losses merged since the last signal
    trial_ended = Signal(object)  # TrialEnd: its index and its RunRecord, already in `history`

    def __init__(self, project: Project, plan: SweepPlan, history: RunHistory, parallel: int = 1) -> None:
        super().__init__()
        self.project = copy_project(project)  # the window may change the graph while the sweep runs
        self.plan = plan
        self.history = history
        self.parallel = parallel  # runs at once
        self._lock = threading.Lock()
        self._control = None  # the engine's Control, made on the task's thread
        self._stop_requested = False
        self._pending: dict[int, Any] = {}  # by trial: its TrialEvent of Progress not yet sent
        self._signals: dict[type, Signal] = {}  # the sweep's own events and the signal each goes out by
        self._last_sent = 0.0

    def stop(self) -> None:
        """End the run going on after its current step, and start no more."""
        with self._lock:
            self._stop_requested = True
            if self._control is not None:
                self._control.stop()

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    def run(self) -> Any:
        import torch

        from netbuilder.training.control import Control
        from netbuilder.training.sweep import SweepStart, TrialEnd, TrialStart, run_sweep

        self._signals = {SweepStart: self.sweep_started, TrialStart: self.trial_started, TrialEnd: self.trial_ended}

        torch.set_num_threads(training_threads())  # a core is left to the window, as for a run
        with self._lock:
            self._control = control = Control()
            if self._stop_requested:
                control.stop()
        try:
            return run_sweep(
                self.project,
                self.plan,
                history=self.history,
                listener=self._heard,
                control=control,
                parallel=self.parallel,
            )
        finally:
            self._flush()

    def _heard(self, event: Any) -> None:
        progress = getattr(event, "event", None)  # a TrialEvent's engine event
        if isinstance(progress, Progress):
            pending = self._pending.get(event.index)
            losses = (pending.event.losses if pending is not None else []) + list(progress.losses)
            self._pending[event.index] = replace(event, event=replace(progress, losses=losses))
            if time.perf_counter() - self._last_sent >= THROTTLE_SECONDS:
                self._flush()
            return
        signal = self._signals.get(type(event))
        if signal is not None:  # the engine's other events (epochs, gradients) the dialog does not show
            self._flush()
            signal.emit(event)

    def _flush(self) -> None:
        pending, self._pending = self._pending, {}
        if pending:
            self._last_sent = time.perf_counter()
        for event in pending.values():
            self.progress.emit(event)
