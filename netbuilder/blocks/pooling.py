"""Pooling: max and average over sliding windows, and adaptive pools that reach a fixed output size.

Window pools follow torch's arithmetic exactly, ceil_mode included (the last window may overhang the end but must
start inside the input or the left padding), and refuse what torch refuses: padding above half the kernel, a
window that does not fit. Adaptive pools accept any input and produce output_size per spatial dimension.
"""

from __future__ import annotations

from netbuilder.blocks.conv import cross, smallest_input, spatial_input, window_output, window_words
from netbuilder.blocks.errors import SetOwnParam
from netbuilder.blocks.spec import BlockSpec, ModuleCode, ParamSpec, RuleContext
from netbuilder.blocks.tensor_type import TensorType

_ADAPTIVE_FIX = {1: "AdaptiveAvgPool1d", 2: "AdaptiveAvgPool2d"}


_KERNEL_HELP = {
    1: "Length of the window (2 halves the length).",
    2: "Side of the square window (2 halves height and width).",
}


def _window_params(dims: int, max_pool: bool) -> tuple[ParamSpec, ...]:
    params = [
        ParamSpec("kernel_size", "int", 2, _KERNEL_HELP[dims], min=1, max=64),
        ParamSpec(
            "stride",
            "int",
            None,
            "Step between windows.",
            min=1,
            max=64,
            optional=True,
            none_label="same as kernel_size",
        ),
        ParamSpec("padding", "int", 0, "Values added at every border; at most half the kernel.", min=0, max=32),
    ]
    if max_pool:
        params.append(ParamSpec("dilation", "int", 1, "Spacing between the values a window looks at.", min=1, max=64))
    params.append(ParamSpec("ceil_mode", "bool", False, "Round the output size up: a partial last window counts."))
    if not max_pool:
        params.append(ParamSpec("count_include_pad", "bool", True, "Count padded zeros in each average."))
    return tuple(params)


def _geometry(p: dict, kernel: int) -> tuple[int, int, int, bool]:
    """(stride, padding, dilation, ceil) for a window of `kernel`; stride None follows the kernel."""
    return p["stride"] or kernel, p["padding"], p.get("dilation", 1), p["ceil_mode"]


def _largest_kernel(p: dict, spatial: tuple[int, ...]) -> int | None:
    """The largest kernel_size below the current one that torch accepts for these sizes."""
    for k in range(p["kernel_size"] - 1, 0, -1):
        s, pad, d, ceil = _geometry(p, k)
        if pad <= k // 2 and all(window_output(n, k, s, pad, d, ceil) >= 1 for n in spatial):
            return k
    return None


def _window_rule(dims: int):
    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = spatial_input(ctx, dims)
        p = ctx.p
        k = p["kernel_size"]
        s, pad, d, ceil = _geometry(p, k)
        if pad > k // 2:
            raise ctx.fail(
                f"{ctx.block} padding can be at most half the kernel ({k // 2} for kernel {k}) but is {pad}",
                param="padding",
                hint=SetOwnParam("padding", k // 2),
            )
        spatial = x.features[1:]
        out = tuple(window_output(n, k, s, pad, d, ceil) for n in spatial)
        if min(out) < 1:
            smaller = _largest_kernel(p, spatial)
            raise ctx.fail(
                f"{ctx.block} with {window_words(p)} needs an input of at least "
                f"{cross(smallest_input(k, s, pad, d, ceil), dims)} but receives {x}: use a smaller kernel_size, "
                f"or {_ADAPTIVE_FIX[dims]} to pool to a fixed size",
                port="x",
                param="kernel_size",
                hint=SetOwnParam("kernel_size", smaller) if smaller else None,
            )
        return {"y": x.with_shape(x.shape[1], *out)}

    return rule


def _adaptive_rule(dims: int):
    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = spatial_input(ctx, dims)
        size = ctx.p["output_size"]
        if dims == 1:
            return {"y": x.with_shape(x.shape[1], size)}
        height, width = size * 2 if len(size) == 1 else size
        # The constructor reads this: one int for a square output, nn.AdaptiveAvgPool2d(1), else (h, w).
        ctx.p["output_size"] = height if height == width else (height, width)
        return {"y": x.with_shape(x.shape[1], height, width)}

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


def _adaptive_pool(kind: str, dims: int, doc: str) -> BlockSpec:
    if dims == 1:
        output_size = ParamSpec("output_size", "int", 1, "Output length, whatever the input length.", min=1, max=4096)
    else:
        output_size = ParamSpec(
            "output_size",
            "ints",
            (1,),
            "Output height and width, whatever the input size (one value: square).",
            min=1,
            max=4096,
            lengths=(1, 2),
        )
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
