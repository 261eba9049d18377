"""Two circles, from scikit-learn's generator."""

from __future__ import annotations

import torch
from sklearn.datasets import make_circles

SAMPLES, NOISE = 1000, 0.1


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A small circle inside a large one (scikit-learn's make_circles)."""
    x, y = make_circles(n_samples=SAMPLES, noise=NOISE, factor=0.5, random_state=seed)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
