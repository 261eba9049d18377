"""Spiral arms in the plane: the classic test of a non-linear decision boundary."""

from __future__ import annotations

import math

import torch

SAMPLES, CLASSES, NOISE = 1000, 3, 0.1


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Interleaved spiral arms in the plane, one class per arm."""
    generator = torch.Generator().manual_seed(seed)
    per_class = SAMPLES // CLASSES
    radius = torch.linspace(0.05, 1.0, per_class).repeat(CLASSES)
    y = torch.arange(CLASSES).repeat_interleave(per_class)
    angle = y * (2.0 * math.pi / CLASSES) + radius * 3.0 * math.pi
    angle = angle + NOISE * torch.randn(per_class * CLASSES, generator=generator)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x, y
