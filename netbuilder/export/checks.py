"""Comparing what a consumer of an exported file computes with what the model computes."""

from __future__ import annotations

from collections.abc import Sequence

import torch


class MismatchError(Exception):
    """The exported file computes something other than the model."""


def outputs_of(result: torch.Tensor | Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """forward()'s result as a list: one tensor, or the tuple of a model with several outputs."""
    return [result] if isinstance(result, torch.Tensor) else list(result)


def check_close(expected: list[torch.Tensor], actual: list[torch.Tensor], tolerance: float, what: str) -> None:
    """MismatchError unless every output has the expected shape and is within `tolerance` of it."""
    if len(expected) != len(actual):
        raise MismatchError(f"{what} gives {len(actual)} outputs, the model {len(expected)}")
    for want, got in zip(expected, actual, strict=True):
        got = got.to(want.dtype)
        if got.shape != want.shape:
            raise MismatchError(f"{what} gives shape {tuple(got.shape)}, the model {tuple(want.shape)}")
        difference = (got - want).abs().max().item() if want.numel() else 0.0
        if not difference <= tolerance:
            raise MismatchError(f"{what} differs from the model by {difference:.3g} (allowed {tolerance:g})")


def check_against_model(subject, run, batches: Sequence[int], tolerance: float, what: str) -> None:
    """MismatchError unless `run` (the written file in its consumer) gives `subject`'s model's outputs within
    `tolerance` on its example inputs of each batch size in `batches`; `tolerance` None compares shapes only (an
    int8 file, judged on the validation split instead)."""
    for size in batches:
        inputs = subject.example_inputs(size)
        with torch.no_grad():
            expected = outputs_of(subject.model(*inputs))
        actual = outputs_of(run(*inputs))
        if tolerance is None:
            if [tuple(e.shape) for e in expected] != [tuple(a.shape) for a in actual]:
                raise MismatchError(f"{what} gives other shapes than the model with a batch of {size}")
        else:
            check_close(expected, actual, tolerance, f"{what} with a batch of {size}")
