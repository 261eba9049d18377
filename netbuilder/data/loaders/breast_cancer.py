"""A table bundled with scikit-learn: its measurements as features, its classes as targets."""

from __future__ import annotations

import torch
from sklearn.datasets import load_breast_cancer


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's breast cancer Wisconsin: 569 samples, 30 features, malignant or benign."""
    bunch = load_breast_cancer()
    x = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.long)
    return x, y
