"""Oracle cases for the sequence blocks: Embedding, RNN, LSTM, GRU, MultiheadAttention, TransformerEncoderLayer.

Invalid cases are ones torch refuses too: pinned sizes that do not match, heads that do not divide the
embedding, padding rows outside the table, float indices, integer sequences, ranks torch rejects (1-D and
4-D), and attention's token indices of another length than the sequence's. Unbatched 2-D inputs, which we
refuse and torch accepts, are tested in test_blocks_sequence.py.
"""

from __future__ import annotations

import random

from netbuilder.blocks.tensor_type import FLOAT, LONG, TensorType
from tests.oracle import Case


def _pinned(rng: random.Random, right: int, top: int = 16) -> int:
    """The right size most of the time, sometimes another one (which torch must refuse)."""
    if rng.random() < 0.85:
        return right
    return rng.choice([v for v in range(1, top + 1) if v != right])


def _embedding(rng: random.Random) -> Case:
    rows = rng.randint(1, 20)
    padding = None
    roll = rng.random()
    if roll < 0.3:
        padding = rng.randint(-rows, rows - 1)
    elif roll < 0.38:
        padding = rng.choice([rows, rows + rng.randint(1, 5), -rows - rng.randint(1, 5)])
    dims = tuple(rng.randint(1, 8) for _ in range(rng.choice([0, 1, 1, 1, 2, 3])))
    dtype = FLOAT if rng.random() < 0.08 else LONG
    return Case(
        "Embedding",
        {"num_embeddings": rows, "embedding_dim": rng.randint(1, 12), "padding_idx": padding},
        {"x": TensorType(("N", *dims), dtype)},
        high=rows,
    )


def _sequence_input(rng: random.Random, width: int) -> TensorType:
    """(N, L, width) mostly; sometimes integers, or a rank torch refuses ((N,) or (N, a, L, width))."""
    steps = rng.randint(1, 8)
    roll = rng.random()
    if roll < 0.05:
        return TensorType(("N",), FLOAT)
    if roll < 0.1:
        return TensorType(("N", rng.randint(1, 3), steps, width), FLOAT)
    if roll < 0.14:
        return TensorType(("N", steps, width), LONG)
    return TensorType(("N", steps, width), FLOAT)


def _recurrent(block: str):
    def generate(rng: random.Random) -> Case:
        width = rng.randint(1, 10)
        layers = rng.randint(1, 3)
        params = {
            "input_size": _pinned(rng, width, 12),
            "hidden_size": rng.randint(1, 12),
            "output": rng.choice(["last", "sequence"]),
            "num_layers": layers,
            "bias": rng.random() < 0.7,
            "dropout": rng.choice([0.0, 0.0, round(rng.random(), 2)]),
            "bidirectional": rng.random() < 0.4,
        }
        if block == "RNN":
            params["nonlinearity"] = rng.choice(["tanh", "relu"])
        return Case(block, params, {"x": _sequence_input(rng, width)})

    return generate


def _heads(rng: random.Random, width: int) -> int:
    """A divisor of `width` mostly; sometimes any count up to 8 (often not dividing)."""
    if rng.random() < 0.8:
        return rng.choice([h for h in range(1, min(width, 8) + 1) if width % h == 0])
    return rng.randint(1, 8)


def _with_tokens(rng: random.Random, x: TensorType) -> dict[str, TensorType]:
    """The inputs of an attention block: `x`, and a third of the time the token indices that mask its padding, of
    the sequence's length mostly, sometimes of another (torch refuses a mask of the wrong shape)."""
    inputs = {"x": x}
    if x.rank == 3 and rng.random() < 0.35:
        steps = int(x.shape[1]) if rng.random() < 0.85 else rng.choice([v for v in range(1, 10) if v != x.shape[1]])
        inputs["tokens"] = TensorType(("N", steps), LONG)
    return inputs


def _multihead_attention(rng: random.Random) -> Case:
    width = rng.randint(1, 16)
    params = {
        "embed_dim": _pinned(rng, width),
        "num_heads": _heads(rng, width),
        "dropout": rng.choice([0.0, 0.0, round(rng.random() * 0.5, 2)]),
        "bias": rng.random() < 0.7,
    }
    return Case("MultiheadAttention", params, _with_tokens(rng, _sequence_input(rng, width)), high=3)


def _encoder_layer(rng: random.Random) -> Case:
    width = rng.randint(1, 16)
    params = {
        "d_model": _pinned(rng, width),
        "nhead": _heads(rng, width),
        "dim_feedforward": rng.randint(1, 32),
        "dropout": rng.choice([0.0, 0.1, round(rng.random() * 0.5, 2)]),
        "activation": rng.choice(["relu", "gelu"]),
        "layer_norm_eps": rng.choice([1e-5, 1e-6, 1e-3]),
        "norm_first": rng.random() < 0.4,
        "bias": rng.random() < 0.7,
    }
    return Case("TransformerEncoderLayer", params, _with_tokens(rng, _sequence_input(rng, width)), high=3)


GENERATORS = {
    "Embedding": _embedding,
    "RNN": _recurrent("RNN"),
    "LSTM": _recurrent("LSTM"),
    "GRU": _recurrent("GRU"),
    "MultiheadAttention": _multihead_attention,
    "TransformerEncoderLayer": _encoder_layer,
}
