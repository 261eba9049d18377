"""Normalization blocks: batch, layer, group and instance normalization.

Each normalises over some dimensions and (optionally) learns a per-feature scale and shift. The sizes they
normalise over follow the incoming tensor. Running statistics are buffers, not parameters: they never count.
"""

from __future__ import annotations

import math

from netbuilder.blocks.errors import ReplaceOwnBlock, SetOwnParam
from netbuilder.blocks.shared_params import inferred_size
from netbuilder.blocks.spec import BlockSpec, ModuleCode, ParamSpec, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, TensorType, format_shape


def _eps() -> ParamSpec:
    return ParamSpec(
        "eps", "float", 1e-5, "Small value added to the variance so it never divides by zero.", min=1e-12, max=1.0
    )


def _momentum() -> ParamSpec:
    return ParamSpec(
        "momentum", "float", 0.1, "How fast the running mean and variance follow each batch.", min=0.0, max=1.0
    )


def _affine(default: bool) -> ParamSpec:
    return ParamSpec("affine", "bool", default, "Learn a scale and a shift per channel.")


def _track(default: bool) -> ParamSpec:
    return ParamSpec(
        "track_running_stats",
        "bool",
        default,
        "Keep running statistics for evaluation (otherwise every batch normalises with its own).",
    )


def _per_channel_params(p, inputs, outputs) -> int:
    return 2 * p["num_features"] if p["affine"] else 0


# BatchNorm ----------------------------------------------------------------------------------------------------


def _batch_norm_1d_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", dtype=FLOAT)
    if x.rank not in (2, 3):
        images = x.rank == 4
        raise ctx.fail(
            f"BatchNorm1d expects (N, features) or (N, channels, length) but receives {x}"
            + (" (use BatchNorm2d for images)" if images else ""),
            port="x",
            hint=ReplaceOwnBlock("BatchNorm2d") if images else None,
        )
    ctx.resolve("num_features", x.shape[1], "channels" if x.rank == 3 else "features")
    return {"y": x}


def _batch_norm_2d_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", dtype=FLOAT)
    if x.rank != 4:
        flat = x.rank in (2, 3)
        raise ctx.fail(
            f"BatchNorm2d expects (N, channels, height, width) but receives {x}"
            + (" (use BatchNorm1d for features or sequences)" if flat else ""),
            port="x",
            hint=ReplaceOwnBlock("BatchNorm1d") if flat else None,
        )
    ctx.resolve("num_features", x.shape[1], "channels")
    return {"y": x}


def _batch_norm(type_: str, doc: str, rule) -> BlockSpec:
    return BlockSpec(
        type=type_,
        category="Normalization",
        doc=doc,
        params=(
            inferred_size("num_features", "channels (or features)"),
            _eps(),
            _momentum(),
            _affine(True),
            _track(True),
        ),
        rule=rule,
        count_params=_per_channel_params,
        module=ModuleCode(f"nn.{type_}", positional=("num_features",)),
        label_prefix="bn",
        batch_statistics=True,
    )


# LayerNorm ----------------------------------------------------------------------------------------------------


def _layer_norm_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", dtype=FLOAT)
    dims = ctx.p["dims"]
    if x.rank - 1 < dims:
        what = "the last dimension" if dims == 1 else f"the last {dims} dimensions"
        raise ctx.fail(
            f"LayerNorm over {what} needs {dims} dimension{'s' if dims > 1 else ''} after the batch but receives {x}",
            port="x",
            param="dims",
            hint=SetOwnParam("dims", x.rank - 1) if x.rank > 1 else None,
        )
    actual = x.features[-dims:]
    pinned = ctx.p["normalized_shape"]
    if pinned is not None and tuple(pinned) != actual:
        pinned = tuple(pinned)
        k = len(pinned)
        fits_other = k != dims and k < x.rank and x.features[-k:] == pinned
        raise ctx.fail(
            f"LayerNorm has normalized_shape pinned to {_shape_words(pinned)} but the last "
            f"{'dimension' if dims == 1 else f'{dims} dimensions'} of {x} "
            f"{'is' if dims == 1 else 'are'} {_shape_words(actual)}",
            port="x",
            param="dims" if fits_other else "normalized_shape",
            hint=SetOwnParam("dims", k) if fits_other else SetOwnParam("normalized_shape", None),
        )
    # torch takes an int for one dimension: nn.LayerNorm(64) reads better than nn.LayerNorm((64,)).
    ctx.p["normalized_shape"] = actual[0] if dims == 1 else actual
    if math.prod(actual) == 1:
        ctx.warn(
            f"LayerNorm over {_shape_words(actual)} normalises a single value per sample: "
            "its output is always zero (plus the bias)",
            port="x",
            param="dims",
        )
    return {"y": x}


def _shape_words(shape: tuple[int, ...]) -> str:
    return str(shape[0]) if len(shape) == 1 else format_shape(shape)


