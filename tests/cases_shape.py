"""Oracle cases for normalization, dropout and reshape blocks.

Inferred sizes are pinned to a wrong value only where torch itself notices: a normalization layer without
learned weights or running statistics never looks at its size, so pinning it wrong there is a refusal of ours
alone (tested in test_blocks_shape.py, not here). Likewise Dropout2d and InstanceNorm2d are only fed ranks that
torch either runs without a deprecation warning or refuses.
"""

from __future__ import annotations

import random

from netbuilder.blocks.tensor_type import batched
from tests.oracle import BATCH_SIZE, Case


def _sizes(rng: random.Random, count: int, low: int = 1, high: int = 8) -> tuple[int, ...]:
    return tuple(rng.randint(low, high) for _ in range(count))


def _wrong(rng: random.Random, right: int, high: int = 16) -> int:
    return rng.choice([v for v in range(1, high + 1) if v != right])


def _pin(rng: random.Random, right: int, may_be_wrong: bool) -> int:
    return _wrong(rng, right) if may_be_wrong and rng.random() < 0.15 else right


def _norm_options(rng: random.Random) -> dict:
    return {"eps": rng.choice([1e-5, 1e-3, 0.1]), "momentum": rng.choice([0.1, 0.01, 0.5, 1.0])}


def _batch_norm(block: str, ranks: tuple[int, ...], wrong_ranks: tuple[int, ...]):
    def generate(rng: random.Random) -> Case:
        rank = rng.choice(ranks if rng.random() < 0.85 else wrong_ranks)
        features = (rng.randint(1, 16), *_sizes(rng, rank - 2)) if rank >= 2 else ()
        affine, track = rng.random() < 0.7, rng.random() < 0.7
        right = features[0] if features else 1
        params = {
            "num_features": _pin(rng, right, affine or track),
            "affine": affine,
            "track_running_stats": track,
            **_norm_options(rng),
        }
        return Case(block, params, {"x": batched(*features)})

    return generate


def _layer_norm(rng: random.Random) -> Case:
    dims = rng.choice([1, 1, 2, 3])
    features = _sizes(rng, rng.choice([1, 2, 2, 3, 3, 4]), high=6)
    if rng.random() < 0.05:
        features = ()
    concrete = (BATCH_SIZE, *features)
    if len(features) >= dims:
        pinned = list(features[-dims:])
        if rng.random() < 0.2:
            i = rng.randrange(dims)
            pinned[i] = _wrong(rng, pinned[i], 6)
    else:  # normalising over the batch: any pinned shape torch can refuse (it would accept (3, ...) here)
        pinned = list(_sizes(rng, dims, high=6))
        while tuple(pinned) == concrete[-dims:]:
            pinned[0] += 1
    affine = rng.random() < 0.7
    params = {
        "dims": dims,
        "normalized_shape": pinned,
        "eps": rng.choice([1e-5, 1e-6]),
        "elementwise_affine": affine,
        "bias": rng.random() < 0.6,
    }
    return Case("LayerNorm", params, {"x": batched(*features)})


def _group_norm(rng: random.Random) -> Case:
    channels = rng.randint(1, 16)
    divisors = [g for g in range(1, channels + 1) if channels % g == 0]
    groups = rng.choice(divisors) if rng.random() < 0.8 else rng.randint(1, 8)
    rank = rng.choice([1, 2, 3, 3, 4, 4, 5])
    features = (channels, *_sizes(rng, rank - 2, high=5)) if rank >= 2 else ()
    affine = rng.random() < 0.7
    pinned = channels
    if rng.random() < 0.2:
        wrong = _wrong(rng, channels)
        if affine or wrong % groups:  # without weights torch never compares num_channels with the input
            pinned = wrong
    params = {"num_groups": groups, "num_channels": pinned, "affine": affine, "eps": rng.choice([1e-5, 1e-3])}
    return Case("GroupNorm", params, {"x": batched(*features)})


def _instance_norm_2d(rng: random.Random) -> Case:
    rank = 4 if rng.random() < 0.9 else rng.choice([2, 5])
    channels = rng.randint(1, 16)
    spatial = _sizes(rng, rank - 2, high=6) if rng.random() < 0.9 else (1,) * (rank - 2)
    affine, track = rng.random() < 0.5, rng.random() < 0.5
    params = {
        "num_features": _pin(rng, channels, affine or track),
        "affine": affine,
        "track_running_stats": track,
        **_norm_options(rng),
    }
    return Case("InstanceNorm2d", params, {"x": batched(channels, *spatial)})


