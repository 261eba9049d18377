"""What flows along an edge: a shape over a symbolic batch dimension, a dtype, and for targets the class count."""

from __future__ import annotations

from dataclasses import dataclass

BATCH = "N"
"""The symbolic batch dimension. Shapes are tuples whose first entry is BATCH and whose others are ints, except
those of a learned tensor (a Parameter block: (1, 1, 768)), which is one for the whole batch and all ints."""

FLOAT = "float32"
LONG = "int64"

Dim = int | str


@dataclass(frozen=True, slots=True)
class TensorType:
    """The static type of a tensor: shape with a symbolic batch, dtype, and (for class-index targets) classes."""

    shape: tuple[Dim, ...]
    dtype: str = FLOAT
    classes: int | None = None

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def batched(self) -> bool:
        """Whether the first dimension is the batch. A learned tensor's is a number: only the blocks that
        broadcast it over the batch (Add, Multiply) or give it one (Expand) take it (BlockSpec.takes_unbatched)."""
        return bool(self.shape) and self.shape[0] == BATCH

    @property
    def features(self) -> tuple[int, ...]:
        """The shape without the batch dimension (of a batched type)."""
        return tuple(int(d) for d in self.shape[1:])

    def numel_per_sample(self) -> int:
        total = 1
        for d in self.features:
            total *= d
        return total

    def with_shape(self, *features: int) -> TensorType:
        """The same dtype with a new per-sample shape."""
        return TensorType((BATCH, *features), self.dtype)

    def __str__(self) -> str:
        return format_shape(self.shape)


def batched(*features: int, dtype: str = FLOAT, classes: int | None = None) -> TensorType:
    """A tensor type (N, *features)."""
    return TensorType((BATCH, *features), dtype, classes)


def format_shape(shape: tuple[Dim, ...]) -> str:
    """(N, 16, 4, 4), or (N,) for a vector of one value per sample."""
    inner = ", ".join(str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"
