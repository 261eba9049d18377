"""Convolutions over 1, 2 or 3 spatial dimensions, and the transposed convolutions that upsample.

The rules follow torch exactly: output size floor((L + 2p - d(k-1) - 1) / s) + 1 per spatial dimension, and the
refusals torch makes (a kernel larger than the padded input, channels not divisible by groups, reflect padding
not smaller than the input, output_padding not smaller than stride or dilation). Where torch would quietly
return an empty tensor (a transposed convolution whose output size is 0) we refuse too: nothing downstream can
use it. Window arithmetic is shared with the pooling blocks. In two or three dimensions every window setting
(kernel_size, stride, padding, dilation, output_padding) is one int for all or one per dimension, as torch takes
them, and the rules, counts, messages and fixes work dimension by dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from netbuilder.blocks.errors import BypassProducer, SetOwnParam
from netbuilder.blocks.shared_params import INIT_PARAMS, bias, inferred_size, size, weight_init, window_param
from netbuilder.blocks.spec import BlockSpec, ModuleCode, ParamSpec, RuleContext, per_dim_value
from netbuilder.blocks.tensor_type import FLOAT, TensorType

LAYOUTS = {
    1: "(N, channels, length)",
    2: "(N, channels, height, width)",
    3: "(N, channels, depth, height, width)",
}
_SPATIAL_WORDS = {1: "length", 2: "height or width", 3: "depth, height or width"}


def spatial_input(ctx: RuleContext, dims: int) -> TensorType:
    """The input as (N, channels, *spatial) with `dims` spatial dimensions; a flat (N, features) is named so.

    Unbatched inputs, which torch accepts with one dimension fewer, are refused: here the first dimension is
    always the batch, and torch would silently treat it as the channels.
    """
    x = ctx.input("x", dtype=FLOAT)
    layout = LAYOUTS[dims]
    if x.rank == 2:
        if ctx.producer("x") == "Flatten":
            fix, hint = "remove the Flatten before it", BypassProducer("x", "Flatten")
        else:
            fix, hint = f"reshape it to {layout} first, or use Linear", None
        raise ctx.fail(
            f"{ctx.block} expects {layout} but receives {x}, a flat tensor with no {_SPATIAL_WORDS[dims]}: {fix}",
            port="x",
            hint=hint,
        )
    return ctx.input("x", (dims + 2,), layout)


def window_output(size_: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil: bool = False) -> int:
    """Torch's output length of a sliding window (convolution or pooling); below 1 means torch refuses.

    In ceil mode the last window may overhang the end, but must start inside the input or the left padding.
    """
    span = size_ + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size_ + padding:
        out -= 1
    return out


def smallest_input(kernel: int, stride: int, padding: int, dilation: int = 1, ceil: bool = False) -> int:
    """The smallest input length for which `window_output` is at least 1."""
    return max(1, dilation * (kernel - 1) + 1 - 2 * padding - (stride - 1 if ceil else 0))


PerDim = int | tuple[int, ...]
"""A window setting as a block holds it: one int for every spatial dimension, or one per dimension."""


def spread(value: PerDim, dims: int) -> tuple[int, ...]:
    """The value for each spatial dimension: kernel_size 3 is (3, 3) in two dimensions."""
    return tuple(value) if isinstance(value, tuple) else (value,) * dims


def within(value: PerDim, limits: tuple[int, ...]) -> PerDim:
    """`value` brought down to at most `limits`, dimension by dimension: a fix that changes no more than it
    must. One int stays one int (the smallest limit), as the person chose one value for every dimension."""
    if isinstance(value, int):
        return min(value, *limits)
    return per_dim_value(tuple(min(v, limit) for v, limit in zip(value, limits, strict=True)))


def largest_fitting(current: PerDim, dims: int, fits: Callable[[int, int], bool]) -> PerDim | None:
    """The largest kernel_size below `current` for which `fits(dimension, kernel)` holds in every dimension,
    or None: a square kernel stays square, one given per dimension shrinks only where it does not fit."""
    if isinstance(current, int):
        return next((k for k in range(current - 1, 0, -1) if all(fits(i, k) for i in range(dims))), None)
    best = []
    for i, most in enumerate(current):
        k = next((k for k in range(most, 0, -1) if fits(i, k)), None)
        if k is None:
            return None
        best.append(k)
    return per_dim_value(tuple(best))


def dims_text(value: PerDim | str) -> str:
    """A setting in a message: 3, or 1x7 where it differs between dimensions, or 'same'."""
    if isinstance(value, str):
        return repr(value)
    return "x".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def cross(n: PerDim, dims: int) -> str:
    """5x5 for two dimensions, 5x5x5 for three, 5 for one; (1, 7) is 1x7."""
    return dims_text(spread(n, dims))


def window_words(p: dict) -> str:
    """'kernel 3', 'kernel 1x7, dilation 2 and padding 0x3': the settings that decide how much input a window
    needs."""
    parts = [f"kernel {dims_text(p['kernel_size'])}"]
    if p.get("dilation", 1) != 1:
        parts.append(f"dilation {dims_text(p['dilation'])}")
    if p.get("padding", 0):
        parts.append(f"padding {dims_text(p['padding'])}")
    if p.get("ceil_mode"):
        parts.append("ceil_mode")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


_KERNEL_HELP = {
    1: "Length of the filter window.",
    2: "The filter window: 3 for 3x3, or height, width as 1, 7 for 1x7.",
    3: "The filter window: 3 for 3x3x3, or depth, height, width as 1, 3, 3.",
}


def _conv_params(dims: int, transposed: bool) -> tuple[ParamSpec, ...]:
    params = [
        inferred_size("in_channels", "channels"),
        size("out_channels", 16, "Number of output channels (filters)."),
        window_param("kernel_size", 3, _KERNEL_HELP[dims], dims, 1, 64),
        window_param("stride", 1, "Step between windows (2 halves the size).", dims, 1, 64),
        window_param(
            "padding",
            0,
            "Values added at every border: (kernel_size - 1) / 2, or 'same', keeps the size at stride 1; "
            "'valid' adds none."
            if not transposed
            else "Removes this many values from every border of the output.",
            dims,
            0,
            64,
            words=() if transposed else ("same", "valid"),
        ),
    ]
    if transposed:
        params.append(
            window_param(
                "output_padding",
                0,
                "Extra values on one side of the output, to reach an exact size; below stride or dilation.",
                dims,
                0,
                63,
            )
        )
    params += [
        window_param("dilation", 1, "Spacing between the taps of the filter (>1 widens its view).", dims, 1, 64),
        ParamSpec("groups", "int", 1, "Split channels into this many independent groups.", min=1),
        bias(),
    ]
    if not transposed:
        params.append(
            ParamSpec(
                "padding_mode",
                "choice",
                "zeros",
                "What the padding holds: zeros, a mirror of the edge, the edge repeated, or wrapped around.",
                choices=("zeros", "reflect", "replicate", "circular"),
            )
        )
    return (*params, *weight_init())


def _check_groups(ctx: RuleContext, in_channels: int) -> None:
    p = ctx.p
    groups = p["groups"]
    fix = SetOwnParam("groups", math.gcd(in_channels, p["out_channels"], groups))
    if in_channels % groups:
        raise ctx.fail(
            f"{ctx.block} with groups {groups} needs in_channels divisible by {groups} but receives "
            f"{in_channels} channels",
            port="x",
            param="groups",
            hint=fix,
        )
    if p["out_channels"] % groups:
        raise ctx.fail(
            f"{ctx.block} with groups {groups} needs out_channels divisible by {groups}, but out_channels is "
            f"{p['out_channels']}",
            param="groups",
            hint=fix,
        )


def _geometry(p: dict, dims: int, *names: str) -> tuple[tuple[int, ...], ...]:
    """The named settings, each as one value per spatial dimension."""
    return tuple(spread(p[name], dims) for name in names)


def _conv_rule(dims: int):
    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = spatial_input(ctx, dims)
        in_channels = ctx.resolve("in_channels", x.shape[1], "channels")
        _check_groups(ctx, in_channels)
        p = ctx.p
        spatial = x.features[1:]
        k, s, d = _geometry(p, dims, "kernel_size", "stride", "dilation")
        padding = p["padding"]
        if padding == "same":
            if any(si != 1 for si in s):
                raise ctx.fail(
                    f"{ctx.block} with padding 'same' needs stride 1 (a strided window cannot keep the size), but "
                    f"stride is {dims_text(p['stride'])}",
                    param="stride",
                    hint=SetOwnParam("stride", 1),
                )
            # torch pads d(k - 1) in all, the odd one at the far end: that side is the wider
            _check_padding_mode(ctx, x, tuple(di * (ki - 1) - di * (ki - 1) // 2 for ki, di in zip(k, d, strict=True)))
            return {"y": x.with_shape(p["out_channels"], *spatial)}
        pad = spread(0 if padding == "valid" else padding, dims)
        _check_padding_mode(ctx, x, pad)
        windows = list(zip(k, s, pad, d, strict=True))
        out = tuple(window_output(n, *w) for n, w in zip(spatial, windows, strict=True))
        if min(out) < 1:
            smaller = largest_fitting(
                p["kernel_size"], dims, lambda i, k_i: window_output(spatial[i], k_i, s[i], pad[i], d[i]) >= 1
            )
            raise ctx.fail(
                f"{ctx.block} with {window_words(p)} needs an input of at least "
                f"{cross(tuple(smallest_input(*w) for w in windows), dims)} but receives {x}",
                port="x",
                param="kernel_size",
                hint=SetOwnParam("kernel_size", smaller) if smaller else None,
            )
        return {"y": x.with_shape(p["out_channels"], *out)}

    return rule


def _check_padding_mode(ctx: RuleContext, x: TensorType, edge: tuple[int, ...]) -> None:
    """Reflect padding must be smaller than the input, circular at most its size (it wraps around once), on
    the wider side of each dimension (`edge`)."""
    mode, padding, spatial = ctx.p["padding_mode"], ctx.p["padding"], x.features[1:]
    named = padding if not isinstance(padding, str) else per_dim_value(edge)
    if mode == "reflect" and any(e >= n for e, n in zip(edge, spatial, strict=True)):
        raise ctx.fail(
            f"{ctx.block} with reflect padding {dims_text(padding)} needs {_sizes_above(named)} but receives {x}",
            port="x",
            param="padding",
            hint=None
            if isinstance(padding, str)
            else SetOwnParam("padding", within(padding, tuple(n - 1 for n in spatial))),
        )
    if mode == "circular" and any(e > n for e, n in zip(edge, spatial, strict=True)):
        raise ctx.fail(
            f"{ctx.block} with circular padding {dims_text(padding)} needs {_sizes_above(named, 'at least')} (it "
            f"cannot wrap around more than once) but receives {x}",
            port="x",
            param="padding",
            hint=None if isinstance(padding, str) else SetOwnParam("padding", within(padding, spatial)),
        )


def _sizes_above(padding: PerDim, words: str = "above") -> str:
    """'every spatial size above 2'; per dimension, 'spatial sizes above 1x3' (each above its own)."""
    if isinstance(padding, int):
        return f"every spatial size {words} {padding}"
    return f"spatial sizes {words} {dims_text(padding)}"


def _transposed_rule(dims: int):
    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = spatial_input(ctx, dims)
        in_channels = ctx.resolve("in_channels", x.shape[1], "channels")
        _check_groups(ctx, in_channels)
        p = ctx.p
        k, s, pad, op, d = _geometry(p, dims, "kernel_size", "stride", "padding", "output_padding", "dilation")
        if any(oi >= si and oi >= di for oi, si, di in zip(op, s, d, strict=True)):
            raise ctx.fail(
                f"{ctx.block} needs output_padding smaller than stride or dilation, but output_padding is "
                f"{dims_text(p['output_padding'])} with stride {dims_text(p['stride'])} and dilation "
                f"{dims_text(p['dilation'])}",
                param="output_padding",
                hint=SetOwnParam(
                    "output_padding",
                    within(p["output_padding"], tuple(max(si, di) - 1 for si, di in zip(s, d, strict=True))),
                ),
            )
        # The output's length before padding trims it, less one.
        full = tuple(
            (n - 1) * si + di * (ki - 1) + oi for n, ki, si, oi, di in zip(x.features[1:], k, s, op, d, strict=True)
        )
        out = tuple(f - 2 * pi + 1 for f, pi in zip(full, pad, strict=True))
        if min(out) < 1:
            most = within(p["padding"], tuple(f // 2 for f in full))
            raise ctx.fail(
                f"{ctx.block} with padding {dims_text(p['padding'])} trims away its whole output for {x}: "
                f"padding can be at most {dims_text(most)} here",
                port="x",
                param="padding",
                hint=SetOwnParam("padding", most),
            )
        return {"y": x.with_shape(p["out_channels"], *out)}

    return rule


def _taps(p: dict, dims: int) -> int:
    """How many values one filter window covers: kernel_size^dims, or the product of one per dimension."""
    return math.prod(spread(p["kernel_size"], dims))


def _conv_count_params(dims: int):
    """Weights (out, in / groups, k...) or, transposed, (in, out / groups, k...): the same count."""

    def count(p, inputs, outputs) -> int:
        weights = p["in_channels"] * p["out_channels"] // p["groups"] * _taps(p, dims)
        return weights + (p["out_channels"] if p["bias"] else 0)

    return count


def _conv_macs(dims: int):
    """Every output value sums in_channels / groups windows of kernel_size^dims taps."""

    def count(p, inputs, outputs) -> int:
        return outputs["y"].numel_per_sample() * (p["in_channels"] // p["groups"]) * _taps(p, dims)

    return count


def _transposed_macs(dims: int):
    """Every input value is spread over out_channels / groups windows of kernel_size^dims taps."""

    def count(p, inputs, outputs) -> int:
        return inputs["x"].numel_per_sample() * (p["out_channels"] // p["groups"]) * _taps(p, dims)

    return count


_CONV_DOCS = {
    1: "1-D convolution: slides out_channels learned filters along a sequence.\n"
    "For audio, time series and text as (N, channels, length).",
    2: "2-D convolution: slides out_channels learned filters over an image.\n"
    "The building block of CNNs; input (N, channels, height, width).",
    3: "3-D convolution: slides out_channels learned filters through a volume.\n"
    "For video and medical scans as (N, channels, depth, height, width).",
}
_TRANSPOSED_DOCS = {
    1: "1-D transposed convolution: learned upsampling of a sequence (stride 2 doubles the length).\n"
    "For decoders and generators over (N, channels, length).",
    2: "2-D transposed convolution: learned upsampling of an image (stride 2 doubles height and width).\n"
    "For decoders, U-Nets, GANs and segmentation heads.",
}


def _conv(dims: int) -> BlockSpec:
    return BlockSpec(
        type=f"Conv{dims}d",
        category="Convolution",
        doc=_CONV_DOCS[dims],
        params=_conv_params(dims, transposed=False),
        rule=_conv_rule(dims),
        count_params=_conv_count_params(dims),
        count_macs=_conv_macs(dims),
        module=ModuleCode(
            f"nn.Conv{dims}d", positional=("in_channels", "out_channels"), always=("kernel_size",), omit=INIT_PARAMS
        ),
        size_param="out_channels",
        label_prefix="conv",
    )


def _transposed(dims: int) -> BlockSpec:
    return BlockSpec(
        type=f"ConvTranspose{dims}d",
        category="Convolution",
        doc=_TRANSPOSED_DOCS[dims],
        params=_conv_params(dims, transposed=True),
        rule=_transposed_rule(dims),
        count_params=_conv_count_params(dims),
        count_macs=_transposed_macs(dims),
        module=ModuleCode(
            f"nn.ConvTranspose{dims}d",
            positional=("in_channels", "out_channels"),
            always=("kernel_size",),
            omit=INIT_PARAMS,
        ),
        size_param="out_channels",
        label_prefix="upconv",
    )


SPECS = (_conv(1), _conv(2), _conv(3), _transposed(1), _transposed(2))
