"""What a dataset looks like, for the Dataset node's preview: sample images, the class balance, or the
points of a 2-D set. Plain numpy results, computed off the window's thread."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy
import torch

from netbuilder.blocks.datasets import CLASSIFICATION, DATASETS
from netbuilder.data.augmented_preview import AugmentedGrid, Originals, augmented_grid, originals
from netbuilder.data.loading import load_dataset, read_samples
from netbuilder.project.settings import TrainingSettings

MAX_IMAGES = 16
MAX_POINTS = 3000
VAL_FRACTION = TrainingSettings().val_fraction  # the split a new project trains with


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
    text_read: tuple[TextRead, ...] = ()  # texts: each example as the network reads it, in text_examples' order
    text_labels: tuple[int, ...] = ()  # texts: each example's class, in text_examples' order (classification)
    vocabulary_size: int = 0  # texts: the tokens (or pieces) the training part's vocabulary holds
    unknown_share: float = 0.0  # texts: the share of all tokens read as <unk>
    originals: Originals | None = None  # images: the first few, normalised as training has them, to augment
    augmented: AugmentedGrid | None = None  # images of an augmenting Dataset: them as training sees them


@dataclass(frozen=True)
class TextRead:
    """A text as the network reads it, under the vocabulary made from the training part (the loader's own
    Texts.vocabulary, as train.py makes it): its tokens (words, or byte-pair pieces), whether each becomes
    <unk>, and whether each begins a word. A word outside the vocabulary keeps its spelling here, so a view can
    say which word is lost; a piece outside it (a character never seen) is "<unk>"."""

    tokens: tuple[str, ...]
    unknown: tuple[bool, ...]
    word_starts: tuple[bool, ...]


def make_preview(params: Mapping[str, Any], seed: int = 0, val_fraction: float = VAL_FRACTION) -> Preview:
    """Load the dataset (as training would) and summarise it for display. A streamed set (an image folder)
    is read only for the images shown: its class counts come from its file list. Texts are read through the
    vocabulary of the training part that `val_fraction` and `seed` split off, as training with them reads."""
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
    images = labels = points = point_labels = counts = values = kept = augmented = None
    if classification:
        counts = torch.bincount(y.long().reshape(-1), minlength=len(names)).numpy()
    else:
        values = y.float().reshape(len(y), -1)[:, 0].numpy()
    if len(input_shape) == 3 and input_shape[0] in (1, 3):  # images: one of each class first, then random ones
        chosen = _one_per_class(y, generator) if classification else torch.randperm(samples, generator=generator)
        chosen = chosen[:MAX_IMAGES]
        picked = x[chosen] if x is not None else read_samples(data, chosen.tolist())[0]
        picked = picked.float()
        labels = tuple(int(v) for v in y[chosen].reshape(-1)) if classification else ()
        if spec.images:
            kept = originals(params, picked, x, labels)
            augmented = augmented_grid(params, kept, names, seed=seed)
        low, high = picked.amin(dim=(1, 2, 3), keepdim=True), picked.amax(dim=(1, 2, 3), keepdim=True)
        picked = ((picked - low) / (high - low).clamp_min(1e-8) * 255).round().to(torch.uint8)
        images = picked.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).contiguous().numpy()
    elif x is not None and x.dim() == 2 and x.shape[1] >= 1:
        chosen = torch.randperm(len(x), generator=generator)[:MAX_POINTS]
        columns = x[chosen, :2].float()
        if columns.shape[1] == 1:  # one feature: plot it against the target
            columns = torch.cat([columns, y[chosen].float().reshape(-1, 1)[:, :1]], dim=1)
        points = columns.numpy()
        point_labels = y[chosen].reshape(len(chosen), -1)[:, 0].numpy()
    text = _texts(data, y, classification, generator, val_fraction, seed) if spec.tokens else None
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
        **(text or {}),
        originals=kept,
        augmented=augmented,
    )


def _texts(texts, y: torch.Tensor, classification: bool, generator, val_fraction: float, seed: int) -> dict:
    """The text fields of a Preview from the text loader's tokenised texts (`Texts`: ids into its words, text by
    text): every text's length in the tokens the network reads (pieces for byte pairs), MAX_IMAGES texts as
    written beside their tokens (one of each class first), each as read through the training part's vocabulary,
    its size, and the share of tokens outside it."""
    train_index, _ = texts.parts(val_fraction, seed)
    vocabulary = texts.vocabulary(train_index)
    # the loader's module is executed, not imported (data.loading), so its functions come with its class
    pieces, starts, sizes = type(texts).vocabulary.__globals__["word_pieces"](texts.words, vocabulary)
    ids = texts.ids.long()
    text_of_token = torch.arange(len(texts)).repeat_interleave(texts.offsets[1:] - texts.offsets[:-1])
    lengths = torch.zeros(len(texts), dtype=torch.long).index_add_(0, text_of_token, sizes[ids])
    word_of_piece = torch.arange(len(texts.words)).repeat_interleave(sizes)
    unknown_in_word = torch.zeros(len(texts.words), dtype=torch.long).index_add_(0, word_of_piece, (pieces == 1).long())
    unknown = int(unknown_in_word[ids].sum())
    whole_words = isinstance(vocabulary, list)  # a word outside it keeps its spelling, so a view can name it
    size = len(vocabulary) if whole_words else vocabulary.get_vocab_size()
    chosen = _one_per_class(y, generator) if classification else torch.randperm(len(y), generator=generator)
    examples, read = [], []
    for index in chosen[:MAX_IMAGES].tolist():
        words = ids[texts.offsets[index] : texts.offsets[index + 1]].tolist()
        examples.append((index, texts.text(index), tuple(texts.words[i] for i in words)))
        tokens, unknowns, word_starts = [], [], []
        for word in words:
            for k, piece in enumerate(pieces[starts[word] : starts[word] + sizes[word]].tolist()):
                tokens.append(texts.words[word] if whole_words else vocabulary.id_to_token(piece))
                unknowns.append(piece == 1)
                word_starts.append(k == 0)
        read.append(TextRead(tuple(tokens), tuple(unknowns), tuple(word_starts)))
    return {
        "text_lengths": lengths.numpy(),
        "text_examples": tuple(examples),
        "text_read": tuple(read),
        "text_labels": tuple(int(y[i]) for i, _, _ in examples) if classification else (),
        "vocabulary_size": size,
        "unknown_share": unknown / max(1, int(lengths.sum())),
    }


def _one_per_class(y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    order = torch.randperm(len(y), generator=generator)
    seen: set[int] = set()
    first, rest = [], []
    for index in order.tolist():
        label = int(y[index])
        (rest if label in seen else first).append(index)
        seen.add(label)
    return torch.tensor(first + rest)
