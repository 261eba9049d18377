"""What a dataset looks like, for the Dataset node's preview: sample images, the class balance, or the
points of a 2-D set. Plain numpy results, computed off the window's thread."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy
import torch

from netbuilder.blocks.datasets import CLASSIFICATION, DATASETS
from netbuilder.data.loading import load_dataset, read_samples

MAX_IMAGES = 16
MAX_POINTS = 3000


@dataclass(frozen=True)
class Preview:
    """`images` (n, h, w, 3) uint8 with their `labels`; `counts` per class; `points` (n, 2) with labels."""

    samples: int
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...] = ()
    counts: numpy.ndarray | None = None
    images: numpy.ndarray | None = None
    image_labels: tuple[int, ...] = ()
    points: numpy.ndarray | None = None
    point_labels: numpy.ndarray | None = None
    values: numpy.ndarray | None = field(default=None)  # regression targets, for a histogram
    text_lengths: numpy.ndarray | None = None  # texts: every text's token count, for a histogram with max_length
    text_examples: tuple[tuple[int, str, tuple[str, ...]], ...] = ()  # texts: (sample, text, its tokens)


def make_preview(params: Mapping[str, Any], seed: int = 0) -> Preview:
    """Load the dataset (as training would) and summarise it for display. A streamed set (an image folder)
    is read only for the images shown: its class counts come from its file list."""
    spec = DATASETS[params["dataset"]]
    data = load_dataset(params, seed)
    if isinstance(data, tuple):
        x, y = data
        samples, input_shape = len(x), tuple(x.shape[1:])
    else:
        x, y = None, torch.as_tensor(data.labels)  # an image folder's list, or tokenised texts' tensor
        samples, input_shape = len(data), spec.input_shape({**params})
    classification = spec.task_of({**params}) == CLASSIFICATION
    names = spec.names_of_classes(params) if classification else ()
    generator = torch.Generator().manual_seed(seed)
    images = labels = points = point_labels = counts = values = None
    if classification:
        counts = torch.bincount(y.long().reshape(-1), minlength=len(names)).numpy()
    else:
        values = y.float().reshape(len(y), -1)[:, 0].numpy()
    if len(input_shape) == 3 and input_shape[0] in (1, 3):  # images: one of each class first, then random ones
        chosen = _one_per_class(y, generator) if classification else torch.randperm(samples, generator=generator)
        chosen = chosen[:MAX_IMAGES]
        picked = x[chosen] if x is not None else read_samples(data, chosen.tolist())[0]
        picked = picked.float()
        low, high = picked.amin(dim=(1, 2, 3), keepdim=True), picked.amax(dim=(1, 2, 3), keepdim=True)
        picked = ((picked - low) / (high - low).clamp_min(1e-8) * 255).round().to(torch.uint8)
        images = picked.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).contiguous().numpy()
        labels = tuple(int(v) for v in y[chosen].reshape(-1)) if classification else ()
    elif x is not None and x.dim() == 2 and x.shape[1] >= 1:
        chosen = torch.randperm(len(x), generator=generator)[:MAX_POINTS]
        columns = x[chosen, :2].float()
        if columns.shape[1] == 1:  # one feature: plot it against the target
            columns = torch.cat([columns, y[chosen].float().reshape(-1, 1)[:, :1]], dim=1)
        points = columns.numpy()
        point_labels = y[chosen].reshape(len(chosen), -1)[:, 0].numpy()
    lengths, examples = _texts(data, y, classification, generator) if spec.tokens else (None, ())
    return Preview(
        samples,
        input_shape,
        tuple(names),
        counts,
        images,
        labels or (),
        points,
        point_labels,
        values,
        text_lengths=lengths,
        text_examples=examples,
    )


def _texts(texts, y: torch.Tensor, classification: bool, generator: torch.Generator):
    """Every text's token count, and MAX_IMAGES texts as written beside their tokens (one of each class
    first), from the text loader's tokenised texts (`Texts`: ids into its words, text by text)."""
    lengths = (texts.offsets[1:] - texts.offsets[:-1]).numpy()
    chosen = _one_per_class(y, generator) if classification else torch.randperm(len(y), generator=generator)
    examples = []
    for index in chosen[:MAX_IMAGES].tolist():
        ids = texts.ids[texts.offsets[index] : texts.offsets[index + 1]].tolist()
        examples.append((index, texts.text(index), tuple(texts.words[i] for i in ids)))
    return lengths, tuple(examples)


def _one_per_class(y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    order = torch.randperm(len(y), generator=generator)
    seen: set[int] = set()
    first, rest = [], []
    for index in order.tolist():
        label = int(y[index])
        (rest if label in seen else first).append(index)
        seen.add(label)
    return torch.tensor(first + rest)
