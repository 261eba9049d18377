"""Parameter specs that many blocks share, written once."""

from __future__ import annotations

from typing import Any

from netbuilder.blocks.spec import BlockSpec, ParamSpec


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


WEIGHT_INITS = ("default", "kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform", "orthogonal")
KAIMING = ("kaiming_normal", "kaiming_uniform")
INIT_NONLINEARITIES = ("relu", "tanh", "sigmoid", "linear")
BIAS_INITS = ("default", "zeros", "constant")
INIT_PARAMS = ("init", "init_nonlinearity", "bias_init", "bias_value")
"""The parameters `weight_init` adds: they set a layer's starting values (the generated init_weights method),
not its constructor's arguments."""


def weight_init(*, biases: bool = True) -> tuple[ParamSpec, ...]:
    """How a layer's weights start: torch's default, Kaiming/He (scaled for the activation that follows, which
    is asked only then), Xavier/Glorot or orthogonal; and, for a layer with a `bias` parameter (`biases`), how
    its bias starts. The defaults keep torch's own initialisation, so a project that never sets them builds
    and generates as before."""
    weights = (
        ParamSpec(
            "init",
            "choice",
            "default",
            "Starting weights: torch's default; Kaiming/He for ReLU-like activations; Xavier/Glorot for tanh "
            "and sigmoid; orthogonal (recurrent layers). A deep network trains only from a fitting start.",
            choices=WEIGHT_INITS,
        ),
        ParamSpec(
            "init_nonlinearity",
            "choice",
            "relu",
            "The activation after this layer, which sets Kaiming's scale (its gain).",
            choices=INIT_NONLINEARITIES,
            when=("init", KAIMING),
        ),
    )
    if not biases:
        return weights
    return (
        *weights,
        ParamSpec(
            "bias_init",
            "choice",
            "default",
            "Starting bias: torch's default, zeros, or one constant (bias_value).",
            choices=BIAS_INITS,
            when=("bias", (True,)),
        ),
        ParamSpec("bias_value", "float", 0.0, "The value every bias starts at.", when=("bias_init", ("constant",))),
    )


_WEIGHT_INIT = weight_init()


def is_weight_init(param: ParamSpec) -> bool:
    """Whether `param` is one of `weight_init`'s (a PReLU's `init` slope and a Parameter's `init` are others)."""
    return param in _WEIGHT_INIT


def takes_weight_init(spec: BlockSpec) -> bool:
    """Whether the block's weights start as its `weight_init` parameters say."""
    return any(is_weight_init(p) for p in spec.params)


def written_to_file(param: ParamSpec, value: Any) -> bool:
    """Whether a project file holds `value` of `param`: every parameter, except the weight init ones while they
    are torch's default, so a project that never chose an init is saved byte for byte as before they existed
    (a missing parameter loads as its default)."""
    return not is_weight_init(param) or value != param.default