def _probability(rng: random.Random) -> float:
    return rng.choice([0.0, 0.1, 0.5, 0.9, 1.0, round(rng.random(), 3)])


def _dropout(rng: random.Random) -> Case:
    features = _sizes(rng, rng.randint(1, 4), high=6)
    return Case("Dropout", {"p": _probability(rng)}, {"x": batched(*features)})


def _dropout_2d(rng: random.Random) -> Case:
    # Ranks 2, 3 and 5+ only warn in torch (deprecated) and are refused by us: see test_blocks_shape.py.
    # (N,) is refused by torch too, but only when 0 < p < 1: p = 0 and p = 1 return before the check.
    if rng.random() < 0.15:
        return Case("Dropout2d", {"p": rng.choice([0.1, 0.5, 0.9])}, {"x": batched()})
    return Case("Dropout2d", {"p": _probability(rng)}, {"x": batched(*_sizes(rng, 3, high=6))})


def _stochastic_depth(rng: random.Random) -> Case:
    features = _sizes(rng, rng.randint(0, 4), high=6)
    params = {"p": _probability(rng), "mode": rng.choice(["row", "batch"])}
    return Case("StochasticDepth", params, {"x": batched(*features)})


def _flatten(rng: random.Random) -> Case:
    features = _sizes(rng, rng.choice([0, 1, 2, 3, 3, 4]), high=5)
    start = rng.choice([1, 1, 1, 2, 2, 3, 4])
    end = rng.choice([-1, -1, -1, -1, -2, -3, 1, 2, 3, 4])
    return Case("Flatten", {"start_dim": start, "end_dim": end}, {"x": batched(*features)})


def _factorise(rng: random.Random, total: int, parts: int) -> list[int]:
    sizes = []
    for _ in range(parts - 1):
        divisors = [d for d in range(1, total + 1) if total % d == 0]
        d = rng.choice(divisors)
        sizes.append(d)
        total //= d
    sizes.append(total)
    rng.shuffle(sizes)
    return sizes


def _reshape(rng: random.Random) -> Case:
    features = _sizes(rng, rng.randint(1, 3), high=8)
    total = 1
    for d in features:
        total *= d
    shape = _factorise(rng, total, rng.randint(1, 4))
    if rng.random() < 0.4:
        shape[rng.randrange(len(shape))] = -1
    if rng.random() < 0.25:
        i = rng.randrange(len(shape))
        shape[i] = 2 if shape[i] == -1 else shape[i] + rng.randint(1, 3)
    return Case("Reshape", {"shape": shape}, {"x": batched(*features)})


def _permute(rng: random.Random) -> Case:
    rank = rng.randint(2, 5)
    features = _sizes(rng, rank - 1, high=6)
    length = rank if rng.random() < 0.85 else rng.choice([n for n in range(2, 7) if n != rank])
    rest = list(range(1, length))
    rng.shuffle(rest)
    return Case("Permute", {"dims": [0, *rest]}, {"x": batched(*features)})


_UPSAMPLE_RANKS = {"nearest": (3, 4, 5), "linear": (3,), "bilinear": (4,), "bicubic": (4,), "trilinear": (5,)}


def _upsample(rng: random.Random) -> Case:
    mode = rng.choice(list(_UPSAMPLE_RANKS))
    rank = rng.choice(_UPSAMPLE_RANKS[mode]) if rng.random() < 0.8 else rng.randint(2, 5)
    scale = rng.choice([1.0, 2.0, 2.0, 3.0, 0.5, round(rng.uniform(0.1, 3.0), 2)])
    high = 8 if rank < 5 else 4
    features = (rng.randint(1, 4), *_sizes(rng, rank - 2, high=high))
    params = {"scale_factor": scale, "mode": mode, "align_corners": rng.random() < 0.3}
    return Case("Upsample", params, {"x": batched(*features)})


GENERATORS = {
    "BatchNorm1d": _batch_norm("BatchNorm1d", (2, 3), (1, 4)),
    "BatchNorm2d": _batch_norm("BatchNorm2d", (4,), (2, 3, 5)),
    "LayerNorm": _layer_norm,
    "GroupNorm": _group_norm,
    "InstanceNorm2d": _instance_norm_2d,
    "Dropout": _dropout,
    "Dropout2d": _dropout_2d,
    "StochasticDepth": _stochastic_depth,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Permute": _permute,
    "Upsample": _upsample,
}
