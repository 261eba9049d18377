"""Every compressed network measured the same way, against the float network it came from: its file's size, its
parameters (and how many are not zero), its CPU latency at batch 1 and 32 (the median of repeats), train.py's own
figures on the validation split, and the share of validation predictions equal to the float network's."""

from __future__ import annotations

import re
import statistics
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from netbuilder.project import Project
from netbuilder.training.evaluation import VALIDATION, Evaluation, agreement, evaluate_model
from netbuilder.training.program import Program

LATENCY_BATCHES = (1, 32)
# the tensors' entries in a .pt2 (data/weights/..., data/constants/...) or TorchScript (data/0, constants/...) archive
_TENSOR_ENTRY = re.compile(r"/data/(weights|constants)/(?!.*\.json$)|/(data|constants)/\d+$")
WARM_UP, REPEATS = 3, 15


@dataclass(frozen=True)
class Measurement:
    """One row of the compression table. `metrics` are train.py's evaluate() figures with the loss (accuracy and
    top5_accuracy, or mae, rmse and r2); `agreement` is the share of validation predictions (classes, for a
    classifier) equal to the float network's, None for the float row itself. `tensor_bytes` is what the file's
    tensors take (a small network's .pt2 is mostly its graph, which int8 weights make no smaller)."""

    name: str
    file: Path | None
    file_bytes: int
    tensor_bytes: int
    parameters: int
    nonzero: int
    latency_ms: dict[int, float]
    metrics: dict[str, float]
    agreement: float | None = None
    note: str = ""
    evaluation: Evaluation | None = field(default=None, repr=False, compare=False)


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(parameters, of which not zero) of a float network: a quantized copy has the same count."""
    total = nonzero = 0
    for parameter in model.parameters():
        total += parameter.numel()
        nonzero += int(torch.count_nonzero(parameter.detach()))
    return total, nonzero


def latency_samples(data: tuple, batch: int) -> torch.Tensor:
    """`batch` inputs of a split (`data` as split_data gives it: (x, y), or a streamed part), the first ones,
    repeated if the split is smaller."""
    if len(data) == 2:
        x = data[0]
    else:  # a streamed part gives (x, y) a sample
        part = data[0]
        x = torch.stack([part[i][0] for i in range(min(batch, len(part)))])
    repeats = -(-batch // max(1, len(x)))
    return x[:batch].repeat(repeats, *[1] * (x.dim() - 1))[:batch] if repeats > 1 else x[:batch]


def median_latency_ms(model: Callable[[torch.Tensor], object], x: torch.Tensor) -> float:
    """The median wall time of one forward pass on `x` on the CPU, in milliseconds, after a few to warm up."""
    with torch.inference_mode():
        for _ in range(WARM_UP):
            model(x)
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(
    name: str,
    project: Project,
    program: Program,
    model: nn.Module,
    *,
    file: Path | None,
    counts: tuple[int, int],
    data: tuple,
    reference: Evaluation | None = None,
    timed: nn.Module | None = None,
    note: str = "",
) -> Measurement:
    """`model` (on the CPU and in eval mode already: an exported module refuses .eval()) evaluated on the
    validation split and timed at LATENCY_BATCHES (`timed`, a compiled form of it, is timed instead where given);
    `counts` are (parameters, not zero) of the float network it was made from; `data` the validation split as
    split_data gives it; `reference` the float network's evaluation, for the agreement."""
    evaluation = evaluate_model(project, program, model, VALIDATION, data=data)
    inputs = latency_samples(data, max(LATENCY_BATCHES))
    latency = {b: median_latency_ms(model if timed is None else timed, inputs[:b]) for b in LATENCY_BATCHES}
    return Measurement(
        name,
        file,
        file.stat().st_size if file is not None else 0,
        tensor_bytes(file) if file is not None else 0,
        counts[0],
        counts[1],
        latency,
        {"loss": evaluation.loss, **evaluation.metrics},
        None if reference is None else agreement(reference, evaluation),
        note,
        evaluation,
    )


def tensor_bytes(path: Path) -> int:
    """The bytes of the tensors stored in a .pt2 or TorchScript file (both zip archives), without its graph,
    code and metadata."""
    with zipfile.ZipFile(path) as archive:
        return sum(entry.file_size for entry in archive.infolist() if _TENSOR_ENTRY.search(entry.filename))
