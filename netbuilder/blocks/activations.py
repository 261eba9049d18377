"""Torch's activations as layers: element-wise non-linearities, (log-)softmax and softmin over one dimension,
softmax over an image's channels, and the gated linear unit, which halves one dimension.

Parameters carry torch's names and defaults, so the importer reads a module's attributes back by name."""

from __future__ import annotations

from netbuilder.blocks.shared_params import not_batch_dim
from netbuilder.blocks.spec import BlockSpec, ModuleCode, ParamSpec, Rule, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, TensorType

_ANY_RANK = tuple(range(1, 7))


def _elementwise_rule(ctx: RuleContext) -> dict[str, TensorType]:
    return {"y": ctx.input("x", _ANY_RANK, "a tensor", dtype=FLOAT)}


def _activation(
    type_: str, doc: str, *params: ParamSpec, rule: Rule = _elementwise_rule, module: ModuleCode | None = None
) -> BlockSpec:
    return BlockSpec(
        type=type_,
        category="Activation",
        doc=doc,
        params=params,
        rule=rule,
        module=module or ModuleCode(f"nn.{type_}"),
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


def _checked_dim(ctx: RuleContext, x: TensorType) -> int:
    """`dim` counted from the front, refused where it is not a dimension of `x` or is the batch."""
    dim = ctx.p["dim"]
    if not -x.rank <= dim < x.rank:
        raise ctx.fail(
            f"{ctx.block} over dim {dim} needs a tensor with more dimensions than {x}", port="x", param="dim"
        )
    if dim % x.rank == 0:
        raise ctx.fail(f"{ctx.block} over dim {dim} of {x} would mix samples across the batch", param="dim")
    return dim % x.rank


def _dim_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", _ANY_RANK, "a tensor", dtype=FLOAT)
    _checked_dim(ctx, x)
    return {"y": x}


def _glu_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.input("x", _ANY_RANK, "a tensor", dtype=FLOAT)
    dim = _checked_dim(ctx, x)
    size = x.features[dim - 1]
    if size % 2:
        raise ctx.fail(f"GLU halves dim {ctx.p['dim']} of {x}, whose size {size} is odd", port="x", param="dim")
    features = list(x.features)
    features[dim - 1] = size // 2
    return {"y": x.with_shape(*features)}


def _softmax2d_rule(ctx: RuleContext) -> dict[str, TensorType]:
    # Torch also takes a 3-D tensor, as one unbatched image (C, H, W): to us that is (N, C, L), and its softmax
    # would run over the batch.
    return {"y": ctx.input("x", (4,), "images (N, C, H, W)", dtype=FLOAT)}


def _hardtanh_rule(ctx: RuleContext) -> dict[str, TensorType]:
    low, high = ctx.p["min_val"], ctx.p["max_val"]
    if high <= low:
        raise ctx.fail(f"Hardtanh needs max_val ({high}) greater than min_val ({low})", param="max_val")
    return _elementwise_rule(ctx)


def _rrelu_rule(ctx: RuleContext) -> dict[str, TensorType]:
    lower, upper = ctx.p["lower"], ctx.p["upper"]
    if upper < lower:
        raise ctx.fail(
            f"RReLU draws slopes from [lower, upper], but upper ({upper}) is below lower ({lower})", param="upper"
        )
    return _elementwise_rule(ctx)


def _nonzero(value: float) -> str | None:
    """Refuse 0 for a parameter the block divides by (torch gives inf, NaN or an error)."""
    return "0 is not allowed: the block divides by it" if value == 0 else None


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
    _activation(
        "Softmax",
        "Softmax: turns scores into probabilities that sum to one over `dim`.\n"
        "Not before CrossEntropy, which applies it itself.",
        _dim_param(),
        rule=_dim_rule,
        module=ModuleCode("nn.Softmax", always=("dim",)),
    ),
    _activation(
        "LogSoftmax",
        "Log of the softmax over `dim`, computed stably.\nPair with NLL loss.",
        _dim_param(),
        rule=_dim_rule,
        module=ModuleCode("nn.LogSoftmax", always=("dim",)),
    ),
    _activation("Hardswish", "Hard swish: x * relu6(x + 3) / 6.\nA cheap swish used in MobileNetV3."),
    _activation(
        "ReLU6", "ReLU capped at 6: min(max(0, x), 6).\nKeeps activations small for low precision; MobileNetV2."
    ),
    _activation(
        "Hardsigmoid",
        "Hard sigmoid: relu6(x + 3) / 6, a piecewise-linear sigmoid onto [0, 1].\n"
        "A cheap gate, as in MobileNetV3's squeeze-and-excitation.",
    ),
    _activation(
        "Hardtanh",
        "Hard tanh: x clamped to [min_val, max_val].\nA cheap tanh; from 0 to 6 it is ReLU6.",
        ParamSpec("min_val", "float", -1.0, "Lower bound of the output."),
        ParamSpec("max_val", "float", 1.0, "Upper bound of the output; must be greater than min_val."),
        rule=_hardtanh_rule,
    ),
    _activation(
        "RReLU",
        "Randomized leaky ReLU: a random negative slope in [lower, upper] while training, their mean in eval.\n"
        "Regularises like noise (Xu et al. 2015); in eval mode the output is fixed.",
        ParamSpec("lower", "float", 0.125, "Smallest negative slope drawn in training."),
        ParamSpec("upper", "float", 1 / 3, "Largest negative slope drawn in training; at least lower."),
        rule=_rrelu_rule,
    ),
    _activation(
        "SELU",
        "Scaled ELU: 1.0507 * (x if x > 0 else 1.6733 * (exp(x) - 1)).\n"
        "Self-normalising fully connected networks (Klambauer et al. 2017).",
    ),
    _activation(
        "CELU",
        "Continuously differentiable ELU: max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).\n"
        "An ELU whose slope stays continuous at 0 for any alpha.",
        ParamSpec(
            "alpha",
            "float",
            1.0,
            "Scale of the negative part: very negative inputs give -alpha; not 0.",
            check=_nonzero,
        ),
    ),
    _activation(
        "Softplus",
        "Softplus: log(1 + exp(beta * x)) / beta, a smooth ReLU.\n"
        "For an output that must be positive, such as a standard deviation or a rate.",
        ParamSpec("beta", "float", 1.0, "Sharpness: the larger, the closer to ReLU; not 0.", check=_nonzero),
        ParamSpec("threshold", "float", 20.0, "Where beta * x exceeds this, the output is x itself (for stability)."),
    ),
    _activation(
        "Softsign",
        "Softsign: x / (1 + |x|), squashing to (-1, 1).\nA tanh-like squash whose tails approach ±1 more slowly.",
    ),
    _activation(
        "LogSigmoid",
        "Log of the sigmoid: -log(1 + exp(-x)), computed stably.\nLog-probabilities of a yes/no outcome.",
    ),
    _activation(
        "Softmin",
        "Softmin: softmax of -x over `dim`, so the smallest input gets the largest probability.\n"
        "To weigh options by a cost or a distance.",
        _dim_param(),
        rule=_dim_rule,
        module=ModuleCode("nn.Softmin", always=("dim",)),
    ),
    _activation(
        "Softmax2d",
        "Softmax over the channels at each position of images (N, C, H, W).\n"
        "Per-pixel class probabilities in segmentation; the same as Softmax over dim 1.",
        rule=_softmax2d_rule,
    ),
    _activation(
        "GLU",
        "Gated linear unit: a * sigmoid(b) for the two halves a, b of `dim`, which it halves.\n"
        "Gated convolutions and feed-forward layers (Dauphin et al. 2017); the size along `dim` must be even.",
        ParamSpec(
            "dim",
            "int",
            -1,
            "Dimension split into two halves (-1 = last); its size must be even.",
            min=-1,
            max=5,
            check=not_batch_dim,
        ),
        rule=_glu_rule,
    ),
    _activation(
        "Softshrink",
        "Soft shrinkage: x - lambd above lambd, x + lambd below -lambd, 0 between.\n"
        "Sparse codes and denoising: small values become 0 and the rest move towards it.",
        ParamSpec("lambd", "float", 0.5, "Half-width of the band around 0 that becomes 0.", min=0.0),
    ),
    _activation(
        "Hardshrink",
        "Hard shrinkage: x where |x| > lambd, else 0.\nZeroes small values and keeps the rest as they are.",
        ParamSpec("lambd", "float", 0.5, "Half-width of the band around 0 that becomes 0.", min=0.0),
    ),
    _activation(
        "Tanhshrink",
        "Tanh shrink: x - tanh(x), near 0 for small inputs and near x for large ones.\n"
        "Rare; from sparse coding, where small values should vanish smoothly.",
    ),
    _activation(
        "Threshold",
        "Threshold: x where x > threshold, else value.\n"
        "A ReLU with a chosen cut-off and replacement (0 and 0 is ReLU).",
        ParamSpec("threshold", "float", 0.0, "Inputs at or below this are replaced."),
        ParamSpec("value", "float", 0.0, "What replaces them."),
        module=ModuleCode("nn.Threshold", positional=("threshold", "value")),
    ),
)
