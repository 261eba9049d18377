"""The Qt side of a training run: the work of a BackgroundTask that runs the plain training engine and turns
its callbacks into throttled Qt signals with plain Python payloads.

torch (through netbuilder.training) is imported inside `run`, on the task's thread, when Train is pressed:
the window never waits for it. Stop, pause and resume go straight to the engine's thread-safe Control.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from netbuilder.project import Project, copy_project, project_to_dict
from netbuilder.project.gradient_samples import GradientReport
from netbuilder.project.run_events import EpochEnd, Listener, Outcome, Progress
from netbuilder.project.run_recorder import RunRecorder

THROTTLE_SECONDS = 0.1  # the engine reports at most this often already; steps are merged to keep it so


@dataclass(frozen=True)
class RunEnd(Outcome):
    """How a run ended (the engine's Outcome) and the files it left."""

    weights: Path | None = None
    checkpoint: Path | None = None
    started: bool = False  # False when the run failed before its first step (the project could not train)


class TrainingWorker(QObject):
    """Runs one training of a snapshot of `project`: `run` is the work of a BackgroundTask, and returns how the
    run ended (a RunEnd, whatever happened). The worker stays on the window's thread; its signals, emitted on
    the task's thread, reach the window queued. `stop`, `pause` and `resume` may be called from any thread.

    Checkpoints (last.pt, best.pt) and the final weights (model.pt) go into `run_dir` when it is given;
    `resume_from` is a checkpoint to go on from. `recorder` hears every event of the engine, on the task's
    thread and before any throttling, and makes the run's record (`run_id`) from them: what the run history
    keeps never depends on what the window drew. With `tensorboard` (a folder) the run also writes TensorBoard
    event files there; a folder that cannot be written leaves the run without them."""

    started = Signal(object)  # RunStart: the data is on the device and the first step is about to run
    progress = Signal(object)  # engine Progress: losses of all steps since the previous signal (a list)
    epoch_ended = Signal(object)  # engine EpochEnd: mean training loss, validation metrics, learning rate
    gradients = Signal(object)  # GradientReport: per-layer gradient statistics sampled since the last one

    def __init__(
        self,
        project: Project,
        *,
        run_id: str = "",
        run_dir: Path | None = None,
        resume_from: Path | None = None,
        tensorboard: Path | None = None,
    ) -> None:
        super().__init__()
        self.project = copy_project(project)  # the run never reads a graph the window is changing
        self.recorder = RunRecorder(run_id, self.project.training, project=project_to_dict(self.project))
        self.run_dir = run_dir
        self.resume_from = resume_from
        self.tensorboard = tensorboard
        self._lock = threading.Lock()
        self._control = None  # the engine's Control, made on the worker's thread (it needs torch)
        self._stop_requested = False
        self._pause_requested = False
        self._pending = None  # a Progress not yet sent: the throttle merges the next ones into it
        self._last_sent = 0.0

    # ---- from any thread -------------------------------------------------------------------------------

    def stop(self) -> None:
        """End the run before its next step (a stopped run keeps a checkpoint to go on from)."""
        with self._lock:
            self._stop_requested = True
            if self._control is not None:
                self._control.stop()

    def pause(self) -> None:
        with self._lock:
            self._pause_requested = True
            if self._control is not None:
                self._control.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause_requested = False
            if self._control is not None:
                self._control.resume()

    @property
    def paused(self) -> bool:
        return self._pause_requested and not self._stop_requested

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    # ---- on the worker's thread ------------------------------------------------------------------------

    def run(self) -> RunEnd:
        try:
            return self._train()
        except Exception as err:  # whatever happens, the window hears how the run ended
            return RunEnd("failed", _first_line(f"training failed: {type(err).__name__}: {err}"))

    def _train(self) -> RunEnd:
        import torch

        from netbuilder.training.control import Control
        from netbuilder.training.out_of_memory import is_out_of_memory, out_of_memory_at_start, release_gpu_memory
        from netbuilder.training.program import ProgramError
        from netbuilder.training.worker_processes import new_trainer

        torch.set_num_threads(training_threads())  # for this thread's operations only (OpenMP's setting)

        with self._lock:
            if self._stop_requested:
                return RunEnd("stopped", "stopped before the first step")
            self._control = control = Control()
            if self._pause_requested:
                control.pause()
        try:
            resume = self.resume_from
            shown = f"the checkpoint {resume.parent.name}/{resume.name}" if resume is not None else None
            trainer = new_trainer(self.project, resume=resume, resume_name=shown)
        except ProgramError as err:
            return RunEnd("failed", str(err))
        except ValueError as err:  # a device that is not here, a checkpoint that cannot be gone on from
            return RunEnd("failed", str(err))
        except RuntimeError as err:  # no memory for the data or the model
            failure = _first_line(f"could not start: {err}")
            if is_out_of_memory(err):
                failure = out_of_memory_at_start()
        else:
            failure = ""
        if failure:
            release_gpu_memory()  # what the unfinished Trainer held
            return RunEnd("failed", failure)
        start = trainer.run_start(resumed=self.resume_from is not None)
        self.recorder.add(start)
        self.started.emit(start)
        log = self._tensorboard_log(trainer)
        listener = self._on_event if log is None else self._logged(log)
        try:
            outcome = trainer.run(listener, control, checkpoint_dir=self.run_dir)
        finally:
            if log is not None:  # its Outcome closed it, unless the run raised
                log.close()
        self._flush()
        weights = checkpoint = None
        message = outcome.message
        if self.run_dir is not None and outcome.status != "failed":
            try:
                weights = trainer.save_weights(self.run_dir / "model.pt")
            except OSError as err:
                message = (message + "; " if message else "") + f"the weights could not be saved: {err}"
            last = self.run_dir / "last.pt"
            checkpoint = last if last.is_file() else None
        outcome = replace(outcome, message=message)
        self.recorder.add(outcome)
        end = RunEnd(
            **{f.name: getattr(outcome, f.name) for f in fields(Outcome)},
            weights=weights,
            checkpoint=checkpoint,
            started=True,
        )
        del trainer
        _release_gpu_memory()
        return end

    def _tensorboard_log(self, trainer: Any) -> Any:
        """The run's TensorBoard log when asked for (torch.utils.tensorboard loads here); None otherwise, or when
        its folder cannot be written (the run goes on without it)."""
        if self.tensorboard is None:
            return None
        from netbuilder.training.tensorboard_log import TensorBoardLog

        try:
            return TensorBoardLog(self.tensorboard, trainer)
        except OSError:
            return None

    def _logged(self, log: Listener) -> Listener:
        """The listener of a run that writes TensorBoard logs: each event to the log, then as any run's."""

        def on_event(event: object) -> None:
            log(event)
            self._on_event(event)

        return on_event

    def _on_event(self, event: object) -> None:

        self.recorder.add(event)
        if isinstance(event, Progress):
            if self._pending is None:
                self._pending = replace(event, losses=list(event.losses))
            else:
                self._pending = replace(event, losses=self._pending.losses + list(event.losses))
            if time.perf_counter() - self._last_sent >= THROTTLE_SECONDS:
                self._flush()
        elif isinstance(event, EpochEnd):
            self._flush()
            self.epoch_ended.emit(replace(event, val_metrics=dict(event.val_metrics)))
        elif isinstance(event, Outcome):
            self._flush()
        elif isinstance(event, GradientReport):  # the engine sends one at most per report (every 0.1 s)
            self.gradients.emit(event)

    def _flush(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._last_sent = time.perf_counter()
            self.progress.emit(pending)


def training_threads() -> int:
    """CPU threads for a run in the window: all cores but one, which is left to the window.

    Besides keeping the window's frames on time, this avoids a trap: torch's OpenMP threads wait for each
    other by spinning, and when the window (or anything else) takes a core from one of them, every parallel
    operation waits for a time slice of the scheduler. On the 2-core development machine the same 60
    epochs took 3 s or 60-100 s depending on that."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(1, cores - 1)


def _release_gpu_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
