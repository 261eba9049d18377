"""A sine wave with noise: regression of one value from one value."""

from __future__ import annotations

import math

import torch

SAMPLES, NOISE = 1000, 0.1


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Regression: y = sin(x) plus noise, for x in [-pi, pi]."""
    generator = torch.Generator().manual_seed(seed)
    x = (torch.rand(SAMPLES, 1, generator=generator) * 2.0 - 1.0) * math.pi
    y = torch.sin(x) + NOISE * torch.randn(SAMPLES, 1, generator=generator)
    return x, y
