"""The Dataset preview's grid of augmented training images: a few images, each drawn several times by train.py's
own augment() and mix() (the text codegen/augment_code.py writes into train.py, executed here), so the grid shows
what training feeds the network.

The images are normalised as training normalises them (with the statistics of the samples loaded), augmented,
then turned back into pixels for display with one brightness scale for the whole grid, so that colour jitter
shows. A streamed image folder's per-sample crop and flip (torchvision's, in its DataLoader workers) are drawn
here by the batch path's resampling, which draws the same shifts and flips.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy
import torch
from torch import nn

from netbuilder.blocks.datasets import DATASETS
from netbuilder.codegen.augment_code import Augmentation

GRID = 4
"""The grid is GRID x GRID: GRID training images in rows, each drawn anew in every column."""


@dataclass(frozen=True)
class AugmentedGrid:
    """`images` (GRID * GRID, h, w, 3) uint8 row by row; `labels` each cell's class, or with mixing the two
    classes it blends and their shares ("cat 70% / dog 30%")."""

    images: numpy.ndarray
    labels: tuple[str, ...]
    draw: int  # which draw this is: 0 first, one more for each "New samples"


@dataclass(frozen=True)
class Originals:
    """The training images the grid augments, normalised as training normalises them, and how to show them."""

    x: torch.Tensor  # (GRID, C, H, W), normalised when the Dataset normalises
    y: tuple[int, ...]  # their classes (empty for a set of values)
    mean: torch.Tensor  # (1, C, 1, 1): what normalising subtracted (0 without normalisation)
    std: torch.Tensor  # (1, C, 1, 1): what it divided by (1 without)
    low: float  # the darkest and brightest pixel of the originals, for one display scale
    high: float


def augmentation_of(params: Mapping[str, Any]) -> Augmentation:
    """The Dataset's augmentation as the preview draws it: a streamed folder's crop and flip in the batch path."""
    spec = DATASETS[params["dataset"]]
    return Augmentation.of(spec.images, params, spec.input_shape({**params}), streamed=False)


def originals(params: Mapping[str, Any], picked: torch.Tensor, everything: torch.Tensor | None, labels: Sequence[int]):
    """Originals of the first GRID `picked` images; the normalisation's statistics come from `everything` loaded
    (a streamed folder: the picked images), per colour channel as normalize_channels computes them."""
    x = picked[:GRID].float()
    low, high = float(x.min()), float(x.max())
    if params.get("normalize", True):
        pool = (everything if everything is not None else picked).float()
        mean = pool.mean(dim=(0, 2, 3), keepdim=True)
        std = pool.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-8)
    else:
        mean, std = torch.zeros(1, x.shape[1], 1, 1), torch.ones(1, x.shape[1], 1, 1)
    return Originals((x - mean) / std, tuple(int(v) for v in labels[:GRID]), mean, std, low, high)


def augmented_grid(
    params: Mapping[str, Any], images: Originals, class_names: Sequence[str], draw: int = 0, seed: int = 0
) -> AugmentedGrid | None:
    """The grid for draw number `draw` (each draw new samples), or None when the Dataset augments nothing."""
    augmentation = augmentation_of(params)
    if not augmentation.any:
        return None
    mixing = augmentation.mixes and len(images.y) == len(images.x) and class_names
    namespace: dict[str, Any] = {"functools": functools, "torch": torch, "nn": nn, "CLASS_NAMES": list(class_names)}
    exec("\n\n\n".join(augmentation.functions()), namespace)  # train.py's own functions, from the same text
    generator = torch.Generator().manual_seed(seed * 1_000_003 + draw)
    batch = images.x.repeat_interleave(GRID, dim=0)  # each image GRID times in a row
    if "augment" in namespace:
        batch = namespace["augment"](batch, generator)
    labels = [class_names[y] if class_names else "" for y in images.y for _ in range(GRID)]
    if mixing:  # in a random order, as a training batch is (mix pairs each image with the one before it)
        hard = torch.tensor(images.y).repeat_interleave(GRID)
        shuffled = torch.randperm(len(batch), generator=generator)
        batch, targets = namespace["mix"](batch[shuffled], hard[shuffled], generator)
        back = shuffled.argsort()
        batch, labels = batch[back], [_blend_label(row, class_names) for row in targets[back]]
    pixels = batch * images.std + images.mean
    scaled = ((pixels - images.low) / max(images.high - images.low, 1e-8)).clamp(0, 1) * 255
    shown = scaled.round().to(torch.uint8).expand(-1, 3, -1, -1).permute(0, 2, 3, 1).contiguous().numpy()
    return AugmentedGrid(shown, tuple(labels), draw)


def _blend_label(probabilities: torch.Tensor, class_names: Sequence[str]) -> str:
    """A mixed target in words: its one class, or its two largest shares ("cat 70% / dog 30%")."""
    shares, classes = probabilities.topk(min(2, len(probabilities)))
    if len(shares) < 2 or shares[1] < 0.005:
        return class_names[int(classes[0])]
    return " / ".join(f"{class_names[int(c)]} {float(s):.0%}" for s, c in zip(shares, classes, strict=True))