def _layer_norm_params(p, inputs, outputs) -> int:
    shape = p["normalized_shape"]
    size = shape if isinstance(shape, int) else math.prod(shape)
    if not p["elementwise_affine"]:
        return 0
    return size * (2 if p["bias"] else 1)


LAYER_NORM = BlockSpec(
    type="LayerNorm",
    category="Normalization",
    doc="Normalises each sample over its last dimension(s), then learns a scale and shift.\n"
    "The normalization of transformers and RNNs; it does not depend on the batch.",
    params=(
        ParamSpec(
            "normalized_shape",
            "ints",
            None,
            "Sizes of the normalised dimensions; auto follows the incoming tensor.",
            min=1,
            optional=True,
            inferred=True,
            lengths=(1, 2, 3),
        ),
        ParamSpec(
            "dims",
            "int",
            1,
            "How many trailing dimensions to normalise over (1 = the features, 2 = e.g. height and width).",
            min=1,
            max=3,
        ),
        _eps(),
        ParamSpec("elementwise_affine", "bool", True, "Learn a scale (and a shift) per normalised value."),
        ParamSpec("bias", "bool", True, "Learn the additive shift too.", when=("elementwise_affine", (True,))),
    ),
    rule=_layer_norm_rule,
    count_params=_layer_norm_params,
    module=ModuleCode("nn.LayerNorm", positional=("normalized_shape",), omit=("dims",)),
    label_prefix="ln",
)


# GroupNorm ----------------------------------------------------------------------------------------------------


def _group_norm_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", tuple(range(2, 7)), "(N, channels, ...)", dtype=FLOAT)
    groups = ctx.p["num_groups"]
    channels = int(x.shape[1])
    if channels % groups:
        best = max(g for g in range(1, min(groups, channels) + 1) if channels % g == 0)
        raise ctx.fail(
            f"GroupNorm with {groups} groups needs a channel count divisible by {groups} but receives "
            f"{channels} channels {x}",
            port="x",
            param="num_groups",
            hint=SetOwnParam("num_groups", best),
        )
    ctx.resolve("num_channels", channels, "channels")
    if channels // groups * math.prod(x.features[1:]) == 1:
        ctx.warn(
            f"GroupNorm with {groups} groups on {x} normalises a single value per group: its output is always "
            "zero (plus the bias); use fewer groups",
            param="num_groups",
        )
    return {"y": x}


GROUP_NORM = BlockSpec(
    type="GroupNorm",
    category="Normalization",
    doc="Normalises each sample over groups of channels, then learns a scale and shift per channel.\n"
    "Works like BatchNorm but does not depend on the batch: good for small batches (detection, segmentation).",
    params=(
        ParamSpec("num_groups", "int", 8, "Number of channel groups; must divide the channel count.", min=1, max=4096),
        inferred_size("num_channels", "channels"),
        _eps(),
        _affine(True),
    ),
    rule=_group_norm_rule,
    count_params=lambda p, i, o: 2 * p["num_channels"] if p["affine"] else 0,
    module=ModuleCode("nn.GroupNorm", positional=("num_groups", "num_channels")),
    label_prefix="gn",
)


# InstanceNorm -------------------------------------------------------------------------------------------------


def _instance_norm_2d_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", dtype=FLOAT)
    if x.rank != 4:
        # torch would read (N, C, L) as one unbatched (C, H, W) image and normalise across the batch: refused.
        raise ctx.fail(f"InstanceNorm2d expects (N, channels, height, width) but receives {x}", port="x")
    ctx.resolve("num_features", x.shape[1], "channels")
    if x.shape[2] * x.shape[3] == 1:
        raise ctx.fail(
            f"InstanceNorm2d needs more than one value per channel (height x width > 1) but receives {x}",
            port="x",
        )
    return {"y": x}


INSTANCE_NORM_2D = BlockSpec(
    type="InstanceNorm2d",
    category="Normalization",
    doc="Normalises each channel of each image on its own, over height and width.\n"
    "Used in style transfer and image generation, where per-image contrast should not matter.",
    params=(
        inferred_size("num_features", "channels"),
        _eps(),
        _momentum(),
        _affine(False),
        _track(False),
    ),
    rule=_instance_norm_2d_rule,
    count_params=_per_channel_params,
    module=ModuleCode("nn.InstanceNorm2d", positional=("num_features",)),
    label_prefix="inorm",
)


SPECS = (
    _batch_norm(
        "BatchNorm1d",
        "Normalises each feature over the batch, then learns a scale and shift.\n"
        "After Linear (N, features) or Conv1d (N, channels, length) layers: trains faster and more stably.",
        _batch_norm_1d_rule,
    ),
    _batch_norm(
        "BatchNorm2d",
        "Normalises each channel over the batch and the image, then learns a scale and shift.\n"
        "After Conv2d layers: the standard companion of convolutions in CNNs.",
        _batch_norm_2d_rule,
    ),
    LAYER_NORM,
    GROUP_NORM,
    INSTANCE_NORM_2D,
)
