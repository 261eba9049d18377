"""Reductions: the mean, largest, smallest value or sum over one or more dimensions after the batch.

Each is one tensor method in the generated code (`x.mean(dim=(2, 3))`, `x.amax(dim=1, keepdim=True)`), torch's
own rules included: negative dimensions count from the end, a dimension named twice is refused. The batch is
never reduced: mixing samples is not what a layer of a network does.
"""

from __future__ import annotations

from netbuilder.blocks.errors import SetOwnParam
from netbuilder.blocks.spec import BlockSpec, ForwardContext, ParamSpec, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, TensorType, format_shape


def _check_dims(dims: tuple[int, ...]) -> str | None:
    """Refuse what is wrong whatever the input: no dimension, the batch, a number given twice."""
    if not dims:
        return "name at least one dimension (1 = the first after the batch, -1 = the last)"
    if 0 in dims:
        return "dimension 0 is the batch; choose 1 or later (or -1 for the last)"
    twice = next((d for d in dims if dims.count(d) > 1), None)
    if twice is not None:
        return f"dimension {twice} is given twice"
    return None


def _dims_words(dims: tuple[int, ...]) -> str:
    return f"dim {dims[0]}" if len(dims) == 1 else f"dims {format_shape(dims)}"


def _dims_code(dims: tuple[int, ...]) -> str:
    """The `dim` argument as a person writes it: `1` for one dimension, `(2, 3)` for several."""
    return str(int(dims[0])) if len(dims) == 1 else format_shape(tuple(int(d) for d in dims))


def _reduction(block: str, *, floats_only: bool):
    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = ctx.input("x", dtype=FLOAT if floats_only else None)
        dims = ctx.p["dim"]
        axes = [d + x.rank if d < 0 else d for d in dims]
        inside = tuple(d for d, axis in zip(dims, axes, strict=True) if 1 <= axis < x.rank)
        if len(inside) < len(dims):
            # The fix keeps the dimensions this input has, or proposes the first after the batch.
            fix = inside or ((1,) if x.rank > 1 and dims != (1,) else None)
            raise ctx.fail(
                f"{block} over {_dims_words(dims)} needs an input with more dimensions than {x}",
                port="x",
                param="dim",
                hint=SetOwnParam("dim", fix) if fix else None,
            )
        if len(set(axes)) < len(axes):
            twice = next(axis for axis in axes if axes.count(axis) > 1)
            once = tuple(d for i, d in enumerate(dims) if axes[i] not in axes[:i])
            raise ctx.fail(
                f"{block} over dims {format_shape(dims)} names dimension {twice} of {x} twice",
                port="x",
                param="dim",
                hint=SetOwnParam("dim", once),
            )
        keep = ctx.p["keepdim"]
        sizes = [n if i + 1 not in axes else (1 if keep else None) for i, n in enumerate(x.features)]
        return {"y": x.with_shape(*(n for n in sizes if n is not None))}

    return rule


def _forward(method: str):
    def forward(ctx: ForwardContext) -> list[str]:
        keep = ", keepdim=True" if ctx.p["keepdim"] else ""
        return [f"{ctx.out} = {ctx.args['x']}.{method}(dim={_dims_code(ctx.p['dim'])}{keep})"]

    return forward


def _reduce_block(block: str, method: str, verb: str, doc: str, *, floats_only: bool = False) -> BlockSpec:
    return BlockSpec(
        type=block,
        category="Pooling",
        doc=doc,
        params=(
            ParamSpec(
                "dim",
                "ints",
                (1,),
                f"The dimensions to {verb} over (1 = the first after the batch, -1 = the last; 2, 3 = an image's "
                "height and width).",
                min=-5,
                max=5,
                check=_check_dims,
            ),
            ParamSpec("keepdim", "bool", False, "Keep each reduced dimension with size 1 instead of removing it."),
        ),
        rule=_reduction(block, floats_only=floats_only),
        forward=_forward(method),
        label_prefix=block.lower(),
    )


SPECS = (
    _reduce_block(
        "Mean",
        "mean",
        "average",
        "Averages over one or more dimensions: dim 1 turns a sequence (N, L, E) into one vector per sample (N, E).\n"
        "After a transformer encoder or an LSTM to classify the whole sequence; over dims 2, 3, global average "
        "pooling of images (MnasNet, ShuffleNet).",
        floats_only=True,
    ),
    _reduce_block(
        "Max",
        "amax",
        "take the largest value",
        "Largest value over one or more dimensions (the values, as torch.amax): dims 2, 3 turn (N, C, H, W) into "
        "(N, C).\nGlobal max pooling of a sequence or an image; what x.max(dim).values computes.",
    ),
    _reduce_block(
        "Min",
        "amin",
        "take the smallest value",
        "Smallest value over one or more dimensions (the values, as torch.amin): dims 2, 3 turn (N, C, H, W) into "
        "(N, C).\nWhat x.min(dim).values computes.",
    ),
    _reduce_block(
        "Sum",
        "sum",
        "add up",
        "Sums over one or more dimensions: dim 1 turns (N, L, E) into (N, E).\n"
        "To pool a sequence or an image by adding (attention weights times values, a bag of embeddings).",
    ),
)
