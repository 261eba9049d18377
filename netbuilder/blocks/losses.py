"""Loss functions: each takes the model's `input` and a `target` and produces the `loss` an optimizer minimises.

The rules check what torch checks (and raise where torch raises), plus the mistakes torch lets through
silently: regression losses against class indices, probabilities fed to a loss that expects logits.
"""

from __future__ import annotations

from netbuilder.blocks.errors import BypassProducer, InsertBefore, SetProducerSize
from netbuilder.blocks.shared_params import probability
from netbuilder.blocks.spec import (
    LOSS,
    LOSS_ROLE,
    TARGET,
    TENSOR,
    BlockSpec,
    ForwardContext,
    ModuleCode,
    ParamSpec,
    PortSpec,
    RuleContext,
)
from netbuilder.blocks.tensor_type import BATCH, FLOAT, LONG, TensorType

SCALAR = TensorType(())

_PORTS = (
    PortSpec("input", TENSOR, frozenset({TENSOR}), doc="The model's output."),
    PortSpec("target", TARGET, frozenset({TARGET, TENSOR}), doc="What the output should be."),
)
_OUT = (PortSpec("loss", LOSS, doc="The loss value, for an optimizer."),)


def _class_logits(ctx: RuleContext, kind: str) -> dict[str, TensorType]:
    """CrossEntropy and NLL: (N, C, ...) scores against (N, ...) class indices (CE also takes probabilities)."""
    scores = ctx.input("input", (2, 3, 4, 5), f"{kind} (N, classes)", dtype=FLOAT)
    target = ctx.inputs["target"]
    classes = int(scores.shape[1])
    if target.dtype == LONG:
        expected = (BATCH, *scores.shape[2:])
        if target.shape != expected:
            raise ctx.fail(
                f"{ctx.block} expects {kind} (N, classes) for class-index targets {target} but receives {scores}",
                port="input",
            )
        wanted = target.classes
        if wanted is not None and classes < wanted:
            raise ctx.fail(
                f"{ctx.block} receives {classes} {kind} per sample but the targets have {wanted} classes",
                port="input",
                hint=SetProducerSize("input", wanted),
            )
        if wanted is not None and classes > wanted:
            ctx.warn(
                f"{ctx.block} receives {classes} {kind} per sample but the targets have only {wanted} classes: "
                f"{classes - wanted} outputs can never be right",
                port="input",
                hint=SetProducerSize("input", wanted),
            )
    elif ctx.block != "CrossEntropy":
        raise ctx.fail(f"{ctx.block} needs class-index targets but receives values {target}", port="target")
    elif target.shape != scores.shape:
        raise ctx.fail(
            f"CrossEntropy with probability targets needs equal shapes but receives {scores} and {target}",
            port="target",
        )
    return {"loss": SCALAR}


def _cross_entropy_rule(ctx: RuleContext) -> dict[str, TensorType]:
    out = _class_logits(ctx, "logits")
    if ctx.producer("input") == "Softmax":
        ctx.warn(
            "CrossEntropy applies log-softmax itself: a Softmax before it squashes the gradients; remove it",
            port="input",
            hint=BypassProducer("input", "Softmax"),
        )
    return out


def _nll_rule(ctx: RuleContext) -> dict[str, TensorType]:
    out = _class_logits(ctx, "log-probabilities")
    if ctx.producer("input") != "LogSoftmax":
        ctx.warn(
            "NLL expects log-probabilities: put a LogSoftmax before it (or use CrossEntropy on raw scores)",
            port="input",
            hint=InsertBefore("input", "LogSoftmax"),
        )
    return out


def _equal_shapes(ctx: RuleContext, inp: TensorType, target: TensorType) -> None:
    """Element-wise losses: equal shapes; broadcastable ones work in torch but are almost always a bug."""
    if inp.shape == target.shape:
        return
    a, b = inp.shape, target.shape
    width = max(len(a), len(b))
    a, b = (1,) * (width - len(a)) + a, (1,) * (width - len(b)) + b
    if all(x == y or 1 in (x, y) for x, y in zip(a, b, strict=True)):
        ctx.warn(
            f"{ctx.block} compares {inp} with {target}: torch broadcasts them, which is rarely intended; "
            "make the shapes equal",
            port="target",
        )
        return
    raise ctx.fail(f"{ctx.block} needs equal shapes but receives {inp} and {target}", port="target")


def _regression_rule(ctx: RuleContext) -> dict[str, TensorType]:
    inp = ctx.input("input", dtype=FLOAT)
    target = ctx.inputs["target"]
    if target.dtype == LONG:
        raise ctx.fail(
            f"{ctx.block} compares values but the targets are class indices {target}: "
            "use CrossEntropy for classification",
            port="target",
        )
    _equal_shapes(ctx, inp, target)
    return {"loss": SCALAR}


