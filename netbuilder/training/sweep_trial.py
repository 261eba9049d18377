"""One run of a sweep through the engine, as the sweep's queue runs it in its own process and as a worker process
runs it when several run at once (netbuilder.training.sweep_workers): the same code either way, so a run trains
alike wherever it runs.

The run is described by plain data (`TrialJob`: the run's project as its file holds it, the epochs it trains
to, where it goes on from and where its files go), so it can be sent to another process as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from netbuilder.project import Project, project_from_dict
from netbuilder.project.run_events import Outcome
from netbuilder.training.checkpoint_file import CheckpointError, WriteError
from netbuilder.training.control import Control
from netbuilder.training.engine import Trainer
from netbuilder.training.program import ProgramError
from netbuilder.training.tensorboard_log import TensorBoardLog


@dataclass(frozen=True)
class TrialJob:
    """One run of a trial: its project as the project file holds it (`project_to_dict`, the trial's values set)
    and the file's path (relative data paths are read from beside it), the epochs it trains to and those it
    already has, the checkpoint it goes on from (None: from the start), the folder its checkpoints go to, where
    its weights are saved, and the folder of its TensorBoard events with the values it tried (None: no log).
    Paths are strings: the job crosses to a worker process as plain data."""

    project: dict[str, Any]
    path: str | None
    epochs: int
    done: int = 0
    resume: str | None = None
    checkpoints: str | None = None
    weights: str | None = None
    tensorboard: str | None = None
    swept: dict[str, Any] = field(default_factory=dict)

    def the_project(self) -> Project:
        return project_from_dict(self.project, Path(self.path) if self.path else None)


def run_trial(
    job: TrialJob, control: Control, heard: Callable[[Any], None], project: Project | None = None
) -> tuple[Outcome, Path | None]:
    """Train the run `job` describes (its `project` already made, where the caller has it) until its epochs, a
    stop by `control`, or a failure; `heard` hears RunStart and then each of the engine's events. Returns how
    it ended (a run that could not start, or whose weights could not be written, says why in it) and where
    its weights were saved (None when it failed or saves none)."""
    resume = Path(job.resume) if job.resume else None
    try:
        trainer = Trainer(project or job.the_project(), resume=resume, resume_name=f"the sweep's checkpoint {resume}")
    except (ProgramError, CheckpointError, ValueError, OSError) as err:  # no GPU for cuda, a lost checkpoint
        return Outcome("failed", str(err), job.done), None
    # a rung of successive halving ends early, but the schedule (a cosine's length, say) is the whole run's,
    # so the first epochs of a halted run are those of a run that went on
    trainer.epochs = job.epochs
    heard(trainer.run_start(resumed=resume is not None))
    log = TensorBoardLog(Path(job.tensorboard), trainer, swept=job.swept) if job.tensorboard else None

    def on_event(event: Any) -> None:
        if log is not None:
            log(event)
        heard(event)

    try:
        outcome = trainer.run(on_event, control, checkpoint_dir=Path(job.checkpoints) if job.checkpoints else None)
    finally:
        if log is not None:
            log.close()
    if outcome.status == "failed" or job.weights is None:
        return outcome, None
    try:
        return outcome, trainer.save_weights(Path(job.weights))
    except WriteError as err:
        return replace(outcome, message=f"{outcome.message}; {err}" if outcome.message else str(err)), None
