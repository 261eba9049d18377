"""Convolutions over 1, 2 or 3 spatial dimensions, and the transposed convolutions that upsample.

The rules follow torch exactly: output size floor((L + 2p - d(k-1) - 1) / s) + 1 per spatial dimension, and the
refusals torch makes (a kernel larger than the padded input, channels not divisible by groups, reflect padding
not smaller than the input, output_padding not smaller than stride or dilation). Where torch would quietly
return an empty tensor (a transposed convolution whose output size is 0) we refuse too: nothing downstream can
use it. Window arithmetic is shared with the pooling blocks.
"""

from __future__ import annotations

import math

from netbuilder.blocks.errors import BypassProducer, SetOwnParam
from netbuilder.blocks.shared_params import bias, inferred_size, size
from netbuilder.blocks.spec import BlockSpec, ModuleCode, ParamSpec, RuleContext
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


def cross(n: int, dims: int) -> str:
    """5x5 for two dimensions, 5x5x5 for three, 5 for one."""
    return "x".join([str(n)] * dims)


def window_words(p: dict) -> str:
    """'kernel 3', 'kernel 3, dilation 2 and padding 1': the settings that decide how much input a window needs."""
    parts = [f"kernel {p['kernel_size']}"]
    if p.get("dilation", 1) != 1:
        parts.append(f"dilation {p['dilation']}")
    if p.get("padding", 0):
        parts.append(f"padding {p['padding']}")
    if p.get("ceil_mode"):
        parts.append("ceil_mode")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


_KERNEL_HELP = {
    1: "Length of the filter window.",
    2: "Side of the square filter window (3 = 3x3).",
    3: "Side of the cubic filter window (3 = 3x3x3).",
}


def _conv_params(dims: int, transposed: bool) -> tuple[ParamSpec, ...]:
    params = [
        inferred_size("in_channels", "channels"),
        size("out_channels", 16, "Number of output channels (filters)."),
        ParamSpec("kernel_size", "int", 3, _KERNEL_HELP[dims], min=1, max=64),
        ParamSpec("stride", "int", 1, "Step between windows (2 halves the size).", min=1, max=64),
        ParamSpec(
            "padding",
            "int",
            0,
            "Values added at every border; (kernel_size - 1) / 2 keeps the size at stride 1."
            if not transposed
            else "Removes this many values from every border of the output.",
            min=0,
            max=64,
        ),
    ]
    if transposed:
        params.append(
            ParamSpec(
                "output_padding",
                "int",
                0,
                "Extra values on one side of the output, to reach an exact size; below stride or dilation.",
                min=0,
                max=63,
            )
        )
    params += [
        ParamSpec("dilation", "int", 1, "Spacing between the taps of the filter (>1 widens its view).", min=1, max=64),
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
    return tuple(params)


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


def _largest_kernel(p: dict, spatial: tuple[int, ...]) -> int | None:
    """The largest kernel_size below the current one whose window fits every spatial dimension."""
    for k in range(p["kernel_size"] - 1, 0, -1):
        if all(window_output(n, k, p["stride"], p["padding"], p["dilation"]) >= 1 for n in spatial):
            return k
    return None


def _conv_rule(dims: int):
    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = spatial_input(ctx, dims)
        in_channels = ctx.resolve("in_channels", x.shape[1], "channels")
        _check_groups(ctx, in_channels)
        p = ctx.p
        spatial = x.features[1:]
        k, s, pad, d, mode = p["kernel_size"], p["stride"], p["padding"], p["dilation"], p["padding_mode"]
        if mode == "reflect" and pad >= min(spatial):
            raise ctx.fail(
                f"{ctx.block} with reflect padding {pad} needs every spatial size above {pad} but receives {x}",
                port="x",
                param="padding",
                hint=SetOwnParam("padding", min(spatial) - 1),
            )
        if mode == "circular" and pad > min(spatial):
            raise ctx.fail(
                f"{ctx.block} with circular padding {pad} needs every spatial size at least {pad} (it cannot "
                f"wrap around more than once) but receives {x}",
                port="x",
                param="padding",
                hint=SetOwnParam("padding", min(spatial)),
            )
        out = tuple(window_output(n, k, s, pad, d) for n in spatial)
        if min(out) < 1:
            smaller = _largest_kernel(p, spatial)
            raise ctx.fail(
                f"{ctx.block} with {window_words(p)} needs an input of at least "
                f"{cross(smallest_input(k, s, pad, d), dims)} but receives {x}",
                port="x",
                param="kernel_size",
                hint=SetOwnParam("kernel_size", smaller) if smaller else None,
            )
        return {"y": x.with_shape(p["out_channels"], *out)}

    return rule


def _transposed_rule(dims: int):
    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = spatial_input(ctx, dims)
        in_channels = ctx.resolve("in_channels", x.shape[1], "channels")
        _check_groups(ctx, in_channels)
        p = ctx.p
        k, s, pad, op, d = p["kernel_size"], p["stride"], p["padding"], p["output_padding"], p["dilation"]
        if op >= s and op >= d:
            raise ctx.fail(
                f"{ctx.block} needs output_padding smaller than stride or dilation, but output_padding is {op} "
                f"with stride {s} and dilation {d}",
                param="output_padding",
                hint=SetOwnParam("output_padding", max(s, d) - 1),
            )
        out = tuple((n - 1) * s - 2 * pad + d * (k - 1) + op + 1 for n in x.features[1:])
        if min(out) < 1:
            most = _largest_padding(p, x.features[1:])
            raise ctx.fail(
                f"{ctx.block} with padding {pad} trims away its whole output for {x}: padding can be at most "
                f"{most} here",
                port="x",
                param="padding",
                hint=SetOwnParam("padding", most),
            )
        return {"y": x.with_shape(p["out_channels"], *out)}

    return rule


def _largest_padding(p: dict, spatial: tuple[int, ...]) -> int:
    """The largest padding that leaves a transposed convolution's output at least 1 long."""
    full = min((n - 1) * p["stride"] + p["dilation"] * (p["kernel_size"] - 1) + p["output_padding"] for n in spatial)
    return max(0, full // 2)


def _conv_count_params(dims: int):
    """Weights (out, in / groups, k...) or, transposed, (in, out / groups, k...): the same count."""

    def count(p, inputs, outputs) -> int:
        weights = p["in_channels"] * p["out_channels"] // p["groups"] * p["kernel_size"] ** dims
        return weights + (p["out_channels"] if p["bias"] else 0)

    return count


def _conv_macs(dims: int):
    """Every output value sums in_channels / groups windows of kernel_size^dims taps."""

    def count(p, inputs, outputs) -> int:
        return outputs["y"].numel_per_sample() * (p["in_channels"] // p["groups"]) * p["kernel_size"] ** dims

    return count


def _transposed_macs(dims: int):
    """Every input value is spread over out_channels / groups windows of kernel_size^dims taps."""

    def count(p, inputs, outputs) -> int:
        return inputs["x"].numel_per_sample() * (p["out_channels"] // p["groups"]) * p["kernel_size"] ** dims

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
        module=ModuleCode(f"nn.Conv{dims}d", positional=("in_channels", "out_channels"), always=("kernel_size",)),
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
            f"nn.ConvTranspose{dims}d", positional=("in_channels", "out_channels"), always=("kernel_size",)
        ),
        size_param="out_channels",
        label_prefix="upconv",
    )


SPECS = (_conv(1), _conv(2), _conv(3), _transposed(1), _transposed(2))
