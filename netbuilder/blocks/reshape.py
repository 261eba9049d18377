"""Blocks that rearrange values without learning anything: Flatten, Reshape, Permute and Upsample.

The batch dimension is never touched: every size and dimension number here counts from the first dimension
after it, which is why dimension 0 always stays where it is.
"""

from __future__ import annotations

import math

from netbuilder.blocks.errors import SetOwnParam
from netbuilder.blocks.shared_params import not_batch_dim
from netbuilder.blocks.spec import BlockSpec, ForwardContext, ModuleCode, ParamSpec, RuleContext
from netbuilder.blocks.tensor_type import BATCH, FLOAT, TensorType, format_shape

# Flatten ------------------------------------------------------------------------------------------------------


def _flatten_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x")
    start, end = ctx.p["start_dim"], ctx.p["end_dim"]
    if start >= x.rank:
        raise ctx.fail(
            f"Flatten from dim {start} needs an input with more than {start} dimensions but receives {x}",
            port="x",
            param="start_dim",
            hint=SetOwnParam("start_dim", 1) if x.rank > 1 and start != 1 else None,
        )
    last = end + x.rank if end < 0 else end
    if not 0 <= last < x.rank:
        raise ctx.fail(
            f"Flatten up to dim {end} needs an input with more dimensions than {x}",
            port="x",
            param="end_dim",
            hint=SetOwnParam("end_dim", -1),
        )
    if start > last:
        raise ctx.fail(
            f"Flatten from dim {start} to dim {end} of {x}: end_dim (dimension {last}) comes before start_dim",
            port="x",
            param="end_dim",
            hint=SetOwnParam("end_dim", -1),
        )
    sizes = x.features
    merged = math.prod(sizes[start - 1 : last])
    return {"y": x.with_shape(*sizes[: start - 1], merged, *sizes[last:])}


FLATTEN = BlockSpec(
    type="Flatten",
    category="Reshape",
    doc="Joins dimensions start_dim..end_dim into one: (N, 16, 4, 4) becomes (N, 256).\n"
    "Between convolutional layers and fully connected ones.",
    params=(
        ParamSpec("start_dim", "int", 1, "First dimension to join (1 = the first after the batch).", min=1, max=5),
        ParamSpec("end_dim", "int", -1, "Last dimension to join (-1 = the last).", min=-5, max=5, check=not_batch_dim),
    ),
    rule=_flatten_rule,
    module=ModuleCode("nn.Flatten"),
)


# Reshape ------------------------------------------------------------------------------------------------------


def _check_shape(shape: tuple[int, ...]) -> str | None:
    if 0 in shape:
        return "sizes must be positive, or -1 for the one size that follows from the others"
    if shape.count(-1) > 1:
        return "at most one size can be -1 (the one that follows from the others)"
    return None


