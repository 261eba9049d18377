"""A linear function with noise: the regression every other method is measured against."""

from __future__ import annotations

import torch

SAMPLES, FEATURES, NOISE = 1000, 2, 0.1


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Regression: y = x @ w + b plus noise, with a random w drawn from the seed."""
    generator = torch.Generator().manual_seed(seed)
    weights = torch.randn(FEATURES, 1, generator=generator)
    x = torch.randn(SAMPLES, FEATURES, generator=generator)
    y = x @ weights + 0.5 + NOISE * torch.randn(SAMPLES, 1, generator=generator)
    return x, y
