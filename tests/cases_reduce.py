"""Oracle cases for the reductions: Mean, Max, Min and Sum over one or more dimensions after the batch.

A negative dimension that lands on the batch is our refusal alone (torch reduces the batch away), and a
dimension number given twice is refused when it is set: both are tested in test_blocks_reduce.py, not here.
"""

from __future__ import annotations

import random

from netbuilder.blocks.tensor_type import FLOAT, LONG, batched
from tests.oracle import Case


def _dims(rng: random.Random, rank: int) -> list[int]:
    """One to three distinct dimension numbers, some negative, some beyond this rank or naming one dimension
    twice (1 and -2 of a rank-3 tensor), so that torch refuses them."""
    reach = max(rank, 2)
    candidates = [*range(1, reach + 1), *range(-reach + 1, 0)]
    chosen = rng.sample(candidates, rng.randint(1, min(3, len(candidates))))
    # A negative number that would land on the batch becomes the positive one (beyond the rank or not).
    return list(dict.fromkeys(d if d > 0 or d + rank > 0 else -d for d in chosen))


def _reduction(block: str):
    def generate(rng: random.Random) -> Case:
        features = tuple(rng.randint(1, 6) for _ in range(rng.choice([0, 1, 2, 2, 3, 3, 4])))
        dims = _dims(rng, len(features) + 1)
        dtype = LONG if rng.random() < 0.1 else FLOAT
        return Case(block, {"dim": dims, "keepdim": rng.random() < 0.3}, {"x": batched(*features, dtype=dtype)})

    return generate


GENERATORS = {block: _reduction(block) for block in ("Mean", "Max", "Min", "Sum")}
