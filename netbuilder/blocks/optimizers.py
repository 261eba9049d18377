"""Optimizers: each minimises the loss wired into it, with an optional learning-rate schedule.

The schedule parameters are shared by every optimizer. Codegen writes the scheduler; how often it steps
follows from its kind: once per batch for one-cycle, once per epoch for the others (reduce-on-plateau on the
validation loss).
"""

from __future__ import annotations

from netbuilder.blocks.spec import LOSS, OPTIMIZER, BlockSpec, ModuleCode, ParamSpec, PortSpec, RuleContext
from netbuilder.blocks.tensor_type import TensorType

SCHEDULES = ("none", "step", "cosine", "onecycle", "plateau")

SCHEDULE_PARAMS = (
    ParamSpec(
        "schedule",
        "choice",
        "none",
        "Learning-rate schedule: none, step decay, cosine annealing, "
        "one-cycle, or reduce when validation loss plateaus.",
        choices=SCHEDULES,
    ),
    ParamSpec(
        "step_size",
        "int",
        10,
        "Epochs between learning-rate drops.",
        min=1,
        max=100_000,
        when=("schedule", ("step",)),
    ),
    ParamSpec(
        "gamma",
        "float",
        0.1,
        "Factor the learning rate is multiplied by at each drop.",
        min=1e-6,
        max=1.0,
        when=("schedule", ("step", "plateau")),
    ),
    ParamSpec(
        "patience",
        "int",
        5,
        "Epochs without improvement before the learning rate drops.",
        min=0,
        max=10_000,
        when=("schedule", ("plateau",)),
    ),
)
SCHEDULE_NAMES = tuple(p.name for p in SCHEDULE_PARAMS)


def _lr(default: float) -> ParamSpec:
    return ParamSpec("lr", "float", default, "Learning rate (the peak rate for one-cycle).", min=1e-8, max=10.0)


def _weight_decay(default: float) -> ParamSpec:
    return ParamSpec("weight_decay", "float", default, "L2 penalty on the weights.", min=0.0, max=1.0)


def _beta(name: str, default: float, what: str) -> ParamSpec:
    return ParamSpec(name, "float", default, f"Decay rate of the running average of {what}.", min=0.0, max=0.9999)


def _sgd_rule(ctx: RuleContext) -> dict[str, TensorType]:
    if ctx.p["nesterov"] and ctx.p["momentum"] == 0:
        raise ctx.fail("Nesterov momentum needs momentum above 0", param="nesterov")
    return {}


def _no_rule(ctx: RuleContext) -> dict[str, TensorType]:
    return {}


def _optimizer(
    type_: str,
    doc: str,
    *params: ParamSpec,
    state: int,
    rule=_no_rule,
    grouped=None,
    always: tuple[str, ...] = (),
) -> BlockSpec:
    return BlockSpec(
        type=type_,
        category="Optimizer",
        role=OPTIMIZER,
        doc=doc,
        params=(*params, *SCHEDULE_PARAMS),
        inputs=(PortSpec("loss", LOSS, frozenset({LOSS}), doc="The loss to minimise."),),
        outputs=(),
        rule=rule,
        module=ModuleCode(
            f"torch.optim.{type_}",
            leading="model.parameters()",
            omit=SCHEDULE_NAMES,
            grouped=grouped or {},
            always=("lr", *always),
        ),
        label_prefix="optimizer",
        state_per_parameter=state,
    )


SPECS = (
    _optimizer(
        "SGD",
        "Stochastic gradient descent, with optional momentum and Nesterov acceleration.\n"
        "Simple and well understood; often best for CNNs with a schedule.",
        _lr(0.01),
        ParamSpec("momentum", "float", 0.9, "Momentum factor (0 = plain SGD).", min=0.0, max=0.9999),
        ParamSpec("nesterov", "bool", False, "Use Nesterov momentum."),
        _weight_decay(0.0),
        state=1,  # the momentum buffer
        rule=_sgd_rule,
        always=("momentum",),
    ),
    _optimizer(
        "Adam",
        "Adam: adaptive per-parameter rates from running averages of gradients.\n"
        "Works well with little tuning; the usual first choice.",
        _lr(0.001),
        _beta("beta1", 0.9, "gradients"),
        _beta("beta2", 0.999, "squared gradients"),
        _weight_decay(0.0),
        state=2,  # the running averages of gradients and of their squares
        grouped={"betas": ("beta1", "beta2")},
    ),
    _optimizer(
        "AdamW",
        "Adam with decoupled weight decay (Loshchilov and Hutter).\nThe standard for transformers.",
        _lr(0.001),
        _beta("beta1", 0.9, "gradients"),
        _beta("beta2", 0.999, "squared gradients"),
        _weight_decay(0.01),
        state=2,
        grouped={"betas": ("beta1", "beta2")},
    ),
    _optimizer(
        "RMSprop",
        "RMSprop: divides each step by a running average of squared gradients.\nA classic for recurrent nets.",
        _lr(0.01),
        ParamSpec("alpha", "float", 0.99, "Smoothing constant of the squared-gradient average.", min=0.0, max=0.9999),
        ParamSpec("momentum", "float", 0.0, "Momentum factor.", min=0.0, max=0.9999),
        _weight_decay(0.0),
        state=2,  # the squared-gradient average and the momentum buffer
    ),
    _optimizer(
        "Adagrad",
        "Adagrad: per-parameter rates that shrink with the sum of squared gradients.\nGood for sparse features.",
        _lr(0.01),
        ParamSpec("lr_decay", "float", 0.0, "Learning-rate decay per step.", min=0.0, max=1.0),
        _weight_decay(0.0),
        state=1,  # the sum of squared gradients
    ),
)
