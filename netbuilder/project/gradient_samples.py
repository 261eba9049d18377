"""What a training run reports about its gradients: per-layer gradient norm, weight norm and update-to-weight
ratio at sampled steps.

The engine measures them on the device every few steps (training/gradient_stats.py) and reads them to the
host only when it reports progress; these plain numbers are what the window's heat strip draws and what the
gradient health check (gradient_health.py) reads, so neither needs torch.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_EVERY = 10  # steps between samples: benchmarks/bench_gradient_stats.py keeps the cost under 5 % of a step


@dataclass(frozen=True)
class GradientSample:
    """One sampled step: for each layer (in the order of `GradientReport.layers`) the norm of its gradient,
    the norm of its weights after the step, and the norm of the step's change of its weights over the norm
    of the weights before it (the update-to-weight ratio; about 1e-3 is a healthy pace)."""

    step: int  # the run's step number, 1-based
    gradient_norms: tuple[float, ...]
    weight_norms: tuple[float, ...]
    update_ratios: tuple[float, ...]


@dataclass(frozen=True)
class GradientReport:
    """The samples taken since the last report, and the layers they are about: the graph's node labels of
    the model's layers with parameters, first layer first."""

    layers: tuple[str, ...]
    samples: tuple[GradientSample, ...]