def _reshape_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x")
    shape = ctx.p["shape"]
    per_sample = x.numel_per_sample()
    target = format_shape((BATCH, *shape))
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if per_sample % known:
            raise ctx.fail(
                f"Reshape to {target} needs a multiple of {known} values per sample but {x} has {per_sample}",
                port="x",
                param="shape",
            )
        return {"y": x.with_shape(*(per_sample // known if s == -1 else s for s in shape))}
    if known != per_sample:
        rest = math.prod(shape[1:])
        raise ctx.fail(
            f"Reshape to {target} needs {known} values per sample but {x} has {per_sample}",
            port="x",
            param="shape",
            hint=SetOwnParam("shape", (-1, *shape[1:])) if per_sample % rest == 0 else None,
        )
    return {"y": x.with_shape(*shape)}


def _reshape_forward(ctx: ForwardContext) -> list[str]:
    # The batch is passed as x.size(0), not -1: with -1, a per-sample size that does not match would be
    # silently absorbed into the batch ((N, 512) -> (2N, 256) mixes samples), and the one -1 a shape may hold
    # is left for the user's own dimensions. x.size(0) is right for any batch size.
    x = ctx.args["x"]
    sizes = ", ".join(str(int(s)) for s in ctx.p["shape"])
    return [f"{ctx.out} = {x}.reshape({x}.size(0), {sizes})"]


RESHAPE = BlockSpec(
    type="Reshape",
    category="Reshape",
    doc="Gives each sample a new shape with the same number of values: (N, 256) to (N, 16, 4, 4).\n"
    "To turn flat features back into images or sequences; -1 stands for the size that follows from the others.",
    params=(
        ParamSpec(
            "shape",
            "ints",
            (-1,),
            "New shape of each sample, without the batch (one size may be -1).",
            min=-1,
            max=1_000_000,
            lengths=(1, 2, 3, 4, 5),
            check=_check_shape,
        ),
    ),
    rule=_reshape_rule,
    forward=_reshape_forward,
)


# Permute ------------------------------------------------------------------------------------------------------


def _check_permutation(dims: tuple[int, ...]) -> str | None:
    if dims[0] != 0:
        return "dimension 0 is the batch and must stay first"
    if sorted(dims) != list(range(len(dims))):
        return f"expected each of 0 to {len(dims) - 1} exactly once, got {dims!r}"
    return None


def _permute_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x")
    dims = ctx.p["dims"]
    if len(dims) != x.rank:
        raise ctx.fail(
            f"Permute with dims {format_shape(dims)} expects a tensor with {len(dims)} dimensions "
            f"but receives {x} with {x.rank}",
            port="x",
            param="dims",
        )
    return {"y": x.with_shape(*(int(x.shape[d]) for d in dims[1:]))}


def _permute_forward(ctx: ForwardContext) -> list[str]:
    dims = ", ".join(str(int(d)) for d in ctx.p["dims"])
    return [f"{ctx.out} = {ctx.args['x']}.permute({dims})"]


PERMUTE = BlockSpec(
    type="Permute",
    category="Reshape",
    doc="Reorders dimensions; the batch stays first: (0, 2, 1) turns (N, C, L) into (N, L, C).\n"
    "To move channels last for Linear or LayerNorm, or between (N, L, C) and (N, C, L) for Conv1d.",
    params=(
        ParamSpec(
            "dims",
            "ints",
            (0, 2, 1),
            "The new order of the dimensions, 0 (the batch) first.",
            min=0,
            max=5,
            lengths=(2, 3, 4, 5, 6),
            check=_check_permutation,
        ),
    ),
    rule=_permute_rule,
    forward=_permute_forward,
)


# Upsample -----------------------------------------------------------------------------------------------------

_LAYOUTS = {
    3: "(N, channels, length)",
    4: "(N, channels, height, width)",
    5: "(N, channels, depth, height, width)",
}
_MODE_RANKS = {
    "nearest": (3, 4, 5),
    "linear": (3,),
    "bilinear": (4,),
    "bicubic": (4,),
    "trilinear": (5,),
}
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


def _upsample_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", dtype=FLOAT)
    mode = ctx.p["mode"]
    ranks = _MODE_RANKS[mode]
    if x.rank not in ranks:
        layout = " or ".join(_LAYOUTS[r] for r in ranks)
        fitting = next((m for m in _INTERPOLATING if _MODE_RANKS[m] == (x.rank,)), None)
        if mode == "nearest" or fitting is None:
            raise ctx.fail(f"Upsample ({mode}) expects {layout} but receives {x}", port="x")
        raise ctx.fail(
            f"Upsample ({mode}) expects {layout} but receives {x}: '{fitting}' is the mode for that shape",
            port="x",
            param="mode",
            hint=SetOwnParam("mode", fitting),
        )
    scale = ctx.p["scale_factor"]
    # torch computes floor(size * scale) in double precision, as Python does.
    sizes = [math.floor(d * scale) for d in x.features[1:]]
    if min(sizes) < 1:
        raise ctx.fail(
            f"Upsample by {scale:g} shrinks {x} to nothing (output {format_shape((BATCH, x.shape[1], *sizes))})",
            port="x",
            param="scale_factor",
        )
    if float(scale).is_integer():
        ctx.p["scale_factor"] = int(scale)  # nn.Upsample(scale_factor=2) reads better than 2.0
    return {"y": x.with_shape(int(x.shape[1]), *sizes)}


UPSAMPLE = BlockSpec(
    type="Upsample",
    category="Reshape",
    doc="Enlarges the length, height and width (and depth) of (N, C, ...) by a factor; channels are kept.\n"
    "In decoders, U-Nets and generators, often followed by a convolution.",
    params=(
        ParamSpec(
            "scale_factor",
            "float",
            2.0,
            "Factor for every spatial size (output = floor(size x factor)).",
            min=0.1,
            max=16.0,
        ),
        ParamSpec(
            "mode",
            "choice",
            "nearest",
            "How new values are filled in: copy the nearest, or interpolate (linear for (N, C, L), bilinear or "
            "bicubic for images, trilinear for volumes).",
            choices=tuple(_MODE_RANKS),
        ),
        ParamSpec(
            "align_corners",
            "bool",
            False,
            "Interpolate between the corner pixels' centres exactly (changes values, not the shape).",
            when=("mode", _INTERPOLATING),
        ),
    ),
    rule=_upsample_rule,
    # torch's own defaults are None for both: scale_factor (it takes a size instead) and align_corners (read as
    # False); ours are always written, align_corners only for the interpolating modes (torch refuses it otherwise).
    module=ModuleCode("nn.Upsample", always=("scale_factor", "align_corners")),
    label_prefix="up",
)

SPECS = (FLATTEN, RESHAPE, PERMUTE, UPSAMPLE)
