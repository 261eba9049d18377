"""A classifier's output read as classes: the one rule the confusion matrix and the Predict tab share."""

from __future__ import annotations

import torch
from torch import nn


def class_probabilities(output: torch.Tensor, criterion: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """(probabilities (n, classes), predicted class (n,)) from a classifier's output: softmax and arg-max over
    several scores; one score is the second class's probability (BCE) or logit (the others), over 0.5 or 0.
    The one rule for the confusion matrix and the Predict tab (count_correct in train.py agrees with it)."""
    if output.dim() > 1 and output.shape[1] > 1:
        return torch.softmax(output.reshape(len(output), -1), dim=1), output.argmax(dim=1)
    score = output.reshape(-1)
    if type(criterion).__name__ == "BCELoss":
        positive, threshold = score.clamp(0.0, 1.0), 0.5
    else:
        positive, threshold = torch.sigmoid(score), 0.0
    return torch.stack([1.0 - positive, positive], dim=1), (score > threshold).long()
