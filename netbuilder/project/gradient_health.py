"""Whether a run's gradients explode or vanish, said in plain words with the remedies the project offers.

Reads the sampled per-layer gradient norms of a run (GradientSample) as they arrive. Gradients explode when a
layer's norm becomes inf or NaN, or EXPLODING_GROWTH times the largest norm of the run's first sample (the
scale of this network's gradients: a layer whose small first gradient grows towards the others' is no
explosion); they vanish when the
first layer's norm stays VANISHING_RATIO or further below the last layer's for VANISHING_SAMPLES samples in a
row (the signal no longer reaches the first layers, so they stop learning). Each kind is said once per run,
and once more if it then clears: RECOVERY_SAMPLES samples in a row without it.
The remedies that are one setting (clipping, the optimizer's learning rate) come as values to set, so the
window can offer them as one undoable click; the others are named in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netbuilder.project.gradient_samples import GradientSample
from netbuilder.project.settings import TrainingSettings

EXPLODING, VANISHING = "exploding", "vanishing"
EXPLODING_GROWTH = 1e3  # three orders of magnitude over the first sample's largest norm
VANISHING_RATIO = 1e-3  # the first layer's norm at most this fraction of the last layer's
VANISHING_SAMPLES = 3  # for this many samples in a row: one low sample may be a calm batch
CLIP_NORM = 1.0  # the clipping offered: a common choice, and below the norms of an exploding run
LR_FACTOR = 10  # the learning rate offered is the current one divided by this
RECOVERY_SAMPLES = 3  # healthy samples in a row before a kind said is gone: one may be a lucky batch

_EXPLODING_WORDS = (
    "a normalisation layer (BatchNorm or LayerNorm) after the layers whose gradients grow, "
    "or another initialisation (Kaiming or Xavier, with smaller weights)"
)
_VANISHING_WORDS = (
    "a normalisation layer (BatchNorm or LayerNorm) between the layers, a residual connection (an Add around "
    "a few layers), ReLU in place of Sigmoid or Tanh, or Kaiming initialisation"
)


@dataclass(frozen=True)
class Remedy:
    """One remedy that is a single change: a training setting (`setting`) or a parameter of the optimizer
    node (`param`) set to `value`; `words` names it in a sentence ("gradient clipping at 1")."""

    words: str
    value: Any
    setting: str = ""
    param: str = ""


@dataclass(frozen=True)
class GradientWarning:
    """Gradients that explode or vanish (`kind`), at the layer `layer`, first seen at `step`; `message` says it
    in one line with the remedies in words, `remedies` the ones that are one change."""

    kind: str
    layer: str
    step: int
    message: str
    remedies: tuple[Remedy, ...] = ()


@dataclass(frozen=True)
class GradientCleared:
    """Gradients that exploded or vanished (`kind`) have been healthy again since `step`; `message` says so."""

    kind: str
    step: int
    message: str


class GradientWatch:
    """Reads a run's gradient samples in order and says, once per kind, when its gradients explode or vanish.

    `layers` are the layers' names (node labels) in model order, first layer first; `settings` and
    `optimizer` (the optimizer node's parameters) give the values the remedies change."""

    def __init__(
        self, layers: tuple[str, ...], settings: TrainingSettings, optimizer: Mapping[str, Any] | None = None
    ) -> None:
        self.layers = layers
        self.settings = settings
        self.optimizer = dict(optimizer or {})
        self.warnings: list[GradientWarning] = []
        self.cleared: list[GradientCleared] = []  # kinds warned of and then gone, in the order they cleared
        self._healthy_in_a_row = {EXPLODING: 0, VANISHING: 0}
        self._scale: float | None = None  # the largest gradient norm of the first sample
        self._low_in_a_row = 0

    def add(self, sample: GradientSample) -> GradientWarning | None:
        """Take one sample; the warning it raises (a kind not said before in this run), else None. A kind
        said that this sample finds gone for the RECOVERY_SAMPLES-th time in a row joins `cleared`."""
        if self._scale is None:
            self._scale = max((n for n in sample.gradient_norms if math.isfinite(n) and n > 0), default=None)
        exploding, vanishing = self._exploding(sample), self._vanishing(sample)
        self._note_recovery(sample.step, {EXPLODING: exploding is None, VANISHING: self._low_in_a_row == 0})
        found = exploding or vanishing
        if found is None or any(w.kind == found.kind for w in self.warnings):
            return None
        self.warnings.append(found)
        return found

    def _note_recovery(self, step: int, healthy: Mapping[str, bool]) -> None:
        said = {w.kind for w in self.warnings} - {c.kind for c in self.cleared}
        for kind in said:
            self._healthy_in_a_row[kind] = self._healthy_in_a_row[kind] + 1 if healthy[kind] else 0
            if self._healthy_in_a_row[kind] == RECOVERY_SAMPLES:
                message = (
                    f"The {kind} gradients have cleared: none for the last {RECOVERY_SAMPLES} samples (step {step})."
                )
                self.cleared.append(GradientCleared(kind, step, message))

    def _exploding(self, sample: GradientSample) -> GradientWarning | None:
        norms = sample.gradient_norms
        broken = [i for i, norm in enumerate(norms) if not math.isfinite(norm)]
        if broken:
            layer = self.layers[broken[0]]
            what = f"the gradients of {layer} became {_number(norms[broken[0]])} at step {sample.step}"
        else:
            worst = max(range(len(norms)), key=norms.__getitem__, default=None)
            if worst is None or self._scale is None or norms[worst] < EXPLODING_GROWTH * self._scale:
                return None
            layer = self.layers[worst]
            what = (
                f"the gradients of {layer} grew to {_number(norms[worst] / self._scale)} times the largest at the "
                f"first sampled step (step {sample.step})"
            )
        remedies = self._exploding_remedies()
        offered = ", ".join(r.words for r in remedies)
        message = f"Exploding gradients: {what}. Try {offered + ', or ' if offered else ''}{_EXPLODING_WORDS}."
        return GradientWarning(EXPLODING, layer, sample.step, message, remedies)

    def _vanishing(self, sample: GradientSample) -> GradientWarning | None:
        norms = sample.gradient_norms
        last = norms[-1] if norms else 0.0
        if len(norms) < 2 or not math.isfinite(last) or last <= 0 or norms[0] > VANISHING_RATIO * last:
            self._low_in_a_row = 0
            return None
        self._low_in_a_row += 1
        if self._low_in_a_row < VANISHING_SAMPLES:
            return None
        low = next(i for i, norm in enumerate(norms) if norm > VANISHING_RATIO * last)
        one = low == 1
        layers = self.layers[0] if one else f"the first {low} layers ({self.layers[0]} to {self.layers[low - 1]})"
        get, they = ("gets", "it hardly learns") if one else ("get", "they hardly learn")
        if norms[0]:
            how = f"{get} gradients {_number(norms[0] / last)} times those of {self.layers[-1]}"
            remedies: tuple[Remedy, ...] = ()
            words = _VANISHING_WORDS
        else:  # nothing at all: often units that stopped firing (ReLU) after a step too large
            how = f"{get} no gradient at all"
            remedies = self._lower_rate()
            words = (
                "a lower learning rate (a step too large can leave ReLUs that never fire again), " + _VANISHING_WORDS
            )
        message = f"Vanishing gradients: {layers} {how} (step {sample.step}), so {they}. Try {words}."
        return GradientWarning(VANISHING, self.layers[0], sample.step, message, remedies)

    def _exploding_remedies(self) -> tuple[Remedy, ...]:
        remedies = []
        clip = self.settings.grad_clip
        if clip == 0 or clip > CLIP_NORM:
            remedies.append(Remedy(f"gradient clipping at {_number(CLIP_NORM)}", CLIP_NORM, setting="grad_clip"))
        remedies += self._lower_rate()
        if self.optimizer.get("schedule") == "none":
            remedies.append(Remedy("a cosine learning-rate schedule", "cosine", param="schedule"))
        return tuple(remedies)

    def _lower_rate(self) -> tuple[Remedy, ...]:
        """The optimizer's learning rate divided by LR_FACTOR, where it has one that can go lower."""
        rate = self.optimizer.get("lr")
        if not isinstance(rate, int | float) or rate / LR_FACTOR < 1e-8:
            return ()
        lower = float(f"{rate / LR_FACTOR:.3g}")
        return (Remedy(f"a learning rate of {_number(lower)}", lower, param="lr"),)


def _number(value: float) -> str:
    """1.0 -> "1", 0.0001 -> "0.0001", 3.2e-07 -> "3.2e-07", inf -> "inf": as short as it reads."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.2g}" if value < 1e-4 or value >= 1e5 else f"{value:.4g}"
