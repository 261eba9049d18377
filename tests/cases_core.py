"""Oracle cases for core, activation and merge blocks."""

from __future__ import annotations

import random

from netbuilder.blocks.tensor_type import FLOAT, TensorType, batched
from tests.oracle import Case


def random_features(rng: random.Random, ranks=(1, 2, 3, 4), size=(1, 9)) -> tuple[int, ...]:
    return tuple(rng.randint(*size) for _ in range(rng.choice(ranks)))


def _linear(rng: random.Random) -> Case:
    features = random_features(rng, ranks=(1, 1, 2, 3))
    x = batched(*features)
    right = features[-1]
    pinned = rng.choice([right, right, right, rng.randint(1, 12)])
    return Case(
        "Linear",
        {"in_features": pinned, "out_features": rng.randint(1, 16), "bias": rng.random() < 0.7},
        {"x": x},
    )


def _elementwise(block: str, **param_makers):
    def generate(rng: random.Random) -> Case:
        params = {name: make(rng) for name, make in param_makers.items()}
        return Case(block, params, {"x": batched(*random_features(rng))})

    return generate


def _prelu(rng: random.Random) -> Case:
    return Case(
        "PReLU",
        {"per_channel": rng.random() < 0.5, "init": rng.random() * 0.5},
        {"x": batched(*random_features(rng))},
    )


def _dim(block: str):
    def generate(rng: random.Random) -> Case:
        return Case(block, {"dim": rng.choice([-1, 1, 2, 3, 4])}, {"x": batched(*random_features(rng))})

    return generate


def _hardtanh(rng: random.Random) -> Case:
    low = rng.uniform(-3, 3)
    high = rng.choice([low + rng.uniform(0.01, 6), low + rng.uniform(0.01, 6), low, low - rng.uniform(0.01, 3)])
    return Case("Hardtanh", {"min_val": low, "max_val": high}, {"x": batched(*random_features(rng))})


def _rrelu(rng: random.Random) -> Case:
    lower = rng.uniform(0, 1)
    upper = rng.choice([lower + rng.uniform(0, 1), lower + rng.uniform(0, 1), lower, lower - rng.uniform(0.01, 1)])
    return Case("RReLU", {"lower": lower, "upper": upper}, {"x": batched(*random_features(rng))})


def _softmax2d(rng: random.Random) -> Case:
    # No (N, C, L): torch takes it as one unbatched image (C, H, W) and runs the softmax over the batch, which
    # we refuse (tests/test_blocks_activations.py); every other rank both refuse but (N, C, H, W).
    return Case("Softmax2d", {}, {"x": batched(*random_features(rng, ranks=(1, 3, 3, 4, 5)))})


def _glu(rng: random.Random) -> Case:
    return Case("GLU", {"dim": rng.choice([-1, 1, 2, 3, 4])}, {"x": batched(*random_features(rng))})


def _nonzero(rng: random.Random, top: float) -> float:
    return rng.choice([-1, 1]) * rng.uniform(0.05, top)


def _learned(rng: random.Random, base: tuple[int, ...]) -> TensorType:
    """A learned tensor (no batch) meeting (N, *base): of its rank with a first size of 1 (or 2 or 4, refused;
    never 3, the oracle's batch size, with which torch would run) or of fewer dimensions, aligned on the right."""
    rank = rng.randint(1, len(base) + 1)
    dims = [d if rng.random() < 0.7 else rng.choice([1, rng.randint(1, 9)]) for d in base[max(len(base) - rank, 0) :]]
    if rank > len(base):
        dims.insert(0, 1 if rng.random() < 0.8 else rng.choice([2, 4]))
    return TensorType(tuple(dims), FLOAT)


