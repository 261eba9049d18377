"""Two moons, from scikit-learn's generator."""

from __future__ import annotations

import torch
from sklearn.datasets import make_moons

SAMPLES, NOISE = 1000, 0.1


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles (scikit-learn's make_moons)."""
    x, y = make_moons(n_samples=SAMPLES, noise=NOISE, random_state=seed)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
