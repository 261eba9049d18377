"""Gaussian blobs, from scikit-learn's generator."""

from __future__ import annotations

import torch
from sklearn.datasets import make_blobs

SAMPLES, FEATURES, CLASSES = 1000, 2, 3


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian clusters, one per class (scikit-learn's make_blobs)."""
    x, y = make_blobs(n_samples=SAMPLES, n_features=FEATURES, centers=CLASSES, random_state=seed)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
