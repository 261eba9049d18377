"""Running a dataset's loader: the same source text that train.py holds, executed here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from netbuilder.blocks import catalogue
from netbuilder.blocks.datasets import DATASETS
from netbuilder.runtime.build import load_module


class DataLoadError(Exception):
    """The dataset could not be read; the message says why and what to do."""


def load_dataset(params: Mapping[str, Any], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """All samples (x, y) of the dataset a Dataset node with these parameters reads."""
    full = {**catalogue.get("Dataset").defaults(), **params}
    spec = DATASETS[full["dataset"]]
    source = "\n".join(["import torch", *spec.import_lines(full), "", spec.loader_source(full)])
    try:
        return load_module(source, f"dataset {spec.name}").load_data(seed)
    except SystemExit as err:  # the loaders' own messages for missing files
        raise DataLoadError(str(err)) from None
    except Exception as err:
        raise DataLoadError(f"{spec.title} could not be read: {type(err).__name__}: {err}") from None
