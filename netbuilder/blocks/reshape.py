"""Blocks that rearrange values without learning anything: Flatten, Reshape, Permute, Upsample, Slice, Select, Pad,
Unsqueeze and Squeeze.

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


# Slice and Select: Python indexing along one dimension -------------------------------------------------------


def _axis(ctx: RuleContext, x: TensorType, what: str) -> int:
    """The dimension `dim` names, counted from 0 = the batch, refused where it is not one after the batch."""
    dim = ctx.p["dim"]
    axis = dim + x.rank if dim < 0 else dim
    if not 1 <= axis < x.rank:
        raise ctx.fail(
            f"{what} along dim {dim} needs an input with more dimensions than {x}",
            port="x",
            param="dim",
            hint=SetOwnParam("dim", 1) if x.rank > 1 and dim != 1 else None,
        )
    return axis


def _subscript(x: str, dim: int, item: str) -> str:
    """`x[:, item]` for dim 1, `x[..., item]` for dim -1, `x[..., item, :]` for dim -2: what a person writes."""
    if dim > 0:
        return f"{x}[{', '.join([':'] * dim + [item])}]"
    return f"{x}[{', '.join(['...', item] + [':'] * (-dim - 1))}]"


def _slice_text(p: dict) -> str:
    """Python's slice as typed: 10:20, :20, 10:, ::2, -3:."""
    start, end, step = int(p["start"]), p["end"], int(p["step"])
    text = f"{start if start else ''}:{'' if end is None else int(end)}"
    return text + (f":{step}" if step != 1 else "")


def _slice_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x")
    axis = _axis(ctx, x, "Slice")
    p = ctx.p
    size = len(range(*slice(p["start"], p["end"], p["step"]).indices(x.shape[axis])))
    if size == 0:  # torch gives an empty tensor, which nothing after it can use
        raise ctx.fail(
            f"Slice [{_slice_text(p)}] of dim {p['dim']} keeps nothing of {x} (that dimension has {x.shape[axis]})",
            port="x",
            param="start",
        )
    sizes = list(x.features)
    sizes[axis - 1] = size
    return {"y": x.with_shape(*sizes)}


def _slice_forward(ctx: ForwardContext) -> list[str]:
    return [f"{ctx.out} = {_subscript(ctx.args['x'], int(ctx.p['dim']), _slice_text(ctx.p))}"]


_POSITION = 1_000_000
"""How far a slice's start and end may reach, either way: beyond any size, as Python clamps them."""

SLICE = BlockSpec(
    type="Slice",
    category="Reshape",
    doc="A range along one dimension, as Python slicing: start 10, end 20 on dim 1 is x[:, 10:20].\n"
    "One piece of x.chunk(2, dim=1) or torch.split, every other value (step 2), the last few (start -3).",
    params=(
        ParamSpec(
            "dim",
            "int",
            1,
            "The dimension to slice (1 = the first after the batch, -1 = the last).",
            min=-5,
            max=5,
            check=not_batch_dim,
        ),
        ParamSpec(
            "start",
            "int",
            0,
            "First index kept (negative counts from the end, as in Python).",
            min=-_POSITION,
            max=_POSITION,
        ),
        ParamSpec(
            "end",
            "int",
            None,
            "Index where the slice stops, not kept (negative counts from the end).",
            min=-_POSITION,
            max=_POSITION,
            optional=True,
            none_label="to the end",
        ),
        ParamSpec("step", "int", 1, "Keep every step-th value (2: every other one).", min=1, max=_POSITION),
    ),
    rule=_slice_rule,
    forward=_slice_forward,
)


def _select_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x")
    axis = _axis(ctx, x, "Select")
    index, size = ctx.p["index"], int(x.shape[axis])
    if not -size <= index < size:
        raise ctx.fail(
            f"Select index {index} is outside dim {ctx.p['dim']} of {x}, which has {size} "
            f"(indices {-size} to {size - 1})",
            port="x",
            param="index",
            hint=SetOwnParam("index", size - 1 if index > 0 else 0),
        )
    sizes = list(x.features)
    del sizes[axis - 1]
    return {"y": x.with_shape(*sizes)}


