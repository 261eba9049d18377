"""Oracle cases for losses and optimizers."""

from __future__ import annotations

import random

from netbuilder.blocks.tensor_type import FLOAT, LONG, TensorType, batched
from tests.oracle import Case


def _class_loss(block: str, **params):
    """Scores (N, C[, d]) against class indices with `classes` (sometimes fewer/more than C), or probabilities."""

    def generate(rng: random.Random) -> Case:
        classes = rng.randint(2, 10)
        extra = tuple(rng.randint(1, 5) for _ in range(rng.choice([0, 0, 0, 1])))
        scores = batched(rng.choice([classes, classes, classes, rng.randint(1, 12)]), *extra)
        if block == "CrossEntropy" and rng.random() < 0.2:
            target = batched(*(scores.features if rng.random() < 0.7 else (classes + 1, *extra)))
        else:
            target_extra = extra if rng.random() < 0.85 else tuple(d + 1 for d in extra) or (2,)
            target = TensorType(("N", *target_extra), LONG, classes)
        chosen = {name: make(rng) for name, make in params.items()}
        producer = "LogSoftmax" if block == "NLL" else "Linear"
        return Case(block, chosen, {"input": scores, "target": target}, producers={"input": producer})

    return generate


def _value_loss(block: str, **params):
    """Equal shapes mostly; sometimes broadcastable or incompatible ones (torch raises on those)."""

    def generate(rng: random.Random) -> Case:
        dims = tuple(rng.randint(1, 6) for _ in range(rng.randint(1, 3)))
        other = dims
        roll = rng.random()
        if roll < 0.15:
            other = tuple(d + 1 for d in dims)
        elif roll < 0.25:
            other = tuple(1 for _ in dims)
        chosen = {name: make(rng) for name, make in params.items()}
        return Case(
            block,
            chosen,
            {"input": batched(*dims), "target": TensorType(("N", *other), FLOAT)},
            producers={"input": "Sigmoid" if block == "BCE" else "Linear"},
            values=_VALUES.get(block, {}),
        )

    return generate


def _binary(block: str):
    """BCE on float targets of the same or another shape, or on two-class indices against (N, 1) scores."""
    values = _value_loss(block)

    def generate(rng: random.Random) -> Case:
        if rng.random() < 0.5:
            return values(rng)
        scores = batched(*rng.choice([(1,), (1,), (), (2,)]))
        target = TensorType(("N",), LONG, 2)
        return Case(
            block,
            {},
            {"input": scores, "target": target},
            producers={"input": "Sigmoid" if block == "BCE" else "Linear"},
            values=_VALUES[block],
        )

    return generate


def _kl(rng: random.Random) -> Case:
    case = _value_loss("KLDiv", log_target=lambda r: r.random() < 0.3)(rng)
    case.producers = {"input": "LogSoftmax"}
    return case


def _optimizer(block: str, **params):
    def generate(rng: random.Random) -> Case:
        chosen = {"lr": 10 ** rng.uniform(-5, -0.5), **{name: make(rng) for name, make in params.items()}}
        chosen["schedule"] = rng.choice(["none", "step", "cosine", "onecycle", "plateau"])
        return Case(block, chosen, {"loss": TensorType(())})

    return generate


def _weight_decay(rng: random.Random) -> float:
    return rng.choice([0.0, 0.0, 1e-4, 0.05])


_VALUES = {
    "BCE": {"input": "probability", "target": "probability"},
    "BCEWithLogits": {"target": "probability"},
    "KLDiv": {"input": "log_probability", "target": "probability"},
}

GENERATORS = {
    "CrossEntropy": _class_loss("CrossEntropy", label_smoothing=lambda r: r.choice([0.0, 0.1, 0.3])),
    "NLL": _class_loss("NLL"),
    "MSE": _value_loss("MSE"),
    "L1": _value_loss("L1"),
    "SmoothL1": _value_loss("SmoothL1", beta=lambda r: r.choice([0.5, 1.0, 2.0])),
    "Huber": _value_loss("Huber", delta=lambda r: r.choice([0.5, 1.0, 3.0])),
    "BCEWithLogits": _binary("BCEWithLogits"),
    "BCE": _binary("BCE"),
    "KLDiv": _kl,
    "SGD": _optimizer(
        "SGD",
        momentum=lambda r: r.choice([0.0, 0.0, 0.5, 0.9]),
        nesterov=lambda r: r.random() < 0.4,
        weight_decay=_weight_decay,
    ),
    "Adam": _optimizer(
        "Adam",
        beta1=lambda r: r.choice([0.8, 0.9]),
        beta2=lambda r: r.choice([0.99, 0.999]),
        weight_decay=_weight_decay,
    ),
    "AdamW": _optimizer("AdamW", beta1=lambda r: r.choice([0.8, 0.9]), weight_decay=_weight_decay),
    "RMSprop": _optimizer(
        "RMSprop",
        alpha=lambda r: r.choice([0.9, 0.99]),
        momentum=lambda r: r.choice([0.0, 0.9]),
        weight_decay=_weight_decay,
    ),
    "Adagrad": _optimizer("Adagrad", lr_decay=lambda r: r.choice([0.0, 0.01]), weight_decay=_weight_decay),
}
