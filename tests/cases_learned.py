"""Oracle cases for learned tensors (Parameter) and Expand, which gives one the batch.

Expand is never fed an unbatched `like` here, nor sizes beyond its tensor's rank: torch would take the first
size of such a `like` as the batch, and more sizes as new leading dimensions, both of which we refuse (tested in
test_learned_tensors.py). A first size of 3 is never drawn for a refused tensor: it is the oracle's batch size.
"""

from __future__ import annotations

import random

from netbuilder.blocks.tensor_type import TensorType, batched
from tests.cases_core import random_features
from tests.oracle import Case


def _parameter(rng: random.Random) -> Case:
    shape = tuple(rng.randint(1, 8) for _ in range(rng.randint(1, 6)))
    init = rng.choice(["zeros", "ones", "constant", "normal", "uniform"])
    params = {
        "shape": shape,
        "init": init,
        "value": rng.choice([1e-6, 0.5, -2.0]),
        "std": rng.choice([0.02, 1.0]),
        "bound": rng.choice([0.1, 3.0]),
    }
    return Case("Parameter", params, {})


def _expand(rng: random.Random) -> Case:
    dims = random_features(rng, ranks=(0, 1, 2, 3), size=(1, 4))
    first = 1 if rng.random() < 0.85 else rng.choice([2, 4])
    x = batched(*dims) if rng.random() < 0.2 else TensorType((first, *dims))
    sizes = None
    if rng.random() < 0.6 and dims:
        sizes = tuple(rng.choice([-1, d, d if d != 1 else rng.randint(1, 5), rng.randint(1, 5)]) for d in dims)
        if rng.random() < 0.1:
            sizes = sizes[1:] or None
    like = batched(*random_features(rng, ranks=(1, 2, 3)))
    return Case("Expand", {"sizes": sizes}, {"x": x, "like": like})


GENERATORS = {
    "Parameter": _parameter,
    "Expand": _expand,
}
