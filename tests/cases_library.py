"""Oracle cases for LibraryModule: torch and torchvision classes by name, with random JSON arguments and inputs.

The rule measures on the meta device; the oracle builds the generated constructor for real and runs it on the
CPU, so each case checks the one against the other. Sizes are near the right ones often enough for torch to
refuse some (a width that is not the input's, a window sequence of another length, a head size that does not
divide the features).
"""

from __future__ import annotations

import json
import random

from netbuilder.blocks.tensor_type import batched
from netbuilder.runtime.library_shapes import install
from tests.oracle import Case

install()  # the rule asks torch, as the netbuilder command and window have it do

SWIN = "torchvision.models.swin_transformer"


def _near(rng: random.Random, right: int) -> int:
    """`right` mostly, sometimes another size, so that torch refuses some cases."""
    return right if rng.random() < 0.75 else rng.randint(1, 2 * right + 1)


def _case(rng: random.Random, cls: str, args: dict, *features: int) -> Case:
    return Case("LibraryModule", {"cls": cls, "args": json.dumps(args)}, {"x": batched(*features)})


def _linear(rng: random.Random) -> Case:
    width = rng.randint(1, 12)
    args = {"in_features": _near(rng, width), "out_features": rng.randint(1, 12), "bias": rng.random() < 0.7}
    return _case(rng, "torch.nn.Linear", args, *[rng.randint(1, 5) for _ in range(rng.randint(0, 2))], width)


def _conv(rng: random.Random) -> Case:
    channels, size = rng.randint(1, 6), rng.randint(1, 9)
    args = {"in_channels": _near(rng, channels), "out_channels": rng.randint(1, 8), "kernel_size": rng.randint(1, 4)}
    if rng.random() < 0.5:
        args["padding"] = rng.randint(0, 2)
    return _case(rng, "torch.nn.Conv2d", args, channels, size, rng.randint(1, 9))


def _shifted_window_attention(rng: random.Random) -> Case:
    heads = rng.randint(1, 3)
    dim = heads * rng.randint(2, 6)
    window = [rng.randint(1, 4), rng.randint(1, 4)]
    args = {
        "dim": _near(rng, dim),
        "window_size": window,
        "shift_size": [rng.randint(0, w - 1) for w in window],
        "num_heads": heads,
    }
    if rng.random() < 0.3:
        args["qkv_bias"] = False
    version = rng.choice(["ShiftedWindowAttention", "ShiftedWindowAttentionV2"])
    return _case(rng, f"{SWIN}.{version}", args, rng.randint(1, 9), rng.randint(1, 9), dim)


def _patch_merging(rng: random.Random) -> Case:
    dim = rng.randint(1, 12)
    version = rng.choice(["PatchMerging", "PatchMergingV2"])
    return _case(rng, f"{SWIN}.{version}", {"dim": _near(rng, dim)}, rng.randint(1, 9), rng.randint(1, 9), dim)


def _relative_attention(rng: random.Random) -> Case:
    head_dim, heads, side = rng.randint(1, 4), rng.randint(1, 3), rng.randint(1, 4)
    args = {"feat_dim": head_dim * heads, "head_dim": _near(rng, head_dim), "max_seq_len": side * side}
    sequence = _near(rng, side * side)
    return _case(
        rng,
        "torchvision.models.maxvit.RelativePositionalMultiHeadAttention",
        args,
        rng.randint(1, 3),
        sequence,
        head_dim * heads,
    )


def _gelu(rng: random.Random) -> Case:
    return _case(rng, "torch.nn.GELU", {"approximate": rng.choice(["none", "tanh"])}, rng.randint(1, 9))


_KINDS = (_linear, _conv, _shifted_window_attention, _patch_merging, _relative_attention, _gelu)


def _library_module(rng: random.Random) -> Case:
    return rng.choice(_KINDS)(rng)


GENERATORS = {"LibraryModule": _library_module}
