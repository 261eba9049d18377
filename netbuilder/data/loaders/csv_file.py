"""A CSV table with a header row: one column is the target, every other a numeric feature."""

from __future__ import annotations

import csv

import torch

PATH, TARGET_COLUMN, TASK = "data", "target", "classification"


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A CSV file with a header row: the target column, and every other column as a numeric feature."""
    with open(PATH, newline="", encoding="utf-8-sig") as stream:
        rows = [row for row in csv.reader(stream) if row]
    header = [name.strip() for name in rows[0]]
    target = header.index(TARGET_COLUMN)
    features = [i for i in range(len(header)) if i != target]
    x = torch.tensor([[float(row[i]) for i in features] for row in rows[1:]], dtype=torch.float32)
    if TASK == "classification":
        classes = sorted({row[target].strip() for row in rows[1:]})
        y = torch.tensor([classes.index(row[target].strip()) for row in rows[1:]])
    else:
        y = torch.tensor([[float(row[target])] for row in rows[1:]], dtype=torch.float32)
    return x, y
