"""Oracle cases for the token-sequence blocks: PositionalEmbedding and TokenPool.

Invalid cases are ones torch refuses too: sequences longer than max_length, a pinned embedding_dim that is not
the input's, token indices whose length is not the sequence's. Refusals stricter than torch (integer values, other
ranks, float tokens, where torch would broadcast or convert silently) are tested in test_text_blocks.py.
"""

from __future__ import annotations

import random

from netbuilder.blocks.tensor_type import FLOAT, LONG, TensorType
from tests.oracle import Case


def _positional_embedding(rng: random.Random) -> Case:
    width, steps = rng.randint(2, 12), rng.randint(1, 10)
    rows = rng.randint(steps, steps + 8) if rng.random() < 0.85 else rng.randint(1, steps)
    # a wrong pinned size of 1, or an input of 1 feature, would broadcast in torch: both sides above 1
    pinned = width if rng.random() < 0.85 else rng.choice([v for v in range(2, 14) if v != width])
    return Case(
        "PositionalEmbedding",
        {"max_length": rows, "embedding_dim": pinned},
        {"x": TensorType(("N", steps, width), FLOAT)},
    )


def _token_pool(rng: random.Random) -> Case:
    width, steps = rng.randint(1, 12), rng.randint(1, 10)
    mode = rng.choice(["mean", "max", "last"])
    token_steps = steps
    # other lengths (both above 1, so nothing broadcasts) for mean and max, where torch refuses them; 'last'
    # indexes the sequence by position, which a shorter row of tokens would not make fail
    if mode != "last" and steps > 1 and rng.random() < 0.15:
        token_steps = rng.choice([v for v in range(2, 12) if v != steps])
    return Case(
        "TokenPool",
        {"mode": mode, "padding_index": rng.choice([0, 0, 0, 1, 2])},
        {"x": TensorType(("N", steps, width), FLOAT), "tokens": TensorType(("N", token_steps), LONG)},
        high=rng.randint(1, 4),  # a small vocabulary: padding is frequent, whole rows of it too
    )


GENERATORS = {"PositionalEmbedding": _positional_embedding, "TokenPool": _token_pool}
