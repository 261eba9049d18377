"""Colour stripes whose orientation is the class: image classification without a download."""

from __future__ import annotations

import math

import torch

SAMPLES, IMAGE_SIZE, CLASSES, NOISE = 1000, 32, 3, 0.1


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy colour stripes; class k is the orientation k * 180 / CLASSES degrees."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, CLASSES, (SAMPLES,), generator=generator)
    angle = (y.float() * (math.pi / CLASSES)).view(SAMPLES, 1, 1)
    period = 4.0 + 4.0 * torch.rand(SAMPLES, 1, 1, generator=generator)
    phase = 2.0 * math.pi * torch.rand(SAMPLES, 1, 1, generator=generator)
    rows = torch.arange(IMAGE_SIZE, dtype=torch.float32).view(1, IMAGE_SIZE, 1)
    cols = torch.arange(IMAGE_SIZE, dtype=torch.float32).view(1, 1, IMAGE_SIZE)
    wave = torch.sin(2.0 * math.pi * (torch.cos(angle) * cols + torch.sin(angle) * rows) / period + phase)
    colour = 0.5 + 0.5 * torch.rand(SAMPLES, 3, 1, 1, generator=generator)
    noise = NOISE * torch.randn(SAMPLES, 3, IMAGE_SIZE, IMAGE_SIZE, generator=generator)
    return colour * wave.unsqueeze(1) + noise, y
