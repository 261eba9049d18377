"""A run of the window as the project's run history keeps it: the engine's epoch entries and the RunRecord
saved when a run ends (its settings, metrics, losses and the files it left beside the project)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from netbuilder.project import TrainingSettings
from netbuilder.project.run_history import RunRecord, coarsen
from netbuilder.ui.training.worker import RunEnd


def epoch_record(event: Any) -> dict[str, Any]:
    """An engine EpochEnd as the engine's own history entry."""
    return {
        "epoch": event.epoch,
        "train_loss": event.train_loss,
        "train_accuracy": event.train_accuracy,
        "val_loss": event.val_loss,
        **{f"val_{k}": v for k, v in event.val_metrics.items()},
        "learning_rate": event.learning_rate,
    }


def run_record(
    run_id: str,
    began: float,
    device: str,
    settings: TrainingSettings,
    end: RunEnd,
    steps: Sequence[float],
    losses: Sequence[float],
    folder: Path | None,
) -> RunRecord:
    """The record of a run that has ended: `steps` and `losses` are its smoothed loss curve, `folder` the
    runs folder beside the project that the record's file paths are relative to."""

    def relative(path: Path | None) -> str | None:
        if path is None or folder is None or not path.is_relative_to(folder):
            return None  # (saved elsewhere during the run: the record cannot point to it)
        return path.relative_to(folder).as_posix()

    return RunRecord(
        run_id=run_id,
        status=end.status,
        message=end.message,
        started=began,
        seconds=time.time() - began,
        device=device,
        settings=settings.to_dict(),
        epochs_done=end.epochs_done,
        global_step=end.global_step,
        history=end.history,
        steps=coarsen(steps, losses),
        final=dict(end.val_metrics),
        confusion=end.confusion,
        class_names=list(end.class_names),
        weights=relative(end.weights),
        checkpoint=relative(end.checkpoint),
    )