def _merge(block: str):
    """Same-rank inputs; sizes equal, 1, or (sometimes) different; sometimes a learned tensor among them, or
    learned tensors only (torch's broadcasting, whole)."""

    def generate(rng: random.Random) -> Case:
        count = rng.randint(2, 4)
        base = random_features(rng, ranks=(1, 2, 3))
        learned_only = rng.random() < 0.1
        inputs = {}
        for i in range(1, count + 1):
            dims = [d if rng.random() < 0.8 else rng.choice([1, rng.randint(1, 9)]) for d in base]
            inputs[f"in{i}"] = TensorType((rng.choice([1, 2]) if learned_only else "N", *dims), FLOAT)
        if rng.random() < 0.3:
            inputs[f"in{rng.randint(1, count)}"] = _learned(rng, base)
        return Case(block, {"inputs": count}, inputs)

    return generate


def _concat(rng: random.Random) -> Case:
    count = rng.choice([1, 2, 3, 4, rng.randint(5, 64)])  # 1 to a DenseNet block's width and beyond
    base = random_features(rng, ranks=(1, 2, 3))
    dim = rng.randint(1, len(base) + (1 if rng.random() < 0.1 else 0))
    inputs = {}
    for i in range(1, count + 1):
        dims = list(base)
        if dim <= len(dims):
            dims[dim - 1] = rng.randint(1, 9)
        if rng.random() < 0.08:
            j = rng.randrange(len(dims))
            dims[j] += 1
        inputs[f"in{i}"] = TensorType(("N", *dims), FLOAT)
    if rng.random() < 0.15:  # learned tensors, joined to one another (or, refused as by torch, to batched ones)
        first = rng.choice([1, 2])
        for port in rng.sample(sorted(inputs), rng.randint(1, count)):
            inputs[port] = TensorType((first, *inputs[port].shape[1:]), FLOAT)
    return Case("Concat", {"inputs": count, "dim": dim}, inputs)


GENERATORS = {
    "Linear": _linear,
    "Identity": _elementwise("Identity"),
    "ReLU": _elementwise("ReLU"),
    "LeakyReLU": _elementwise("LeakyReLU", negative_slope=lambda r: r.random() * 0.3),
    "PReLU": _prelu,
    "ELU": _elementwise("ELU", alpha=lambda r: r.random() * 2),
    "GELU": _elementwise("GELU", approximate=lambda r: r.choice(["none", "tanh"])),
    "SiLU": _elementwise("SiLU"),
    "Mish": _elementwise("Mish"),
    "Sigmoid": _elementwise("Sigmoid"),
    "Tanh": _elementwise("Tanh"),
    "Hardswish": _elementwise("Hardswish"),
    "ReLU6": _elementwise("ReLU6"),
    "Softmax": _dim("Softmax"),
    "LogSoftmax": _dim("LogSoftmax"),
    "Hardsigmoid": _elementwise("Hardsigmoid"),
    "Hardtanh": _hardtanh,
    "Softplus": _elementwise(
        "Softplus", beta=lambda r: _nonzero(r, 3), threshold=lambda r: r.choice([20.0, r.uniform(-5, 30)])
    ),
    "Softsign": _elementwise("Softsign"),
    "SELU": _elementwise("SELU"),
    "CELU": _elementwise("CELU", alpha=lambda r: _nonzero(r, 3)),
    "LogSigmoid": _elementwise("LogSigmoid"),
    "Softshrink": _elementwise("Softshrink", lambd=lambda r: r.uniform(0, 2)),
    "Hardshrink": _elementwise("Hardshrink", lambd=lambda r: r.uniform(0, 2)),
    "Tanhshrink": _elementwise("Tanhshrink"),
    "Threshold": _elementwise("Threshold", threshold=lambda r: r.uniform(-2, 2), value=lambda r: r.uniform(-5, 5)),
    "RReLU": _rrelu,
    "Softmin": _dim("Softmin"),
    "Softmax2d": _softmax2d,
    "GLU": _glu,
    "Add": _merge("Add"),
    "Multiply": _merge("Multiply"),
    "Concat": _concat,
}