def _select_forward(ctx: ForwardContext) -> list[str]:
    return [f"{ctx.out} = {_subscript(ctx.args['x'], int(ctx.p['dim']), str(int(ctx.p['index'])))}"]


SELECT = BlockSpec(
    type="Select",
    category="Reshape",
    doc="One index along one dimension, which goes away: index 0 on dim 1 is x[:, 0], (N, L, E) to (N, E).\n"
    "The class token of a vision transformer, or the last step of a sequence (index -1).",
    params=(
        ParamSpec(
            "dim",
            "int",
            1,
            "The dimension to index (1 = the first after the batch, -1 = the last).",
            min=-5,
            max=5,
            check=not_batch_dim,
        ),
        ParamSpec(
            "index",
            "int",
            0,
            "The index kept (negative counts from the end: -1 is the last).",
            min=-_POSITION,
            max=_POSITION - 1,
        ),
    ),
    rule=_select_rule,
    forward=_select_forward,
)


# Pad ----------------------------------------------------------------------------------------------------------

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_sizes(ctx: RuleContext, x: TensorType) -> list[int]:
    """The padded sizes, refused where torch refuses them for this mode (or the result would be empty)."""
    padding, mode = ctx.p["padding"], ctx.p["mode"]
    sizes = list(x.features)
    for i in range(len(padding) // 2):
        before, after = padding[2 * i], padding[2 * i + 1]
        axis = x.rank - 1 - i
        n = sizes[axis - 1]
        where = f"dim {axis} of {x}"
        if mode == "reflect" and max(before, after) >= n:
            raise ctx.fail(
                f"Pad (reflect) by {before}, {after} needs less than the size on each side, but {where} has {n}",
                port="x",
                param="padding",
                hint=SetOwnParam("mode", "replicate"),
            )
        if mode == "circular" and max(before, after) > n:
            raise ctx.fail(
                f"Pad (circular) by {before}, {after} would wrap around {where} more than once (its size is {n})",
                port="x",
                param="padding",
            )
        # Ours alone: torch fails on some such crops and returns others, which mean nothing.
        if mode == "circular" and min(before, after) < -n:
            raise ctx.fail(
                f"Pad (circular) by {before}, {after} crops more than {where} holds (its size is {n})",
                port="x",
                param="padding",
            )
        # constant mode crops before it pads, and a crop cannot take more than there is
        cropped = n + min(before, 0) + min(after, 0)
        out = n + before + after
        if out < 1 or (mode == "constant" and cropped < 0):
            raise ctx.fail(
                f"Pad by {before}, {after} leaves nothing of {where}, which has {n}",
                port="x",
                param="padding",
            )
        sizes[axis - 1] = out
    return sizes


def _pad_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x")
    padding, mode = ctx.p["padding"], ctx.p["mode"]
    pairs = len(padding) // 2
    if pairs >= x.rank:
        raise ctx.fail(
            f"Pad by {format_shape(padding)} pads the last {pairs} dimensions but {x} has {x.rank - 1} after the batch",
            port="x",
            param="padding",
        )
    # torch pads the last 1, 2 or 3 dimensions of (C, ...) or (N, C, ...) in these modes
    if mode != "constant" and not (pairs <= 3 and x.rank - pairs in (1, 2)):
        raise ctx.fail(
            f"Pad ({mode}) of the last {pairs} dimension{'s' if pairs > 1 else ''} needs an input with "
            f"{pairs + 1} or {pairs + 2} dimensions but receives {x}: constant mode pads any",
            port="x",
            param="mode",
            hint=SetOwnParam("mode", "constant"),
        )
    return {"y": x.with_shape(*_pad_sizes(ctx, x))}


def _pad_forward(ctx: ForwardContext) -> list[str]:
    padding = format_shape(tuple(int(v) for v in ctx.p["padding"]))
    mode, value = ctx.p["mode"], float(ctx.p["value"])
    extra = f", mode={mode!r}" if mode != "constant" else f", value={value!r}" if value else ""
    return [f"{ctx.out} = nn.functional.pad({ctx.args['x']}, {padding}{extra})"]


PAD = BlockSpec(
    type="Pad",
    category="Reshape",
    doc="Adds values before and after the last dimensions: padding 1, 1, 2, 2 pads width by 1 and height by 2.\n"
    "To pad an image or a sequence to a size before a layer, by a constant or by its own border values.",
    params=(
        ParamSpec(
            "padding",
            "ints",
            (1, 1),
            "Pairs (before, after), the last dimension first, as torch takes them; negative values crop.",
            min=-_POSITION,
            max=_POSITION,
            lengths=(2, 4, 6, 8, 10),
        ),
        ParamSpec(
            "mode",
            "choice",
            "constant",
            "What fills the border: a constant, the values mirrored (reflect), the edge repeated (replicate), "
            "or the other end (circular).",
            choices=_PAD_MODES,
        ),
        ParamSpec("value", "float", 0.0, "The constant filling the border.", when=("mode", ("constant",))),
    ),
    rule=_pad_rule,
    forward=_pad_forward,
)


# Unsqueeze and Squeeze ----------------------------------------------------------------------------------------


def _unsqueeze_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x")
    dim = ctx.p["dim"]
    # the new dimension may go anywhere after the batch, the end included: -1 appends it
    axis = dim + x.rank + 1 if dim < 0 else dim
    if not 1 <= axis <= x.rank:
        raise ctx.fail(
            f"Unsqueeze at dim {dim} of {x}: the new dimension can go at 1 to {x.rank} (or -1 to -{x.rank})",
            port="x",
            param="dim",
            hint=SetOwnParam("dim", 1 if dim > 0 else -1),
        )
    sizes = list(x.features)
    sizes.insert(axis - 1, 1)
    return {"y": x.with_shape(*sizes)}


def _squeeze_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x")
    axis = _axis(ctx, x, "Squeeze")
    if x.shape[axis] != 1:
        # torch leaves such a dimension as it is, which is rarely what was meant
        ctx.warn(f"Squeeze of dim {ctx.p['dim']} leaves {x} as it is: that dimension has {x.shape[axis]}, not 1")
        return {"y": x}
    sizes = list(x.features)
    del sizes[axis - 1]
    return {"y": x.with_shape(*sizes)}


def _method_forward(method: str):
    def forward(ctx: ForwardContext) -> list[str]:
        return [f"{ctx.out} = {ctx.args['x']}.{method}({int(ctx.p['dim'])})"]

    return forward


def _squeeze_block(block: str, doc: str, help: str) -> BlockSpec:
    return BlockSpec(
        type=block,
        category="Reshape",
        doc=doc,
        params=(ParamSpec("dim", "int", 1, help, min=-5, max=5, check=not_batch_dim),),
        rule=_unsqueeze_rule if block == "Unsqueeze" else _squeeze_rule,
        forward=_method_forward(block.lower()),
    )


UNSQUEEZE = _squeeze_block(
    "Unsqueeze",
    "Adds a dimension of size 1: dim 1 turns (N, E) into (N, 1, E).\n"
    "To give a vector the sequence or channel dimension a layer expects, or to line sizes up for broadcasting.",
    "Where the new dimension goes (1 = first after the batch, -1 = last).",
)
SQUEEZE = _squeeze_block(
    "Squeeze",
    "Removes a dimension of size 1: dim 1 turns (N, 1, E) into (N, E).\n"
    "After a layer that leaves a size-1 dimension: a one-step sequence, an image pooled to 1x1.",
    "The size-1 dimension to remove (1 = first after the batch, -1 = last).",
)


SPECS = (FLATTEN, RESHAPE, PERMUTE, UPSAMPLE, SLICE, SELECT, PAD, UNSQUEEZE, SQUEEZE)
