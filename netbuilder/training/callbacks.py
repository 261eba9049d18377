"""What happens around the engine's epochs that is not training itself: stopping early and keeping checkpoints.

Each is a small object with its own state, called by the trainer at the end of every epoch and of every run,
as Lightning's EarlyStopping and ModelCheckpoint are: early stopping asks the trainer to stop, checkpoints
save the trainer's state. Their state goes into the trainer's checkpoints (numbers only, so
torch.load(..., weights_only=True) reads it back), so a resumed run stops and saves as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netbuilder.codegen.script_files import WRITING_SHARE
from netbuilder.training.checkpoint_file import on_host, save_file, save_same

if TYPE_CHECKING:
    from netbuilder.training.engine import Trainer


class Callback:
    """The hooks a trainer calls; each does nothing unless a callback overrides it."""

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """An epoch is done: `record` holds its metrics (`val_loss` None without a validation part)."""

    def on_run_end(self, trainer: Trainer, status: str) -> None:
        """A call of run() ends: completed, stopped, early-stopped or failed."""

    def state_dict(self) -> dict[str, float | int]:
        """The callback's state, under keys that no other part of a checkpoint uses."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take the state back from a whole checkpoint (keys missing from older checkpoints keep their start)."""


class EarlyStopping(Callback):
    """Stops the run once the validation loss has not improved for `patience` epochs (0: never), unless the
    last epoch is done anyway."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best_val_loss = math.inf
        self.epochs_without_improvement = 0

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        val_loss = record["val_loss"]
        if val_loss is None:
            return
        if val_loss < self.best_val_loss:
            self.best_val_loss = val_loss
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        if self.patience and self.epochs_without_improvement >= self.patience and trainer.epoch < trainer.epochs:
            trainer.request_stop(f"validation loss did not improve for {self.patience} epochs")

    def state_dict(self) -> dict[str, float | int]:
        return {"best_val_loss": self.best_val_loss, "epochs_without_improvement": self.epochs_without_improvement}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_val_loss = float(state.get("best_val_loss", math.inf))
        self.epochs_without_improvement = int(state.get("epochs_without_improvement", 0))


class Checkpoints(Callback):
    """Keeps `folder`/last.pt (where the run stands) and `folder`/best.pt (the epoch whose validation loss is the
    best so far). No folder, no files.

    Writing takes at most about WRITING_SHARE of the run's time: after a write that took `s` seconds the next
    comes no sooner than `s / WRITING_SHARE` seconds later, at the end of an epoch. A small network's files take
    milliseconds, so they are written after every epoch; a ResNet-18's two 90 MB files took about 0.2 s on an
    H200's host, more than a CIFAR-sized epoch, and writing them after every epoch halved the run's speed. When
    the epoch written is the best, best.pt is not written again: it becomes a second name of last.pt's file. The
    last epoch, an early stop and a stop are always written. A better epoch that is not written at once is kept
    on the host until the next write or the run's end (a failed run's too), so best.pt is always the best
    epoch's state."""

    def __init__(self, folder: Path | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
        self.folder = folder
        self.best_val_loss = math.inf
        self._clock = clock
        self._write_after = -math.inf  # the clock's time from which writing is due again
        self._best_state: dict[str, Any] | None = None  # a better epoch's state, not yet written

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        val_loss = record["val_loss"]
        improved = val_loss is not None and val_loss < self.best_val_loss
        if improved:
            self.best_val_loss = val_loss
        if self.folder is None:
            return
        ending = trainer.epoch >= trainer.epochs or bool(trainer.stop_reason)
        if ending or self._clock() >= self._write_after:
            self._write(trainer.state_dict(), best=improved)
        elif improved:
            self._best_state = on_host(trainer.state_dict())

    def on_run_end(self, trainer: Trainer, status: str) -> None:
        if self.folder is None:
            return
        if status == "stopped":
            self._write(trainer.state_dict(), best=False)
        elif self._best_state is not None:  # a run that failed after a better epoch not yet written
            save_file(self._best_state, self.folder / "best.pt")
            self._best_state = None

    def _write(self, state: dict[str, Any], *, best: bool) -> None:
        """last.pt from `state`, and best.pt from it where it is the best epoch's, else from the better epoch
        kept since the last write."""
        started = self._clock()
        last = save_file(state, self.folder / "last.pt")
        if best:  # the same state: best.pt a second name of last.pt's file, which is only ever replaced whole
            save_same(last, self.folder / "best.pt")
        elif self._best_state is not None:
            save_file(self._best_state, self.folder / "best.pt")
        self._best_state = None
        ended = self._clock()
        self._write_after = ended + (ended - started) / WRITING_SHARE

    def state_dict(self) -> dict[str, float | int]:
        return {"best_saved_val_loss": self.best_val_loss}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # checkpoints from before the callbacks kept one best loss for both
        self.best_val_loss = float(state.get("best_saved_val_loss", state.get("best_val_loss", math.inf)))
