"""Training settings: how long, in what batches, on which split and device a project trains.

Kept apart from the graph because they describe a run, not the network; the project file stores them under
`training`, and the training engine and the generated script read them.

Each setting is declared once, in SETTINGS, with its kind, default, range, label, help text and command-line
flag. Everything that lists settings derives from that declaration: TrainingSettings' checks and their
messages, the project file's and config.json's keys (`TrainingSettings.to_dict`), `netbuilder train`'s
options, train.py's argparse and the Training dock's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from netbuilder.analysis.structure import batch_statistics_in
from netbuilder.graph import Graph
from netbuilder.project.errors import SettingsError
from netbuilder.quoting import shown

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16", "fp16")  # bf16/fp16 mean autocast on CUDA; the CPU always trains in fp32
MAX_VAL_FRACTION = 0.9
# scikit-learn's random_state and numpy's seed take 0 .. 2**32 - 1, and the generated loaders pass it there.
MAX_SEED = 2**32 - 1
# Far beyond any run a person starts, and low enough that every step count and batch fits the loops and the
# allocator: a typo's extra zeros are refused with the bound, rather than accepted and failing later.
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 2**20
MAX_ACCUMULATION = 1024
MAX_PROCESSES = 64
SYNC_BATCHNORM = ("off", "on")

INTEGER, NUMBER, CHOICE = "integer", "number", "choice"


@dataclass(frozen=True)
class RunContext:
    """What decides, besides the settings, whether a setting means something for a run (`SettingSpec.no_effect`):
    the network drawn and the machine."""

    batch_norm: bool = False  # a layer of the network normalises with statistics taken over the batch
    gpus: int | None = None  # the CUDA GPUs here (None: not known, as before torch has been asked)

    def with_network(self, graph: Graph, model_nodes: Iterable[str]) -> RunContext:
        """This context for the network the analysis found in `graph`: its `model_nodes`, composites' insides
        included."""
        return replace(self, batch_norm=batch_statistics_in(graph, model_nodes))


@dataclass(frozen=True)
class SettingSpec:
    """One training setting: what it is called, what values it takes and what it means.

    `kind` is INTEGER, NUMBER (a float) or CHOICE (one of `choices`); `low`/`high` bound a number (None: no
    bound); `off_at_zero` says 0 turns the feature off (shown "off"); `percent` says a fraction reads best as
    a percentage; `step` is a sensible increment for a spin box; `auto`, where given, says what the word auto
    does in its `netbuilder train` option (found before the run; never a stored value). `no_effect`, where
    given, says why the setting changes nothing for a run of some settings in some RunContext ("" where it does):
    the window greys its field out and says why, and `netbuilder train` warns when it is given anyway.
    """

    name: str
    kind: str
    default: Any
    label: str
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    off_at_zero: bool = False
    percent: bool = False
    step: float = 1
    auto: str = ""  # what `auto` means for it on `netbuilder train`'s command line ("": it takes no auto)
    no_effect: Callable[[TrainingSettings, RunContext], str] | None = None

    @property
    def flag(self) -> str:
        """The command-line option, for `netbuilder train` and train.py alike: `--batch-size`."""
        return "--" + self.name.replace("_", "-")

    @property
    def python_type(self) -> type:
        """The type a command-line value is parsed as."""
        return {INTEGER: int, NUMBER: float, CHOICE: str}[self.kind]

    def expected(self) -> str:
        """What a valid value is, in words: "a positive integer", "one of 'auto', 'cpu', 'cuda'"."""
        if self.kind == CHOICE:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == INTEGER and self.high is None:
            words = {0: "a non-negative integer", 1: "a positive integer"}
            return words.get(self.low, f"an integer of at least {_number(self.low)}")
        what = "an integer" if self.kind == INTEGER else "a number"
        return f"{what} from {_number(self.low)} to {_number(self.high)}"

    def check(self, value: Any) -> Any:
        """The value as stored (an integral float becomes an int, an int a float where a number is wanted);
        SettingsError naming this setting when it is not valid."""
        if self.kind == CHOICE:
            if isinstance(value, str) and value in self.choices:
                return value
        elif self.kind == INTEGER:
            integral = (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, float) and value.is_integer()
            )
            if integral and self._in_range(value):
                return int(value)
        elif isinstance(value, int | float) and not isinstance(value, bool) and self._in_range(value):
            return float(value)
        raise SettingsError(self.name, f"expected {self.expected()}, got {shown(value)}")

    def shown(self, value: Any) -> str:
        """A valid value as a person reads it: "20%", "off", "64"."""
        if self.off_at_zero and not value:
            return "off"
        if self.percent:
            return f"{value:.0%}"
        return str(value)

    def why_no_effect(self, settings: TrainingSettings, context: RunContext) -> str:
        """Why this setting changes nothing for a run of `settings` in `context`; "" where it does."""
        return self.no_effect(settings, context) if self.no_effect is not None else ""

    def _in_range(self, value: float) -> bool:
        # Compared before any conversion, so NaN fails and a huge integer cannot overflow.
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


def _precision_no_effect(settings: TrainingSettings, context: RunContext) -> str:
    if settings.device == "cpu" or (settings.device == "auto" and context.gpus == 0):
        return "it trains on the CPU, always in fp32"
    return ""


def _sync_batchnorm_no_effect(settings: TrainingSettings, context: RunContext) -> str:
    if not context.batch_norm:
        return "the network has no batch norm"
    if settings.processes == 1:
        return "it trains in one process, whose batch norm sees the whole batch already"
    return ""


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "epochs",
        INTEGER,
        20,
        "Epochs",
        "How many times training goes through the whole training set",
        low=1,
        high=MAX_EPOCHS,
    ),
    SettingSpec(
        "batch_size",
        INTEGER,
        64,
        "Batch size",
        "Samples per step; smaller batches use less memory, larger ones run faster on a GPU",
        low=1,
        high=MAX_BATCH_SIZE,
        auto="auto: the largest batch that trains in the GPU's memory, found by trying sizes first (on the CPU, "
        "the project's own, lowered where half the free memory does not hold it by the network's estimate)",
    ),
    SettingSpec(
        "val_fraction",
        NUMBER,
        0.2,
        "Validation",
        "The share of the data held out to check the network on data it did not learn from",
        low=0,
        high=MAX_VAL_FRACTION,
        percent=True,
        step=0.05,
    ),
    SettingSpec(
        "seed",
        INTEGER,
        0,
        "Seed",
        "Fixes the data split, the first weights and the batch order: the same seed, the same run",
        low=0,
        high=MAX_SEED,
    ),
    SettingSpec(
        "device", CHOICE, "auto", "Device", "Where training runs; auto takes the GPU when there is one", choices=DEVICES
    ),
    SettingSpec(
        "precision",
        CHOICE,
        "fp32",
        "Precision",
        "bf16 / fp16 train in mixed precision on a CUDA GPU (faster, less memory); the CPU uses fp32",
        choices=PRECISIONS,
        no_effect=_precision_no_effect,
    ),
    SettingSpec(
        "grad_clip",
        NUMBER,
        0.0,
        "Clip gradients",
        "Largest gradient norm allowed in a step (0 = off: no clipping); helps when the loss jumps",
        low=0,
        high=1e6,
        off_at_zero=True,
        step=0.5,
    ),
    SettingSpec(
        "early_stopping",
        INTEGER,
        0,
        "Early stop",
        "End the run when the validation loss has not improved for this many epochs (0 = off: never)",
        low=0,
        high=MAX_EPOCHS,
        off_at_zero=True,
    ),
    SettingSpec(
        "accumulation",
        INTEGER,
        1,
        "Accumulation",
        "Split each batch into this many parts, one after another, before the step: the same step as the "
        "whole batch at once, in the memory of one part (for batches larger than memory)",
        low=1,
        high=MAX_ACCUMULATION,
    ),
    SettingSpec(
        "processes",
        INTEGER,
        1,
        "Processes",
        "Train with this many processes, each on its share of every batch (on CUDA one GPU each; on a CPU they "
        "share the cores); the batch size stays that of the whole batch",
        low=1,
        high=MAX_PROCESSES,
    ),
    SettingSpec(
        "sync_batchnorm",
        CHOICE,
        "off",
        "Sync batch norm",
        "With several processes, batch norm takes its statistics over the whole batch instead of each "
        "process's share (torch's SyncBatchNorm: CUDA only)",
        choices=SYNC_BATCHNORM,
        no_effect=_sync_batchnorm_no_effect,
    ),
)
SETTING: dict[str, SettingSpec] = {spec.name: spec for spec in SETTINGS}


def _default(name: str) -> Any:
    return SETTING[name].default


@dataclass(frozen=True)
class TrainingSettings:
    """How a project trains; checked on construction against SETTINGS, so always valid.

    `precision` picks mixed precision on CUDA, `grad_clip` the largest gradient norm (0 = no clipping),
    `early_stopping` how many epochs without a better validation loss end the run (0 = never), `accumulation`
    in how many parts a batch goes through the network before its one step, `processes` how many processes
    share each batch, and `sync_batchnorm` whether batch norm takes its statistics over all of them.

    Frozen: change a setting with `dataclasses.replace(settings, epochs=5)`, which validates again.
    Integral floats (20.0) are accepted and stored as ints, as block parameters are. The fields name the
    declared settings in their order (a test holds them together); their defaults are the declared ones.
    """

    epochs: int = _default("epochs")
    batch_size: int = _default("batch_size")
    val_fraction: float = _default("val_fraction")
    seed: int = _default("seed")
    device: str = _default("device")
    precision: str = _default("precision")
    grad_clip: float = _default("grad_clip")
    early_stopping: int = _default("early_stopping")
    accumulation: int = _default("accumulation")
    processes: int = _default("processes")
    sync_batchnorm: str = _default("sync_batchnorm")

    def __post_init__(self) -> None:
        for spec in SETTINGS:
            object.__setattr__(self, spec.name, spec.check(getattr(self, spec.name)))

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values, in declaration order: the project file's and config.json's keys."""
        return {spec.name: getattr(self, spec.name) for spec in SETTINGS}


def without_effect(settings: TrainingSettings, context: RunContext) -> dict[str, str]:
    """The settings that change nothing for a run of `settings` in `context`, by name, each with why."""
    reasons = {spec.name: spec.why_no_effect(settings, context) for spec in SETTINGS}
    return {name: why for name, why in reasons.items() if why}


def _number(value: float | None) -> str:
    """1000000.0 -> "1000000", 0.9 -> "0.9": bounds as a person writes them."""
    if value is not None and float(value).is_integer():
        return str(int(value))
    return str(value)
