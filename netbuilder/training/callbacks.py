"""What happens around the engine's epochs that is not training itself: stopping early and keeping checkpoints.

Each is a small object with its own state, called by the trainer at the end of every epoch and of every run,
as Lightning's EarlyStopping and ModelCheckpoint are: early stopping asks the trainer to stop, checkpoints
save the trainer's state. Their state goes into the trainer's checkpoints (numbers only, so
torch.load(..., weights_only=True) reads it back), so a resumed run stops and saves as an uninterrupted one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    """Keeps `folder`/last.pt (after every epoch, and where a run is stopped) and `folder`/best.pt (after each
    epoch whose validation loss is the best so far). No folder, no files."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.best_val_loss = math.inf

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        val_loss = record["val_loss"]
        improved = val_loss is not None and val_loss < self.best_val_loss
        if improved:
            self.best_val_loss = val_loss
        if self.folder is not None:
            trainer.save_checkpoint(self.folder / "last.pt")
            if improved:
                trainer.save_checkpoint(self.folder / "best.pt")

    def on_run_end(self, trainer: Trainer, status: str) -> None:
        if self.folder is not None and status == "stopped":
            trainer.save_checkpoint(self.folder / "last.pt")

    def state_dict(self) -> dict[str, float | int]:
        return {"best_saved_val_loss": self.best_val_loss}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # checkpoints from before the callbacks kept one best loss for both
        self.best_val_loss = float(state.get("best_saved_val_loss", state.get("best_val_loss", math.inf)))
