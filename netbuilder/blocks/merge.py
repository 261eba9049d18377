"""Blocks that join several tensors: element-wise sum and product (with broadcasting), and concatenation.

They also take learned tensors, which have no batch dimension (a Parameter): Add and Multiply broadcast one over
the batch, Concat joins them to one another (see tensor_type.TensorType.batched)."""

from __future__ import annotations

from netbuilder.blocks.spec import BlockSpec, ForwardContext, ParamSpec, PortSpec, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, Dim, TensorType

_INPUTS = ParamSpec("inputs", "int", 2, "Number of tensors to join.", min=2, max=8)
# A DenseNet block joins every earlier layer's output: 49 tensors in DenseNet-201, the most of any torchvision
# model. 64 is the widest any node may be (graph/limits.py MAX_INPUTS_PER_NODE bounds a file's edges by it); one
# input is torch.cat of one tensor, as a DenseNet layer reading the block's input alone does.
_CONCAT_INPUTS = ParamSpec("inputs", "int", 2, "Number of tensors to join.", min=1, max=64)


def _incoming(ctx: RuleContext) -> list[tuple[str, TensorType]]:
    return [(port, ctx.input(port, dtype=FLOAT)) for port in sorted(ctx.inputs, key=lambda n: int(n[2:]))]


def _broadcast_rule(ctx: RuleContext) -> dict[str, TensorType]:
    """Torch's broadcasting: shapes aligned on the right, sizes per dimension equal or 1. Batched inputs have
    one rank. A learned tensor, which has no batch (a Parameter), may have fewer dimensions than they, or as many
    with a first size of 1, so that it is the same for every sample: a layer scale (768, 1, 1) multiplies
    (N, 768, 7, 7), a position embedding (1, 197, 768) is added to (N, 197, 768)."""
    incoming = _incoming(ctx)
    _, first = incoming[0]
    batched = next((t for _, t in incoming if t.batched), None)
    for port, t in incoming:
        if batched is None:
            break
        if t.batched and t.rank != batched.rank:
            raise ctx.fail(f"{ctx.block} needs inputs of the same rank but receives {batched} and {t}", port=port)
        if not t.batched and (t.rank > batched.rank or (t.rank == batched.rank and t.shape[0] != 1)):
            reason = "it has more dimensions" if t.rank > batched.rank else f"its first size is {t.shape[0]}"
            raise ctx.fail(
                f"{ctx.block} cannot broadcast the learned tensor {t} over the batch of {batched}: {reason}; "
                "give it a first size of 1, or fewer dimensions",
                port=port,
            )
    rank = max(t.rank for _, t in incoming)
    dims: list[Dim] = [1] * rank
    for port, t in incoming:
        aligned = (1,) * (rank - t.rank) + t.shape
        for i, (a, b) in enumerate(zip(dims, aligned, strict=True)):
            if a != b and 1 not in (a, b):
                raise ctx.fail(
                    f"{ctx.block} cannot combine {first} with {t}: dimension {i} is {a} vs {b} "
                    "(sizes must match or be 1)",
                    port=port,
                )
            dims[i] = b if a == 1 else a
    return {"y": TensorType(tuple(dims), first.dtype)}


def _concat_rule(ctx: RuleContext) -> dict[str, TensorType]:
    """torch.cat: one rank, every dimension but `dim` equal. Learned tensors (no batch) join one another; one
    joins a batched tensor once Expand has given it the batch (a ViT's class token before its patches)."""
    incoming = _incoming(ctx)
    _, first = incoming[0]
    dim = ctx.p["dim"]
    if dim >= first.rank:
        raise ctx.fail(f"Concat along dim {dim} needs tensors with more dimensions than {first}", param="dim")
    total = 0
    for port, t in incoming:
        if t.batched != first.batched:
            learned, other = (t, first) if first.batched else (first, t)
            raise ctx.fail(
                f"Concat cannot join the learned tensor {learned}, one for the whole batch, to the batched {other}: "
                "Expand it to the batch first",
                port=port,
            )
        if t.rank != first.rank:
            raise ctx.fail(f"Concat needs inputs of the same rank but receives {first} and {t}", port=port)
        for i in range(t.rank):
            if i != dim and t.shape[i] != first.shape[i]:
                raise ctx.fail(
                    f"Concat along dim {dim} needs every other dimension equal, but receives {first} and {t}",
                    port=port,
                )
        total += int(t.shape[dim])
    sizes = list(first.shape)
    sizes[dim] = total
    return {"y": TensorType(tuple(sizes), first.dtype)}


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
        doc="Element-wise sum of its inputs (sizes must match or be 1).\n"
        "The skip connection of a ResNet; adds a learned Parameter (a position embedding) to every sample.",
        params=(_INPUTS,),
        inputs=_PORT,
        variadic="inputs",
        rule=_broadcast_rule,
        takes_unbatched=True,
        forward=_operator("+"),
    ),
    BlockSpec(
        type="Multiply",
        category="Merge",
        doc="Element-wise product of its inputs (sizes must match or be 1).\n"
        "For gating and attention masks, and a learned Parameter's layer scale (ConvNeXt).",
        params=(_INPUTS,),
        inputs=_PORT,
        variadic="inputs",
        rule=_broadcast_rule,
        takes_unbatched=True,
        forward=_operator("*"),
    ),
    BlockSpec(
        type="Concat",
        category="Merge",
        doc="Joins its inputs along one dimension (1 = channels or features).\n"
        "Every other dimension must match; used by Inception, DenseNet, U-Net and a ViT's class token.",
        params=(
            _CONCAT_INPUTS,
            ParamSpec("dim", "int", 1, "Dimension to join along (1 = channels/features).", min=1, max=5),
        ),
        inputs=_PORT,
        variadic="inputs",
        rule=_concat_rule,
        takes_unbatched=True,
        forward=_concat_forward,
        label_prefix="cat",
    ),
)
