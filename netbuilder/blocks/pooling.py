"""Pooling: max and average over sliding windows, and adaptive pools that reach a fixed output size.

Window pools follow torch's arithmetic exactly, ceil_mode included (the last window may overhang the end but must
start inside the input or the left padding), and refuse what torch refuses: padding above half the kernel, a
window that does not fit, dimension by dimension where the settings differ (a 2x3 window, a stride of 2x1).
Adaptive pools accept any input and produce output_size per spatial dimension.
"""

from __future__ import annotations

from netbuilder.blocks.conv import (
    cross,
    dims_text,
    largest_fitting,
    smallest_input,
    spatial_input,
    spread,
    window_output,
    window_words,
    within,
)
from netbuilder.blocks.errors import SetOwnParam
from netbuilder.blocks.shared_params import window_param
from netbuilder.blocks.spec import BlockSpec, ModuleCode, ParamSpec, RuleContext, per_dim_value
from netbuilder.blocks.tensor_type import TensorType

_ADAPTIVE_FIX = {1: "AdaptiveAvgPool1d", 2: "AdaptiveAvgPool2d"}


_KERNEL_HELP = {
    1: "Length of the window (2 halves the length).",
    2: "The window: 2 for 2x2 (halves height and width), or height, width as 2, 1 for 2x1.",
}


def _window_params(dims: int, max_pool: bool) -> tuple[ParamSpec, ...]:
    params = [
        window_param("kernel_size", 2, _KERNEL_HELP[dims], dims, 1, 64),
        window_param(
            "stride",
            None,
            "Step between windows.",
            dims,
            1,
            64,
            optional=True,
            none_label="same as kernel_size",
        ),
        window_param("padding", 0, "Values added at every border; at most half the kernel.", dims, 0, 32),
    ]
    if max_pool:
        params.append(window_param("dilation", 1, "Spacing between the values a window looks at.", dims, 1, 64))
    params.append(ParamSpec("ceil_mode", "bool", False, "Round the output size up: a partial last window counts."))
    if not max_pool:
        params.append(ParamSpec("count_include_pad", "bool", True, "Count padded zeros in each average."))
    return tuple(params)


def _window_rule(dims: int):
    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = spatial_input(ctx, dims)
        p = ctx.p
        k, pad, d = spread(p["kernel_size"], dims), spread(p["padding"], dims), spread(p.get("dilation", 1), dims)
        s = spread(p["stride"], dims) if p["stride"] is not None else k  # stride None follows the kernel
        ceil = p["ceil_mode"]
        if any(pi > ki // 2 for pi, ki in zip(pad, k, strict=True)):
            halves = tuple(ki // 2 for ki in k)
            raise ctx.fail(
                f"{ctx.block} padding can be at most half the kernel ({dims_text(per_dim_value(halves))} for "
                f"kernel {dims_text(p['kernel_size'])}) but is {dims_text(p['padding'])}",
                param="padding",
                hint=SetOwnParam("padding", within(p["padding"], halves)),
            )
        spatial = x.features[1:]
        windows = list(zip(k, s, pad, d, strict=True))
        out = tuple(window_output(n, *w, ceil) for n, w in zip(spatial, windows, strict=True))
        if min(out) < 1:

            def fits(i: int, k_i: int) -> bool:
                s_i = s[i] if p["stride"] is not None else k_i
                return pad[i] <= k_i // 2 and window_output(spatial[i], k_i, s_i, pad[i], d[i], ceil) >= 1

            smaller = largest_fitting(p["kernel_size"], dims, fits)
            raise ctx.fail(
                f"{ctx.block} with {window_words(p)} needs an input of at least "
                f"{cross(tuple(smallest_input(*w, ceil) for w in windows), dims)} but receives {x}: use a smaller "
                f"kernel_size, or {_ADAPTIVE_FIX[dims]} to pool to a fixed size",
                port="x",
                param="kernel_size",
                hint=SetOwnParam("kernel_size", smaller) if smaller else None,
            )
        return {"y": x.with_shape(x.shape[1], *out)}

    return rule


def _adaptive_rule(dims: int):
    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = spatial_input(ctx, dims)
        return {"y": x.with_shape(x.shape[1], *spread(ctx.p["output_size"], dims))}

    return rule


def _window_pool(kind: str, dims: int, doc: str) -> BlockSpec:
    return BlockSpec(
        type=f"{kind}Pool{dims}d",
        category="Pooling",
        doc=doc,
        params=_window_params(dims, max_pool=kind == "Max"),
        rule=_window_rule(dims),
        module=ModuleCode(f"nn.{kind}Pool{dims}d", positional=("kernel_size",)),
        label_prefix="pool",
    )


_OUTPUT_SIZE_HELP = {
    1: "Output length, whatever the input length.",
    2: "Output height and width, whatever the input size: 7 for 7x7, or height, width as 7, 1.",
}


def _adaptive_pool(kind: str, dims: int, doc: str) -> BlockSpec:
    output_size = window_param("output_size", 1, _OUTPUT_SIZE_HELP[dims], dims, 1, 4096)
    return BlockSpec(
        type=f"Adaptive{kind}Pool{dims}d",
        category="Pooling",
        doc=doc,
        params=(output_size,),
        rule=_adaptive_rule(dims),
        module=ModuleCode(f"nn.Adaptive{kind}Pool{dims}d", positional=("output_size",)),
        label_prefix="pool",
    )


SPECS = (
    _window_pool(
        "Max",
        1,
        "1-D max pooling: keeps the largest value in each window along a sequence.\n"
        "Shortens (N, channels, length) while keeping the strongest responses.",
    ),
    _window_pool(
        "Max",
        2,
        "2-D max pooling: keeps the largest value in each window of an image.\n"
        "Between convolutions, to halve height and width (kernel_size 2).",
    ),
    _window_pool(
        "Avg",
        1,
        "1-D average pooling: averages each window along a sequence.\nShortens (N, channels, length) smoothly.",
    ),
    _window_pool(
        "Avg",
        2,
        "2-D average pooling: averages each window of an image.\nDownsampling that keeps every value's influence.",
    ),
    _adaptive_pool(
        "Avg",
        1,
        "1-D adaptive average pooling: averages each channel down to output_size values, whatever the length.\n"
        "Before a classifier over sequences of varying length (output_size 1: global average).",
    ),
    _adaptive_pool(
        "Avg",
        2,
        "2-D adaptive average pooling: averages each channel down to output_size, whatever the image size.\n"
        "Before the classifier head of a CNN (output_size 1: global average pooling, as in ResNet).",
    ),
    _adaptive_pool(
        "Max",
        2,
        "2-D adaptive max pooling: keeps each channel's largest values on an output_size grid.\n"
        "A fixed-size summary of feature maps of any size.",
    ),
)
