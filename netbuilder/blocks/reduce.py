"""Reductions: a statistic over dimensions after the batch (the mean of a sequence, for instance)."""

from __future__ import annotations

from netbuilder.blocks.errors import SetOwnParam
from netbuilder.blocks.shared_params import not_batch_dim
from netbuilder.blocks.spec import BlockSpec, ForwardContext, ParamSpec, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, TensorType


def _mean_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", dtype=FLOAT)
    dim = ctx.p["dim"]
    axis = dim + x.rank if dim < 0 else dim
    if not 1 <= axis < x.rank:
        raise ctx.fail(
            f"Mean over dim {dim} needs an input with more dimensions than {x}",
            port="x",
            param="dim",
            hint=SetOwnParam("dim", 1) if x.rank > 1 and dim != 1 else None,
        )
    sizes = list(x.features)
    if ctx.p["keepdim"]:
        sizes[axis - 1] = 1
    else:
        del sizes[axis - 1]
    return {"y": x.with_shape(*sizes)}


def _mean_forward(ctx: ForwardContext) -> list[str]:
    keep = ", keepdim=True" if ctx.p["keepdim"] else ""
    return [f"{ctx.out} = {ctx.args['x']}.mean(dim={int(ctx.p['dim'])}{keep})"]


MEAN = BlockSpec(
    type="Mean",
    category="Pooling",
    doc="Averages over one dimension: with dim 1, a sequence (N, L, E) becomes one vector per sample (N, E).\n"
    "After a transformer encoder or a sequence-output LSTM, to classify the whole sequence.",
    params=(
        ParamSpec(
            "dim",
            "int",
            1,
            "The dimension to average over (1 = the first after the batch, -1 = the last).",
            min=-5,
            max=5,
            check=not_batch_dim,
        ),
        ParamSpec("keepdim", "bool", False, "Keep the averaged dimension with size 1 instead of removing it."),
    ),
    rule=_mean_rule,
    forward=_mean_forward,
    label_prefix="mean",
)

SPECS = (MEAN,)
