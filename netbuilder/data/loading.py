"""Running a dataset's loader as train.py runs it: its module's code under the node's settings, the very text
train.py holds, executed here (rather than the module imported), so the app and the export cannot differ."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch.utils.data import Dataset

from netbuilder.blocks import catalogue
from netbuilder.blocks.datasets import DATASETS
from netbuilder.runtime.build import load_module


class DataLoadError(Exception):
    """The dataset could not be read; the message says why and what to do."""


def load_dataset(params: Mapping[str, Any], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor] | Dataset:
    """All samples (x, y) of the dataset a Dataset node with these parameters reads: tensors, or for a streamed
    set (an image folder) a torch Dataset that reads each sample when asked, so nothing large is loaded here."""
    full = {**catalogue.get("Dataset").defaults(), **params}
    spec = DATASETS[full["dataset"]]
    source = "\n".join(["import torch", *spec.import_lines(full), "", spec.loader_source(full)])
    try:
        return load_module(source, f"dataset {spec.name}").load_data(seed)
    except SystemExit as err:  # the loaders' own messages for missing files
        raise DataLoadError(str(err)) from None
    except ValueError as err:  # the loaders' own messages for a value or an image that cannot be used
        raise DataLoadError(f"{spec.title} could not be read: {err}") from None
    except Exception as err:
        raise DataLoadError(f"{spec.title} could not be read: {type(err).__name__}: {err}") from None


def read_samples(dataset: Dataset, indices: Iterable[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Some samples of a streamed dataset (or a part of one from train.py's prepare_data), read now and stacked
    as tensors (x, y): for views that show samples rather than train on them. DataLoadError names a sample
    that cannot be read (a damaged image)."""
    samples = []
    for index in indices:
        try:
            samples.append(dataset[index])
        except ValueError as err:  # the image folder's own message, naming the file
            raise DataLoadError(str(err)) from None
        except Exception as err:  # PIL raises several kinds for a damaged or foreign file
            raise DataLoadError(f"sample {index} could not be read: {type(err).__name__}: {err}") from None
    if not samples:
        return torch.empty(0), torch.empty(0, dtype=torch.long)
    return torch.stack([x for x, _ in samples]), torch.tensor([y for _, y in samples])
