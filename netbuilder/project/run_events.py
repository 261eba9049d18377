"""What a training run reports as it goes: how it starts, progress within an epoch, each epoch's end, and how it
ended.

The training engine emits Progress, EpochEnd and Outcome; RunStart is said by whoever runs it, once the
trainer is built. Everything that follows a run reads them: the terminal, the window's Training room and the
run recorder that turns them into the project's run history. They hold plain numbers
only, so the run history and its tests need neither torch nor Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunStart:
    """What a run found when it began: the device, the shape of the run, where it stands (a run going on from
    a checkpoint starts with its epochs already done, in `history`), and the weights it starts from."""

    device: str
    epochs: int
    steps_per_epoch: int
    global_step: int
    classification: bool
    class_names: tuple[str, ...]
    history: list[dict[str, Any]] = field(default_factory=list)
    starting: str = ""  # StartingWeights.note; "" without starting weights, or when going on from a checkpoint


@dataclass(frozen=True)
class Progress:
    """Steps done since the last report: their losses, and where the run stands (with a `note`, perhaps none)."""

    epoch: int  # 1-based
    epochs: int
    step: int  # steps done in this epoch
    steps_per_epoch: int
    global_step: int
    losses: list[float]
    learning_rate: float
    samples_per_second: float
    seconds_left: float
    note: str = ""  # something the run says as it goes, such as that it is compiling the step and how long it took


@dataclass(frozen=True)
class EpochEnd:
    """One epoch done: its mean training loss and the validation metrics (accuracy, and top5_accuracy over more
    than five classes; MAE, RMSE and R² for values). A classifier's validation also gives its `confusion` matrix
    (rows: the true class, columns: the predicted one, in class-index order) and the `report` train.py's
    classification_report reads from it (per-class precision, recall, F1 and support, macro and weighted
    averages, accuracy); both None for values or without a validation part."""

    epoch: int
    epochs: int
    train_loss: float
    train_accuracy: float | None
    val_loss: float | None
    val_metrics: dict[str, float]
    learning_rate: float
    seconds: float
    confusion: list[list[int]] | None = None
    report: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    """How a run ended: completed, stopped, early-stopped or failed (with a message saying why). `val_metrics`
    are the last epoch's, and `confusion` and `report` its validation's, whatever ended the run (a stopped run
    keeps them); None before any epoch was validated, and for values."""

    status: str
    message: str = ""
    epochs_done: int = 0
    global_step: int = 0
    val_metrics: dict[str, float] = field(default_factory=dict)
    confusion: list[list[int]] | None = None
    class_names: tuple[str, ...] = ()
    report: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether the run ended as planned (completed, or stopped early because it stopped improving)."""
        return self.status in ("completed", "early-stopped")


Event = Progress | EpochEnd | Outcome
Listener = Callable[[Event], None]
