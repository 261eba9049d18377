"""Parameter specs that many blocks share, written once."""

from __future__ import annotations

from netbuilder.blocks.spec import ParamSpec


def inferred_size(name: str, what: str) -> ParamSpec:
    """A size that follows the incoming tensor unless pinned by hand (in_features, in_channels ...)."""
    return ParamSpec(
        name,
        "int",
        None,
        f"Number of input {what}; auto follows the incoming tensor.",
        min=1,
        optional=True,
        inferred=True,
    )


def window_param(
    name: str, default: int | None, help: str, dims: int, low: int, high: int, words: tuple[str, ...] = (), **options
) -> ParamSpec:
    """A window setting (kernel_size, stride, padding, dilation ...): one int in one dimension; in two or
    three, one int for all or one per dimension, as torch takes them (Inception's 1x7 kernels); or one of
    `words` where torch takes those too (a convolution's padding 'same')."""
    if dims == 1 and not words:
        return ParamSpec(name, "int", default, help, min=low, max=high, **options)
    return ParamSpec(name, "int_per_dim", default, help, min=low, max=high, lengths=(dims,), choices=words, **options)


def size(name: str, default: int, help: str, maximum: int = 1_000_000) -> ParamSpec:
    return ParamSpec(name, "int", default, help, min=1, max=maximum)


def bias(default: bool = True) -> ParamSpec:
    return ParamSpec("bias", "bool", default, "Learn an additive bias.")


def probability(name: str, default: float, help: str) -> ParamSpec:
    return ParamSpec(name, "float", default, help, min=0.0, max=1.0)


def not_batch_dim(value: int) -> str | None:
    """Refuse dim 0: mixing samples across the batch is never what a layer should do."""
    return "dimension 0 is the batch; choose 1 or later (or -1 for the last)" if value == 0 else None
