"""Blocks that join several tensors: element-wise sum and product (with broadcasting), and concatenation."""

from __future__ import annotations

from netbuilder.blocks.spec import BlockSpec, ForwardContext, ParamSpec, PortSpec, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, TensorType

_INPUTS = ParamSpec("inputs", "int", 2, "Number of tensors to join.", min=2, max=8)
# A DenseNet block joins every earlier layer's output: 49 tensors in DenseNet-201, the most of any torchvision
# model. 64 is the widest any node may be (graph/limits.py MAX_INPUTS_PER_NODE bounds a file's edges by it); one
# input is torch.cat of one tensor, as a DenseNet layer reading the block's input alone does.
_CONCAT_INPUTS = ParamSpec("inputs", "int", 2, "Number of tensors to join.", min=1, max=64)


def _incoming(ctx: RuleContext) -> list[tuple[str, TensorType]]:
    return [(port, ctx.input(port, dtype=FLOAT)) for port in sorted(ctx.inputs, key=lambda n: int(n[2:]))]


def _broadcast_rule(ctx: RuleContext) -> dict[str, TensorType]:
    """Torch's broadcasting over equal ranks: sizes per dimension must match or be 1."""
    incoming = _incoming(ctx)
    _, first = incoming[0]
    dims = list(first.features)
    for port, t in incoming[1:]:
        if t.rank != first.rank:
            raise ctx.fail(f"{ctx.block} needs inputs of the same rank but receives {first} and {t}", port=port)
        for i, (a, b) in enumerate(zip(dims, t.features, strict=True)):
            if a != b and 1 not in (a, b):
                raise ctx.fail(
                    f"{ctx.block} cannot combine {first} with {t}: dimension {i + 1} is {a} vs {b} "
                    "(sizes must match or be 1)",
                    port=port,
                )
            dims[i] = max(a, b)
    return {"y": first.with_shape(*dims)}


def _concat_rule(ctx: RuleContext) -> dict[str, TensorType]:
    incoming = _incoming(ctx)
    _, first = incoming[0]
    dim = ctx.p["dim"]
    if dim >= first.rank:
        raise ctx.fail(f"Concat along dim {dim} needs tensors with more dimensions than {first}", param="dim")
    total = 0
    for port, t in incoming:
        if t.rank != first.rank:
            raise ctx.fail(f"Concat needs inputs of the same rank but receives {first} and {t}", port=port)
        for i in range(1, t.rank):
            if i != dim and t.shape[i] != first.shape[i]:
                raise ctx.fail(
                    f"Concat along dim {dim} needs every other dimension equal, but receives {first} and {t}",
                    port=port,
                )
        total += int(t.shape[dim])
    sizes = list(first.features)
    sizes[dim - 1] = total
    return {"y": first.with_shape(*sizes)}


def _operator(symbol: str):
    def forward(ctx: ForwardContext) -> list[str]:
        return [f"{ctx.out} = " + f" {symbol} ".join(ctx.args[f"in{i}"] for i in range(1, len(ctx.args) + 1))]

    return forward


def _concat_forward(ctx: ForwardContext) -> list[str]:
    parts = ", ".join(ctx.args[f"in{i}"] for i in range(1, len(ctx.args) + 1))
    return [f"{ctx.out} = torch.cat([{parts}], dim={ctx.p['dim']!r})"]


_PORT = (PortSpec("in"),)

SPECS = (
    BlockSpec(
        type="Add",
        category="Merge",
        doc="Element-wise sum of its inputs (sizes must match or be 1).\nThe skip connection of a ResNet.",
        params=(_INPUTS,),
        inputs=_PORT,
        variadic="inputs",
        rule=_broadcast_rule,
        forward=_operator("+"),
    ),
    BlockSpec(
        type="Multiply",
        category="Merge",
        doc="Element-wise product of its inputs (sizes must match or be 1).\nFor gating and attention masks.",
        params=(_INPUTS,),
        inputs=_PORT,
        variadic="inputs",
        rule=_broadcast_rule,
        forward=_operator("*"),
    ),
    BlockSpec(
        type="Concat",
        category="Merge",
        doc="Joins its inputs along one dimension (1 = channels or features).\n"
        "Every other dimension must match; used by Inception, DenseNet and U-Net.",
        params=(
            _CONCAT_INPUTS,
            ParamSpec("dim", "int", 1, "Dimension to join along (1 = channels/features).", min=1, max=5),
        ),
        inputs=_PORT,
        variadic="inputs",
        rule=_concat_rule,
        forward=_concat_forward,
        label_prefix="cat",
    ),
)
