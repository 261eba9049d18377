"""Training settings: how long, in what batches, on which split and device a project trains.

Kept apart from the graph because they describe a run, not the network; the project file stores them under
`training`, and the training engine and the generated script read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netbuilder.project.errors import SettingsError

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16", "fp16")  # bf16/fp16 mean autocast on CUDA; the CPU always trains in fp32
MAX_VAL_FRACTION = 0.9
# scikit-learn's random_state and numpy's seed take 0 .. 2**32 - 1, and the generated loaders pass it there.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class TrainingSettings:
    """How a project trains; checked on construction, so always valid.

    `precision` picks mixed precision on CUDA, `grad_clip` the largest gradient norm (0 = no clipping),
    `early_stopping` how many epochs without a better validation loss end the run (0 = never).

    Frozen: change a setting with `dataclasses.replace(settings, epochs=5)`, which validates again.
    Integral floats (20.0) are accepted and stored as ints, as block parameters are.
    """

    epochs: int = 20
    batch_size: int = 64
    val_fraction: float = 0.2
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    grad_clip: float = 0.0
    early_stopping: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "epochs", _integer("epochs", self.epochs, 1, None, "a positive integer"))
        object.__setattr__(self, "batch_size", _integer("batch_size", self.batch_size, 1, None, "a positive integer"))
        object.__setattr__(self, "val_fraction", _fraction("val_fraction", self.val_fraction))
        object.__setattr__(self, "seed", _integer("seed", self.seed, 0, MAX_SEED, f"an integer from 0 to {MAX_SEED}"))
        if not isinstance(self.device, str) or self.device not in DEVICES:
            expected = ", ".join(repr(d) for d in DEVICES)
            raise SettingsError("device", f"expected one of {expected}, got {_shown(self.device)}")
        if not isinstance(self.precision, str) or self.precision not in PRECISIONS:
            expected = ", ".join(repr(p) for p in PRECISIONS)
            raise SettingsError("precision", f"expected one of {expected}, got {_shown(self.precision)}")
        object.__setattr__(self, "grad_clip", _non_negative("grad_clip", self.grad_clip))
        object.__setattr__(
            self, "early_stopping", _integer("early_stopping", self.early_stopping, 0, None, "a non-negative integer")
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values, in field order."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "val_fraction": self.val_fraction,
            "seed": self.seed,
            "device": self.device,
            "precision": self.precision,
            "grad_clip": self.grad_clip,
            "early_stopping": self.early_stopping,
        }


def _integer(name: str, value: Any, low: int, high: int | None, expected: str) -> int:
    integral = (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )
    if not integral or value < low or (high is not None and value > high):
        raise SettingsError(name, f"expected {expected}, got {_shown(value)}")
    return int(value)


def _fraction(name: str, value: Any) -> float:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    # Compared before any float conversion, so NaN fails and a huge integer cannot overflow.
    if not number or not 0 <= value <= MAX_VAL_FRACTION:
        raise SettingsError(name, f"expected a number from 0 to {MAX_VAL_FRACTION}, got {_shown(value)}")
    return float(value)


def _non_negative(name: str, value: Any) -> float:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not 0 <= value <= 1e6:
        raise SettingsError(name, f"expected a number from 0 to 1000000, got {_shown(value)}")
    return float(value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
