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
