"""Regularization blocks: dropout of single values, of whole channels, and of whole samples (stochastic depth).

All are active only while training (model.train()); in evaluation they pass their input through unchanged.
"""

from __future__ import annotations

from netbuilder.blocks.shared_params import probability
from netbuilder.blocks.spec import BlockSpec, ModuleCode, ParamSpec, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, TensorType

_ANY_RANK = tuple(range(1, 7))


def _warn_if_everything_dropped(ctx: RuleContext) -> None:
    if ctx.p["p"] == 1.0:
        ctx.warn(f"{ctx.block} with p = 1 zeroes every value while training: nothing reaches the next layer", param="p")


def _dropout_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", _ANY_RANK, "a tensor", dtype=FLOAT)
    _warn_if_everything_dropped(ctx)
    return {"y": x}


def _dropout_2d_rule(ctx: RuleContext) -> dict[str, TensorType]:
    """Only (N, C, H, W). torch raises for (N,) and merely warns for other ranks, but each of those warnings says
    the behaviour is deprecated: 2-D and 5-D+ inputs "will result in an error in a future release", and 3-D
    inputs will be read as one unbatched (C, H, W) image, so today's channel dropout would silently start
    zeroing whole samples. Generated code should not lean on either, so they are refused here."""
    x = ctx.input("x", dtype=FLOAT)
    if x.rank != 4:
        if x.rank == 3:
            advice = "; for (N, channels, length) use Dropout (torch will read 3-D input as one unbatched image)"
        elif x.rank == 2:
            advice = "; for (N, features) use Dropout"
        else:
            advice = ""
        raise ctx.fail(f"Dropout2d expects (N, channels, height, width) but receives {x}{advice}", port="x")
    _warn_if_everything_dropped(ctx)
    return {"y": x}


STOCHASTIC_DEPTH_CLASS = '''class StochasticDepth(nn.Module):
    """Drop path, as torchvision.ops.StochasticDepth: while training, zeroes the input of a whole sample ("row") or
    of the whole batch ("batch") with probability p, and scales what is kept by 1 / (1 - p)."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        size = [x.size(0)] + [1] * (x.dim() - 1) if self.mode == "row" else [1] * x.dim()
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(keep)
        if keep > 0.0:
            noise.div_(keep)
        return x * noise
'''
"""torchvision's algorithm in model.py itself, so the exported model needs torch alone: the same draws in the same
order, so a seeded run matches torchvision's; p is a constructor argument, so the blocks of an EfficientNet, each
with its own p, share one class."""


SPECS = (
    BlockSpec(
        type="Dropout",
        category="Regularization",
        doc="Randomly zeroes values with probability p while training, scaling the rest by 1 / (1 - p).\n"
        "Against overfitting, typically between fully connected layers.",
        params=(probability("p", 0.5, "Probability that a value is zeroed."),),
        rule=_dropout_rule,
        module=ModuleCode("nn.Dropout"),
        label_prefix="drop",
    ),
    BlockSpec(
        type="Dropout2d",
        category="Regularization",
        doc="Randomly zeroes whole channels of (N, C, H, W) with probability p while training.\n"
        "Against overfitting in CNNs, where neighbouring pixels are too alike for plain Dropout to help.",
        params=(probability("p", 0.5, "Probability that a channel is zeroed."),),
        rule=_dropout_2d_rule,
        module=ModuleCode("nn.Dropout2d"),
        label_prefix="drop",
    ),
    BlockSpec(
        type="StochasticDepth",
        category="Regularization",
        doc="Drops a whole residual branch for some samples while training (drop path), scaling the rest by "
        "1 / (1 - p).\nOn the branch of a residual block before the Add, as EfficientNet, ConvNeXt and Swin do.",
        params=(
            probability("p", 0.1, "Probability that a sample's branch is zeroed."),
            ParamSpec(
                "mode",
                "choice",
                "row",
                "row: one draw per sample; batch: one draw for the whole batch.",
                choices=("row", "batch"),
            ),
        ),
        rule=_dropout_rule,
        module=ModuleCode("StochasticDepth", positional=("p", "mode"), source=STOCHASTIC_DEPTH_CLASS),
        label_prefix="stochastic_depth",
    ),
)
