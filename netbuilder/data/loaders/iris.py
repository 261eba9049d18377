"""A table bundled with scikit-learn: its measurements as features, its classes as targets."""

from __future__ import annotations

import torch
from sklearn.datasets import load_iris


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's iris flowers: 150 samples, 4 measurements, 3 species."""
    bunch = load_iris()
    x = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.long)
    return x, y
