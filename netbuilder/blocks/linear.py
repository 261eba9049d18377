"""Fully connected and pass-through blocks."""

from __future__ import annotations

from netbuilder.blocks.errors import InsertBefore
from netbuilder.blocks.shared_params import INIT_PARAMS, bias, inferred_size, size, weight_init
from netbuilder.blocks.spec import BlockSpec, ModuleCode, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, TensorType

_FEATURES_LAST = ("Linear", "LayerNorm", "Permute")


def _linear_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", (2, 3, 4, 5, 6), "(N, features) or (N, ..., features)", dtype=FLOAT)
    pinned = ctx.p["in_features"]
    flat = x.numel_per_sample()
    if x.rank > 2 and pinned is not None and pinned != x.shape[-1] and pinned == flat:
        raise ctx.fail(f"Linear expects (N, {pinned}) but receives {x}", port="x", hint=InsertBefore("x", "Flatten"))
    ctx.resolve("in_features", x.shape[-1], "features")
    # (N, C, H, W) into a Linear is a missing Flatten; channels-last (N, H, W, C), as Swin and ConvNeXt use it,
    # is meant: told apart by the last two sizes (H and W alike, C another) and by a producer that works on the
    # last dimension
    if x.rank >= 4 and x.shape[-1] == x.shape[-2] and ctx.producer("x") not in _FEATURES_LAST:
        ctx.warn(
            f"Linear acts on the last dimension only, and receives {x}: insert Flatten to use all {flat} values",
            port="x",
            hint=InsertBefore("x", "Flatten"),
        )
    return {"y": x.with_shape(*x.features[:-1], ctx.p["out_features"])}


def _linear_params(p, inputs, outputs) -> int:
    return p["in_features"] * p["out_features"] + (p["out_features"] if p["bias"] else 0)


def _linear_macs(p, inputs, outputs) -> int:
    return outputs["y"].numel_per_sample() * p["in_features"]


LINEAR = BlockSpec(
    type="Linear",
    category="Core",
    doc="Fully connected layer: y = x Wᵀ + b on the last dimension.\n"
    "Maps in_features values to out_features values; in_features follows the input.",
    params=(
        inferred_size("in_features", "features"),
        size("out_features", 64, "Number of output features."),
        bias(),
        *weight_init(),
    ),
    rule=_linear_rule,
    count_params=_linear_params,
    count_macs=_linear_macs,
    module=ModuleCode("nn.Linear", positional=("in_features", "out_features"), omit=INIT_PARAMS),
    size_param="out_features",
    label_prefix="fc",
)


def _identity_rule(ctx: RuleContext) -> dict[str, TensorType]:
    return {"y": ctx.input("x")}


IDENTITY = BlockSpec(
    type="Identity",
    category="Core",
    doc="Passes its input through unchanged.\nUseful as a named tap point or a placeholder while sketching.",
    rule=_identity_rule,
    module=ModuleCode("nn.Identity"),
)

SPECS = (LINEAR, IDENTITY)
