"""A CSV table with a header row: one column is the target, every other a numeric feature."""

from __future__ import annotations

import csv

import torch

PATH, TARGET_COLUMN, TASK = "data", "target", "classification"


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A CSV file with a header row: the target column, and every other column as a numeric feature."""
    with open(PATH, newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        lines, rows = [], []
        for row in reader:
            if row:
                lines.append(reader.line_num)
                rows.append(row)
    header = [name.strip() for name in rows[0]]
    target = header.index(TARGET_COLUMN)
    features = [i for i in range(len(header)) if i != target]
    x = torch.tensor([[float(row[i]) for i in features] for row in rows[1:]], dtype=torch.float32)
    refuse_infinite(x, lines[1:], [header[i] for i in features])
    if TASK == "classification":
        classes = sorted({row[target].strip() for row in rows[1:]})
        y = torch.tensor([classes.index(row[target].strip()) for row in rows[1:]])
    else:
        y = torch.tensor([[float(row[target])] for row in rows[1:]], dtype=torch.float32)
        refuse_infinite(y, lines[1:], [TARGET_COLUMN])
    return x, y


def refuse_infinite(values: torch.Tensor, lines: list[int], columns: list[str]) -> None:
    """Stop at the first value that is NaN or infinite (or beyond float32), naming its line and column: it
    would make every loss NaN."""
    bad = (~torch.isfinite(values)).nonzero()
    if len(bad):
        row, column = bad[0].tolist()
        raise ValueError(
            f"{PATH} line {lines[row]}, column {columns[column]!r}: {values[row, column].item()} is not a finite "
            "number: fill or drop the row"
        )
