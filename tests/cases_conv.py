"""Oracle cases for convolution and pooling blocks.

Inputs always have the block's own rank or one torch refuses too: one dimension fewer is an unbatched input to
torch, which we refuse on purpose (tested in test_blocks_conv.py), so it never appears here.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from netbuilder.blocks.conv import spread
from netbuilder.blocks.tensor_type import TensorType, batched
from tests.oracle import Case

# Ranks torch refuses for a block with this many spatial dimensions (never dims + 1: torch takes it unbatched).
_WRONG_RANKS = {1: (4, 5), 2: (2, 5), 3: (2, 3, 6)}
_MAX_SIZE = {1: 16, 2: 10, 3: 6}


def _spatial(rng: random.Random, dims: int, low: int = 1) -> tuple[int, ...]:
    return tuple(rng.randint(low, _MAX_SIZE[dims]) for _ in range(dims))


def _input(rng: random.Random, dims: int, channels: int, wrong_rank: float = 0.06) -> TensorType:
    """Mostly (N, channels, *spatial); sometimes a rank torch refuses."""
    if rng.random() < wrong_rank:
        rank = rng.choice(_WRONG_RANKS[dims])
        return batched(channels, *(rng.randint(1, 6) for _ in range(rank - 2)))
    return batched(channels, *_spatial(rng, dims))


def _pin(rng: random.Random, right: int) -> int:
    return right if rng.random() < 0.85 else rng.randint(1, 16)


def _per_dim(rng: random.Random, dims: int, draw: Callable[[], int]) -> int | tuple[int, ...]:
    """One value for every spatial dimension or, now and then in two or three, one per dimension."""
    if dims > 1 and rng.random() < 0.35:
        return tuple(draw() for _ in range(dims))
    return draw()


def _channels(rng: random.Random) -> tuple[int, int, int]:
    """(groups, in_channels, out_channels): divisible by groups, now and then not."""
    groups = rng.choice([1, 1, 1, 2, 3, 4, rng.choice([1152, 1536])])  # the last: EfficientNet's depthwise convs
    most = 4 if groups < 1000 else 2
    c_in, c_out = groups * rng.randint(1, most), groups * rng.randint(1, most)
    if rng.random() < 0.08:
        c_in = rng.randint(1, 16)
    if rng.random() < 0.08:
        c_out = rng.randint(1, 16)
    return groups, c_in, c_out


def _conv(dims: int):
    def generate(rng: random.Random) -> Case:
        groups, c_in, c_out = _channels(rng)
        params = {
            "in_channels": _pin(rng, c_in),
            "out_channels": c_out,
            "kernel_size": _per_dim(rng, dims, lambda: rng.randint(1, 5)),
            "stride": _per_dim(rng, dims, lambda: rng.choice([1, 1, 2, 3])),
            "padding": rng.choice(["same", "valid"])
            if rng.random() < 0.15
            else _per_dim(rng, dims, lambda: rng.choice([0, 0, 1, 2, 3])),
            "dilation": _per_dim(rng, dims, lambda: rng.choice([1, 1, 1, 2, 3])),
            "groups": groups,
            "bias": rng.random() < 0.7,
            "padding_mode": rng.choice(["zeros", "zeros", "zeros", "reflect", "replicate", "circular"]),
        }
        return Case(f"Conv{dims}d", params, {"x": _input(rng, dims, c_in)})

    return generate


def _transposed(dims: int):
    def generate(rng: random.Random) -> Case:
        while True:
            groups, c_in, c_out = _channels(rng)
            k = _per_dim(rng, dims, lambda: rng.randint(1, 5))
            s = _per_dim(rng, dims, lambda: rng.choice([1, 1, 2, 3]))
            pad = _per_dim(rng, dims, lambda: rng.choice([0, 0, 1, 2]))
            op = _per_dim(rng, dims, lambda: rng.choice([0, 0, 0, 1, 2]))
            d = _per_dim(rng, dims, lambda: rng.choice([1, 1, 2]))
            x = _input(rng, dims, c_in)
            windows = zip(*(spread(v, dims) for v in (k, s, pad, op, d)), strict=True)
            # strict=False: an input of a wrong rank has more or fewer sizes than the block has dimensions
            out = [
                (n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
                for n, (ki, si, pi, oi, di) in zip(x.features[1:], windows, strict=False)
            ]
            # An output of exactly 0 is an empty tensor torch sometimes returns: we refuse it on purpose.
            if 0 not in out:
                break
        params = {
            "in_channels": _pin(rng, c_in),
            "out_channels": c_out,
            "kernel_size": k,
            "stride": s,
            "padding": pad,
            "output_padding": op,
            "dilation": d,
            "groups": groups,
            "bias": rng.random() < 0.7,
        }
        return Case(f"ConvTranspose{dims}d", params, {"x": x})

    return generate


def _window_pool(kind: str, dims: int):
    def generate(rng: random.Random) -> Case:
        params = {
            "kernel_size": _per_dim(rng, dims, lambda: rng.randint(1, 5)),
            "stride": rng.choice([None, None, _per_dim(rng, dims, lambda: rng.choice([1, 2, 3]))]),
            "padding": _per_dim(rng, dims, lambda: rng.choice([0, 0, 0, 1, 2])),
            "ceil_mode": rng.random() < 0.4,
        }
        if kind == "Max":
            params["dilation"] = _per_dim(rng, dims, lambda: rng.choice([1, 1, 1, 2, 3]))
        else:
            params["count_include_pad"] = rng.random() < 0.5
        return Case(f"{kind}Pool{dims}d", params, {"x": _input(rng, dims, rng.randint(1, 8))})

    return generate


def _adaptive(kind: str, dims: int):
    wrong = {1: (1, 4, 5), 2: (2, 5)}[dims]

    def generate(rng: random.Random) -> Case:
        if dims == 1:
            output_size = rng.randint(1, 8)
        else:
            output_size = rng.choice([(rng.randint(1, 6),), (rng.randint(1, 6), rng.randint(1, 6))])
        channels = rng.randint(1, 8)
        # Torch's global average (output 1x1) is a plain mean over the last two dimensions, whatever the rank:
        # we refuse other ranks on purpose (tested in test_blocks_conv.py), so they never appear here.
        global_average = kind == "Avg" and dims == 2 and set(output_size) == {1}
        if rng.random() < 0.08 and not global_average:
            x = batched(*(rng.randint(1, 6) for _ in range(rng.choice(wrong) - 1)))
        else:
            x = batched(channels, *_spatial(rng, dims))
        return Case(f"Adaptive{kind}Pool{dims}d", {"output_size": output_size}, {"x": x})

    return generate


GENERATORS = {
    "Conv1d": _conv(1),
    "Conv2d": _conv(2),
    "Conv3d": _conv(3),
    "ConvTranspose1d": _transposed(1),
    "ConvTranspose2d": _transposed(2),
    "MaxPool1d": _window_pool("Max", 1),
    "MaxPool2d": _window_pool("Max", 2),
    "AvgPool1d": _window_pool("Avg", 1),
    "AvgPool2d": _window_pool("Avg", 2),
    "AdaptiveAvgPool1d": _adaptive("Avg", 1),
    "AdaptiveAvgPool2d": _adaptive("Avg", 2),
    "AdaptiveMaxPool2d": _adaptive("Max", 2),
}
