"""Element-wise non-linearities and the (log-)softmax over one dimension."""

from __future__ import annotations

from netbuilder.blocks.shared_params import not_batch_dim
from netbuilder.blocks.spec import BlockSpec, ModuleCode, ParamSpec, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, TensorType

_ANY_RANK = tuple(range(1, 7))


def _elementwise_rule(ctx: RuleContext) -> dict[str, TensorType]:
    return {"y": ctx.input("x", _ANY_RANK, "a tensor", dtype=FLOAT)}


def _activation(type_: str, doc: str, *params: ParamSpec, cls: str | None = None) -> BlockSpec:
    return BlockSpec(
        type=type_,
        category="Activation",
        doc=doc,
        params=params,
        rule=_elementwise_rule,
        module=ModuleCode(cls or f"nn.{type_}"),
    )


def _prelu_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", _ANY_RANK, "a tensor", dtype=FLOAT)
    if ctx.p["per_channel"]:
        if x.rank < 2:
            raise ctx.fail(
                f"PReLU per channel needs a channel dimension but receives {x}", port="x", param="per_channel"
            )
        ctx.p["num_parameters"] = x.shape[1]
    else:
        ctx.p["num_parameters"] = 1
    return {"y": x}


def _dim_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", _ANY_RANK, "a tensor", dtype=FLOAT)
    dim = ctx.p["dim"]
    if not -x.rank <= dim < x.rank:
        raise ctx.fail(
            f"{ctx.block} over dim {dim} needs a tensor with more dimensions than {x}", port="x", param="dim"
        )
    if dim % x.rank == 0:
        raise ctx.fail(f"{ctx.block} over dim {dim} of {x} would mix samples across the batch", param="dim")
    return {"y": x}


def _dim_param() -> ParamSpec:
    return ParamSpec(
        "dim",
        "int",
        1,
        "Dimension that sums to one (1 = features/classes, -1 = last).",
        min=-1,
        max=5,
        check=not_batch_dim,
    )


SPECS = (
    _activation("ReLU", "Rectified linear unit: max(0, x).\nThe default choice between layers."),
    _activation(
        "LeakyReLU",
        "ReLU with a small slope for negative inputs: max(0, x) + slope * min(0, x).\nAvoids dead units.",
        ParamSpec("negative_slope", "float", 0.01, "Slope for negative inputs.", min=0.0, max=1.0),
    ),
    BlockSpec(
        type="PReLU",
        category="Activation",
        doc="ReLU whose negative slope is learned (one per channel, or one shared).\nFrom He et al. 2015.",
        params=(
            ParamSpec("per_channel", "bool", False, "Learn one slope per channel (dimension 1) instead of one."),
            ParamSpec("init", "float", 0.25, "Initial slope.", min=0.0, max=1.0),
        ),
        rule=_prelu_rule,
        count_params=lambda p, i, o: p["num_parameters"],
        module=ModuleCode("nn.PReLU", derived={"num_parameters": 1}, omit=("per_channel",)),
    ),
    _activation(
        "ELU",
        "Exponential linear unit: x if x > 0 else alpha * (exp(x) - 1).\nSmooth, with negative outputs.",
        ParamSpec("alpha", "float", 1.0, "Value the output approaches for very negative inputs.", min=0.0, max=10.0),
    ),
    _activation(
        "GELU",
        "Gaussian error linear unit: x * Φ(x).\nThe activation of transformers (BERT, GPT).",
        ParamSpec(
            "approximate",
            "choice",
            "none",
            "Exact ('none') or the faster tanh approximation.",
            choices=("none", "tanh"),
        ),
    ),
    _activation("SiLU", "Sigmoid linear unit (swish): x * sigmoid(x).\nUsed in EfficientNet and many modern CNNs."),
    _activation("Mish", "Mish: x * tanh(softplus(x)).\nA smooth activation used in YOLOv4."),
    _activation(
        "Sigmoid",
        "Logistic sigmoid: 1 / (1 + exp(-x)), squashing to (0, 1).\n"
        "Before BCE loss or for outputs that are probabilities.",
    ),
    _activation("Tanh", "Hyperbolic tangent, squashing to (-1, 1).\nCommon inside recurrent networks."),
    BlockSpec(
        type="Softmax",
        category="Activation",
        doc="Softmax: turns scores into probabilities that sum to one over `dim`.\n"
        "Not before CrossEntropy, which applies it itself.",
        params=(_dim_param(),),
        rule=_dim_rule,
        module=ModuleCode("nn.Softmax", always=("dim",)),
    ),
    BlockSpec(
        type="LogSoftmax",
        category="Activation",
        doc="Log of the softmax over `dim`, computed stably.\nPair with NLL loss.",
        params=(_dim_param(),),
        rule=_dim_rule,
        module=ModuleCode("nn.LogSoftmax", always=("dim",)),
    ),
    _activation("Hardswish", "Hard swish: x * relu6(x + 3) / 6.\nA cheap swish used in MobileNetV3."),
    _activation(
        "ReLU6", "ReLU capped at 6: min(max(0, x), 6).\nKeeps activations small for low precision; MobileNetV2."
    ),
)
