"""A run's TensorBoard event files, written as it goes: a listener of the engine's events (Progress, EpochEnd,
Outcome) for the window and `netbuilder train`.

It writes with torch.utils.tensorboard's SummaryWriter (the tensorboard package's format, never our own) and the
tag scheme of codegen/tensorboard_summaries.py, whose functions the exported train.py carries too: every step's
loss, each epoch's figures and learning rate, at the end the final figures with the run's hyperparameters, and
the model's graph before the first step. torch.utils.tensorboard loads only when a log is made (it is slow
to import, and the window never needs it at start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from netbuilder.codegen.tensorboard_summaries import log_epoch, log_graph, log_run_end, log_step_losses, run_hparams
from netbuilder.project.run_events import EpochEnd, Outcome, Progress
from netbuilder.project.run_recorder import epoch_entry
from netbuilder.training.engine import Trainer

# Events wait in memory for the writer's thread; a small queue makes every step's loss wait for the disk
QUEUED_EVENTS = 100_000


class TensorBoardLog:
    """Writes one run of `trainer` into `folder` (made if missing): call it with each event of the run. The
    Outcome writes the hyperparameters (the training settings, the optimizer's class and rate, and `swept`, the
    values a sweep chose by what they set) with the final figures, then closes the files; `close` does too,
    for a run that ends without one. `note` is one line when the model's graph could not be written."""

    def __init__(self, folder: Path, trainer: Trainer, *, swept: dict[str, Any] | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.folder = folder
        self.writer = SummaryWriter(str(folder), max_queue=QUEUED_EVENTS)
        self.hparams = run_hparams(trainer.settings.to_dict(), trainer.optimizer, swept or {})
        self.note = log_graph(self.writer, trainer.model, example_batch(trainer))
        self.closed = False

    def __call__(self, event: object) -> None:
        if self.closed:
            return
        if isinstance(event, Progress):
            log_step_losses(self.writer, event.losses, event.global_step - len(event.losses) + 1)
        elif isinstance(event, EpochEnd):
            log_epoch(self.writer, epoch_entry(event))
            self.writer.flush()  # a run killed later keeps its epochs
        elif isinstance(event, Outcome):
            log_run_end(self.writer, self.hparams, event.val_metrics)
            self.close()

    def close(self) -> None:
        """Write what is queued and close the files (again: nothing)."""
        if not self.closed:
            self.closed = True
            self.writer.close()


def example_batch(trainer: Trainer) -> torch.Tensor:
    """One training sample as a batch, as the model takes it (on the run's device), to trace its graph with."""
    if trainer.streamed:
        script = trainer.program.script
        return next(script.batches(trainer.train_part, [0], 1, str(trainer.device), 0))[0]
    return trainer.train_x[:1]
