"""Learned tensors that are no layer, and how they meet the batch: Parameter and Expand.

A Vision Transformer learns a class token (1, 1, 768), expanded to the batch and put before the patches, and a
position embedding (1, 197, 768), added to every sample; a ConvNeXt block multiplies its branch by a layer scale
(768, 1, 1). Such a tensor is one for the whole batch: its type has no batch dimension (its first size is a
number, see TensorType.batched), so only Add and Multiply (broadcasting it over the batch), Concat (joining it
to others like it) and Expand (giving it the batch) take it; every other block refuses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from netbuilder.blocks.spec import BlockSpec, ForwardContext, ParamSpec, PortSpec, RuleContext
from netbuilder.blocks.tensor_type import BATCH, TensorType

# Parameter ----------------------------------------------------------------------------------------------------

MAX_RANK = 6


def _parameter_rule(ctx: RuleContext) -> dict[str, TensorType]:
    return {"y": TensorType(tuple(ctx.p["shape"]))}


def _parameter_count(p: Mapping[str, Any], inputs: Mapping[str, TensorType], outputs: Mapping[str, TensorType]) -> int:
    return math.prod(p["shape"])


def _parameter_code(p: Mapping[str, Any], write: Callable[[Any], str]) -> str:
    """As torchvision writes its own: nn.Parameter(torch.zeros(1, 1, 768)), torch.empty(...).normal_(std=0.02),
    torch.full((768, 1, 1), 1e-06) for a layer scale. `shape` is a tuple, or in a composite class whose uses
    differ the name of its argument, which torch.zeros takes as well."""
    shape = p["shape"]
    sizes = ", ".join(write(s) for s in shape) if isinstance(shape, tuple) else write(shape)
    init = p["init"]
    if init == "constant":
        tensor = f"torch.full({write(shape)}, {write(p['value'])})"
    elif init == "normal":
        tensor = f"torch.empty({sizes}).normal_(std={write(p['std'])})"
    elif init == "uniform":
        bound = write(p["bound"])
        tensor = f"torch.empty({sizes}).uniform_(-{bound}, {bound})"
    else:
        tensor = f"torch.{init}({sizes})"
    return f"nn.Parameter({tensor})"


PARAMETER = BlockSpec(
    type="Parameter",
    category="Core",
    doc="A learned tensor of a fixed shape, the same for every sample: a class token, a position embedding, a "
    "layer scale.\nFeed it to Add or Multiply (it broadcasts over the batch), or Expand it to the batch before a "
    "Concat.",
    params=(
        ParamSpec(
            "shape",
            "ints",
            (1, 1, 64),
            "Its whole shape, as torch's nn.Parameter has it: (1, 197, 768) to add to (N, 197, 768).",
            min=1,
            max=1_000_000,
            lengths=tuple(range(1, MAX_RANK + 1)),
        ),
        ParamSpec(
            "init",
            "choice",
            "zeros",
            "Its values before training: zeros (a class token), ones, a constant (a layer scale), normal, uniform.",
            choices=("zeros", "ones", "constant", "normal", "uniform"),
        ),
        ParamSpec("value", "float", 1e-6, "The constant every value starts at.", when=("init", ("constant",))),
        ParamSpec(
            "std",
            "float",
            0.02,
            "Standard deviation of the normal draw, around 0.",
            min=0.0,
            when=("init", ("normal",)),
        ),
        ParamSpec(
            "bound",
            "float",
            0.02,
            "Values start uniform between -bound and bound.",
            min=0.0,
            when=("init", ("uniform",)),
        ),
    ),
    inputs=(),
    rule=_parameter_rule,
    count_params=_parameter_count,
    tensor=_parameter_code,
    label_prefix="param",
)


# Expand -------------------------------------------------------------------------------------------------------


def _check_sizes(sizes: tuple[int, ...]) -> str | None:
    return "sizes must be positive, or -1 to keep one" if 0 in sizes else None


def _expand_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.inputs["x"]
    like = ctx.inputs["like"]
    if not like.batched:
        raise ctx.fail(
            f"Expand takes the batch size of 'like', but {like} is a learned tensor without one: connect the "
            "batched tensor it is to join",
            port="like",
        )
    if not x.batched and x.shape[0] != 1:
        raise ctx.fail(
            f"Expand repeats a first size of 1 over the batch, but {x} has {x.shape[0]}: give it a first size of 1",
            port="x",
        )
    kept = x.shape[1:]
    sizes = ctx.p["sizes"]
    if sizes is None:
        # unset keeps every size: resolved as -1 each, as the code writes it and where setting them starts
        ctx.p["sizes"] = (-1,) * len(kept)
        return {"y": TensorType((BATCH, *kept), x.dtype)}
    if len(sizes) != len(kept):
        raise ctx.fail(
            f"Expand needs one size per dimension after the first of {x} ({len(kept)}) but has {len(sizes)}",
            port="x",
            param="sizes",
        )
    new: list[int] = []
    for i, (size, was) in enumerate(zip(sizes, kept, strict=True), start=1):
        if size not in (-1, was) and was != 1:
            raise ctx.fail(
                f"Expand can only repeat a size of 1, but dimension {i} of {x} is {was}, not {size}",
                port="x",
                param="sizes",
            )
        new.append(was if size == -1 else size)
    return {"y": TensorType((BATCH, *new), x.dtype)}


def _expand_forward(ctx: ForwardContext) -> list[str]:
    x, like = ctx.args["x"], ctx.args["like"]
    sizes = [f"{like}.size(0)", *(str(int(s)) for s in ctx.p["sizes"])]
    return [f"{ctx.out} = {x}.expand({', '.join(sizes)})"]


EXPAND = BlockSpec(
    type="Expand",
    category="Reshape",
    doc="Repeats a tensor over the batch of another, without copying: a class token (1, 1, 768) becomes "
    "(N, 1, 768).\nBefore a Concat with the batched sequence, as a ViT puts its class token before the patches.",
    params=(
        ParamSpec(
            "sizes",
            "ints",
            None,
            "Sizes after the first: -1 keeps one, a number repeats a size of 1 to it.",
            min=-1,
            max=1_000_000,
            lengths=tuple(range(1, MAX_RANK)),
            optional=True,
            none_label="keep all",
            check=_check_sizes,
        ),
    ),
    inputs=(
        PortSpec("x", doc="The tensor to repeat: a learned one with a first size of 1, or a batched one."),
        PortSpec("like", doc="A batched tensor whose batch size it takes."),
    ),
    rule=_expand_rule,
    forward=_expand_forward,
    takes_unbatched=True,
)

SPECS = (PARAMETER, EXPAND)
