"""Per-layer gradient norm, weight norm and update-to-weight ratio of a training run, sampled every few steps.

Cheap by construction: only every SAMPLE_EVERY-th step is measured, and where steps are so quick that samples
would come closer than MIN_GAP_SECONDS (a small network on a GPU runs thousands of steps a second, and a sample
is a dozen kernel launches, more than such a step) the interval doubles, so the samples stay evenly spaced in
steps, at most about 1 / MIN_GAP_SECONDS a second; on a sampled step the weights are copied
before it (one pass over them) and, after it, the norms of every gradient, weight and change are taken with
torch's fused `_foreach_norm` and summed per layer with one `index_add_`, all on the device. Nothing is read
to the host then: the results wait on the device until `collect()`, which the engine calls when it reports
progress (where it reads the losses anyway), so a GPU run gains no host sync. Under a CUDA graph the
gradients live in the graph's own buffers, which `param.grad` still points to after a replay.

A layer is one of the model's attributes (a node of the graph), named by its node's label; its norms are
over all of its parameters together (weight and bias, or every parameter inside a block).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import torch
from torch import nn

from netbuilder.project.gradient_samples import SAMPLE_EVERY, GradientReport, GradientSample

MIN_GAP_SECONDS = 0.05  # 20 samples a second are more than the strip can show (it redraws every 0.1 s)


class GradientStats:
    """Samples `model`'s per-layer statistics at every `every`-th step; `names` maps the model's attributes
    to the names said for them (node labels). With `skip_non_finite` (fp16 loss scaling, whose skipped steps
    have inf gradients by design) samples that hold inf or NaN are left out. `every` doubles whenever a sample
    comes less than `min_gap` seconds (by `clock`) after the one before."""

    def __init__(
        self,
        model: nn.Module,
        names: Mapping[str, str],
        *,
        every: int = SAMPLE_EVERY,
        skip_non_finite: bool = False,
        min_gap: float = MIN_GAP_SECONDS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        groups: dict[str, list[nn.Parameter]] = {}
        for name, param in model.named_parameters():
            if param.requires_grad:
                attribute = name.split(".")[0]
                groups.setdefault(names.get(attribute, attribute), []).append(param)
        self.layers = tuple(groups)
        self.every = every
        self.skip_non_finite = skip_non_finite
        self._params = [param for params in groups.values() for param in params]
        device = self._params[0].device if self._params else torch.device("cpu")
        layer_of = [index for index, params in enumerate(groups.values()) for _ in params]
        self._layer_of = torch.tensor(layer_of, dtype=torch.long, device=device)
        self._before: list[torch.Tensor] | None = None
        self._pending: list[tuple[int, torch.Tensor]] = []
        self.min_gap = min_gap
        self._clock = clock
        self._last_sampled: float | None = None

    def due(self, steps_done: int) -> bool:
        """Whether the step after `steps_done` steps of the run is one to sample (the first one is). Every
        interval is a multiple of the one before, so the samples taken stay evenly spaced once thinned."""
        if not self._params or steps_done % self.every:
            return False
        now = self._clock()
        if self._last_sampled is not None and now - self._last_sampled < self.min_gap:
            self.every *= 2
        self._last_sampled = now
        return True

    @torch.no_grad()
    def before_step(self) -> None:
        """Keep a copy of the weights as they are before the sampled step."""
        self._before = torch._foreach_mul(self._params, 1.0)

    @torch.no_grad()
    def after_step(self, step: int) -> None:
        """Measure the step just taken (`step`, 1-based), on the device; read later by collect()."""
        before, self._before = self._before, None
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self._params]
        changes = torch._foreach_sub(self._params, before)
        norms = [
            torch.stack(torch._foreach_norm(tensors, 2, dtype=torch.float32))
            for tensors in (grads, self._params, changes, before)
        ]
        squares = torch.stack(norms, dim=1).square()
        per_layer = torch.zeros(len(self.layers), 4, device=squares.device)
        per_layer = per_layer.index_add_(0, self._layer_of, squares).sqrt()
        gradient, weight, change, was = per_layer.unbind(1)
        ratio = torch.where(was > 0, change / was, torch.zeros_like(was))
        self._pending.append((step, torch.stack((gradient, weight, ratio))))

    def collect(self) -> GradientReport | None:
        """The samples measured since the last call, read from the device at once (None when there are none)."""
        if not self._pending:
            return None
        steps = [step for step, _ in self._pending]
        values = torch.stack([value for _, value in self._pending]).cpu().tolist()
        self._pending.clear()
        samples = [
            GradientSample(step, tuple(gradient), tuple(weight), tuple(ratio))
            for step, (gradient, weight, ratio) in zip(steps, values, strict=True)
        ]
        if self.skip_non_finite:
            samples = [s for s in samples if all(abs(v) < float("inf") for v in s.gradient_norms)]
        return GradientReport(self.layers, tuple(samples)) if samples else None
