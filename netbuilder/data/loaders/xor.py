"""XOR: the smallest problem a single linear layer cannot solve."""

from __future__ import annotations

import torch

SAMPLES, NOISE = 1000, 0.1


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points in [-1, 1]^2, class 1 where the two coordinates differ in sign."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(SAMPLES, 2, generator=generator) * 2.0 - 1.0
    y = ((x[:, 0] > 0) != (x[:, 1] > 0)).long()
    x = x + NOISE * torch.randn(SAMPLES, 2, generator=generator)
    return x, y
