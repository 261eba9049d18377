"""Oracle cases for Slice, Select, Pad, Unsqueeze and Squeeze.

Our refusals alone, tested in test_blocks_slicing.py rather than here: a dimension that lands on the batch
(torch would slice or pad across samples), a result with a size of 0 (torch gives an empty tensor) and a
circular pad cropping more than a dimension holds (torch fails on some and returns others), so the generators
turn such cases into others.
"""

from __future__ import annotations

import random

from netbuilder.blocks.tensor_type import FLOAT, LONG, batched
from tests.oracle import Case


def _features(rng: random.Random, low: int = 0) -> tuple[int, ...]:
    return tuple(rng.randint(1, 7) for _ in range(rng.choice([r for r in (0, 1, 2, 2, 3, 3, 4) if r >= low])))


def _dim(rng: random.Random, rank: int) -> int:
    """A dimension after the batch, now and then one beyond the input (torch refuses it); never the batch."""
    dim = rng.choice([1, 1, 2, 3, 4, -1, -1, -2, -3])
    return -dim if dim + rank <= 0 else dim


def _dtype(rng: random.Random) -> str:
    return LONG if rng.random() < 0.1 else FLOAT


def _slice(rng: random.Random) -> Case:
    while True:
        features = _features(rng)
        dim = _dim(rng, len(features) + 1)
        start = rng.choice([0, 0, 1, 2, -1, -3, rng.randint(-9, 9)])
        end = rng.choice([None, None, 3, -1, rng.randint(-9, 9)])
        step = rng.choice([1, 1, 2, 3])
        axis = dim + len(features) + 1 if dim < 0 else dim
        if not 1 <= axis <= len(features) or range(*slice(start, end, step).indices(features[axis - 1])):
            params = {"dim": dim, "start": start, "end": end, "step": step}
            return Case("Slice", params, {"x": batched(*features, dtype=_dtype(rng))})


def _select(rng: random.Random) -> Case:
    features = _features(rng)
    index = rng.choice([0, 0, 1, -1, rng.randint(-8, 8)])
    return Case("Select", {"dim": _dim(rng, len(features) + 1), "index": index}, {"x": batched(*features)})


_PAD_MODES = ("constant", "constant", "reflect", "replicate", "circular")


def _pad(rng: random.Random) -> Case:
    while True:
        mode = rng.choice(_PAD_MODES)
        features = _features(rng, low=1)
        pairs = rng.randint(1, min(len(features), 3) if rng.random() < 0.9 else 4)
        padding = [rng.choice([0, 1, 1, 2, 3, -1, rng.randint(-8, 8)]) for _ in range(2 * pairs)]
        # a pair beyond the input's dimensions after the batch pads the batch: ours alone (see the docstring)
        if pairs >= len(features) + 1:
            continue
        padded = features[::-1][:pairs]
        out = [n + padding[2 * i] + padding[2 * i + 1] for i, n in enumerate(padded)]
        wrapped = mode == "circular" and any(min(padding[2 * i], padding[2 * i + 1]) < -n for i, n in enumerate(padded))
        if 0 not in out and not wrapped:
            params = {"padding": padding, "mode": mode, "value": rng.choice([0.0, 0.0, 1.5, -2.0])}
            return Case("Pad", params, {"x": batched(*features, dtype=_dtype(rng))})


def _unsqueeze(rng: random.Random) -> Case:
    features = _features(rng)
    dim = rng.choice([1, 1, 2, 3, 4, 5, -1, -1, -2, -3, -4])
    # -rank - 1 would put the new dimension before the batch: our refusal alone
    dim = -dim if dim + len(features) + 2 <= 0 else dim
    return Case("Unsqueeze", {"dim": dim}, {"x": batched(*features, dtype=_dtype(rng))})


def _squeeze(rng: random.Random) -> Case:
    features = tuple(rng.choice([1, 1, 2, 5]) for _ in range(rng.choice([0, 1, 2, 2, 3, 4])))
    return Case("Squeeze", {"dim": _dim(rng, len(features) + 1)}, {"x": batched(*features, dtype=_dtype(rng))})


GENERATORS = {"Slice": _slice, "Select": _select, "Pad": _pad, "Unsqueeze": _unsqueeze, "Squeeze": _squeeze}