def _binary_rule(ctx: RuleContext) -> dict[str, TensorType]:
    inp = ctx.input("input", dtype=FLOAT)
    target = ctx.inputs["target"]
    if target.dtype == LONG:
        if target.classes not in (None, 2):
            raise ctx.fail(
                f"{ctx.block} is for two classes but the targets have {target.classes}: use CrossEntropy",
                port="target",
            )
        if inp.shape not in ((BATCH,), (BATCH, 1)):
            raise ctx.fail(
                f"{ctx.block} on two classes expects one score per sample (N, 1) but receives {inp}",
                port="input",
                hint=SetProducerSize("input", 1),
            )
    elif target.shape != inp.shape:
        raise ctx.fail(f"{ctx.block} needs equal shapes but receives {inp} and {target}", port="target")
    if ctx.block == "BCE" and ctx.producer("input") != "Sigmoid":
        ctx.warn(
            "BCE expects probabilities in [0, 1]: put a Sigmoid before it, or use BCEWithLogits on raw "
            "scores (more stable)",
            port="input",
            hint=InsertBefore("input", "Sigmoid"),
        )
    if ctx.block == "BCEWithLogits" and ctx.producer("input") == "Sigmoid":
        ctx.warn(
            "BCEWithLogits applies the sigmoid itself: remove the Sigmoid before it",
            port="input",
            hint=BypassProducer("input", "Sigmoid"),
        )
    return {"loss": SCALAR}


def _pair_forward(ctx: ForwardContext) -> list[str]:
    return [f"{ctx.out} = {ctx.attr}({ctx.args['input']}, {ctx.args['target']})"]


def _binary_forward(ctx: ForwardContext) -> list[str]:
    """Class indices become float targets shaped like the scores; float targets pass through."""
    inp, target = ctx.args["input"], ctx.args["target"]
    if ctx.inputs["target"].dtype == LONG:
        target = f"{target}.float().view_as({inp})"
    return [f"{ctx.out} = {ctx.attr}({inp}, {target})"]


def _kl_rule(ctx: RuleContext) -> dict[str, TensorType]:
    inp = ctx.input("input", dtype=FLOAT)
    target = ctx.inputs["target"]
    if target.dtype == LONG:
        raise ctx.fail(
            f"KLDiv compares distributions but the targets are class indices {target}: use CrossEntropy",
            port="target",
        )
    _equal_shapes(ctx, inp, target)
    if ctx.producer("input") != "LogSoftmax":
        ctx.warn(
            "KLDiv expects log-probabilities as input: put a LogSoftmax before it",
            port="input",
            hint=InsertBefore("input", "LogSoftmax"),
        )
    return {"loss": SCALAR}


def _loss(
    type_: str,
    doc: str,
    rule,
    *params: ParamSpec,
    cls: str | None = None,
    forward=None,
    fixed: dict | None = None,
) -> BlockSpec:
    return BlockSpec(
        type=type_,
        category="Loss",
        role=LOSS_ROLE,
        doc=doc,
        params=params,
        inputs=_PORTS,
        outputs=_OUT,
        rule=rule,
        module=ModuleCode(cls or f"nn.{type_}Loss", fixed=fixed or {}),
        forward=forward or _pair_forward,
        label_prefix="loss",
    )


SPECS = (
    _loss(
        "CrossEntropy",
        "Cross-entropy between raw scores (logits) and class indices.\n"
        "The loss for classification; it applies log-softmax itself.",
        _cross_entropy_rule,
        probability("label_smoothing", 0.0, "Spread this much of the target's weight over all classes."),
    ),
    _loss(
        "NLL",
        "Negative log-likelihood of log-probabilities and class indices.\nPair with LogSoftmax.",
        _nll_rule,
    ),
    _loss(
        "MSE",
        "Mean squared error between output and target values.\nThe default for regression.",
        _regression_rule,
    ),
    _loss(
        "L1",
        "Mean absolute error between output and target values.\nLess sensitive to outliers than MSE.",
        _regression_rule,
    ),
    _loss(
        "SmoothL1",
        "Squared error for small differences, absolute error beyond `beta`.\nRobust regression, as in Fast R-CNN.",
        _regression_rule,
        ParamSpec("beta", "float", 1.0, "Where the loss changes from squared to absolute.", min=0.0, max=1000.0),
    ),
    _loss(
        "Huber",
        "Huber loss: squared error within `delta`, linear beyond.\nRobust regression.",
        _regression_rule,
        ParamSpec("delta", "float", 1.0, "Where the loss changes from squared to linear.", min=1e-6, max=1000.0),
    ),
    _loss(
        "BCEWithLogits",
        "Binary cross-entropy on raw scores, with the sigmoid built in.\n"
        "For two classes or several independent yes/no labels.",
        _binary_rule,
        forward=_binary_forward,
    ),
    _loss(
        "BCE",
        "Binary cross-entropy on probabilities in [0, 1].\nPut a Sigmoid before it.",
        _binary_rule,
        forward=_binary_forward,
    ),
    _loss(
        "KLDiv",
        "Kullback-Leibler divergence from target distributions to log-probabilities.\n"
        "For distillation and distribution matching.",
        _kl_rule,
        ParamSpec("log_target", "bool", False, "The targets are log-probabilities too."),
        fixed={"reduction": "batchmean"},
    ),
)
