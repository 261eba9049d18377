"""A table bundled with scikit-learn: its measurements as features, its classes as targets."""

from __future__ import annotations

import torch
from sklearn.datasets import load_wine


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's wine recognition: 178 samples, 13 chemical measurements, 3 cultivars."""
    bunch = load_wine()
    x = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.long)
    return x, y
