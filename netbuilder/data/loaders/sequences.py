"""Noisy waves whose frequency is the class: sequence classification for recurrent and attention blocks."""

from __future__ import annotations

import math

import torch

SAMPLES, LENGTH, FEATURES, CLASSES, NOISE = 1000, 32, 2, 3, 0.1


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy waves of shape (LENGTH, FEATURES); class k completes k + 1 half cycles."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, CLASSES, (SAMPLES,), generator=generator)
    steps = torch.arange(LENGTH, dtype=torch.float32).view(1, LENGTH, 1)
    frequency = (y.float() + 1.0).view(SAMPLES, 1, 1) * (math.pi / LENGTH)
    phase = 2.0 * math.pi * torch.rand(SAMPLES, 1, FEATURES, generator=generator)
    x = torch.sin(frequency * steps + phase)
    x = x + NOISE * torch.randn(SAMPLES, LENGTH, FEATURES, generator=generator)
    return x, y
