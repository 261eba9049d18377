"""scikit-learn's handwritten digits as images."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's handwritten digits: 1,797 grey 8x8 images of 10 classes, scaled to [0, 1]."""
    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(bunch.target, dtype=torch.long)
    return x, y
