"""Normalization, dropout and reshape blocks: where we are stricter than torch, and what a user reads.

The oracle (test_block_oracle.py with cases_shape.py) covers agreement with torch; these tests cover the
refusals torch does not make and the exact messages, hints and generated code a person sees.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import ParamError, SetOwnParam, ShapeError
from netbuilder.blocks.spec import ForwardContext, RuleContext
from netbuilder.blocks.tensor_type import LONG, TensorType, batched
from netbuilder.codegen.render import constructor, forward_lines


def check(block: str, x: TensorType, **params: Any) -> tuple[dict[str, Any], TensorType, list[str]]:
    """Run `block`'s rule on input `x`: (resolved params, output type, warning messages)."""
    spec = catalogue.get(block)
    p = {name: spec.param(name).validate(value) for name, value in {**spec.defaults(), **params}.items()}
    ctx = RuleContext(block, p, {"x": x})
    out = spec.rule(ctx)["y"]
    return ctx.p, out, [w.message for w in ctx.warnings]


def refusal(block: str, x: TensorType, **params: Any) -> ShapeError:
    with pytest.raises(ShapeError) as caught:
        check(block, x, **params)
    return caught.value


def code(block: str, x: TensorType, **params: Any) -> tuple[str | None, list[str]]:
    """The constructor text (None without a module) and forward lines for `block` on input `x`."""
    spec = catalogue.get(block)
    p, _, _ = check(block, x, **params)
    ctor = constructor(spec, p) if spec.module else None
    return ctor, forward_lines(spec, ForwardContext(p, "self.layer", {"x": "x"}, "x", {"x": x}))


def run_torch(block: str, x: TensorType, batch: int, **params: Any) -> torch.Tensor:
    """Execute the generated code on a random batch of `batch` samples."""
    ctor, lines = code(block, x, **params)
    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "x": torch.randn(batch, *x.features)}

    class Holder:
        layer = eval(ctor, namespace) if ctor else None

    namespace["self"] = Holder()
    exec("\n".join(lines), namespace)
    return namespace["x"]


# Stricter than torch ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", ["BatchNorm1d", "InstanceNorm2d"])
def test_pinned_size_is_checked_even_when_torch_never_looks_at_it(block):
    """Without weights or running statistics torch ignores num_features (InstanceNorm only warns); a pinned
    size is a promise about the input, so a wrong one is refused like everywhere else."""
    x = batched(8, 4, 4) if block == "InstanceNorm2d" else batched(8)
    err = refusal(block, x, num_features=16, affine=False, track_running_stats=False)
    what = "channels" if block == "InstanceNorm2d" else "features"
    assert err.message == f"{block} has num_features pinned to 16 but the input {x} has 8 {what}"
    assert err.hint == SetOwnParam("num_features", None)


def test_group_norm_pinned_channels_checked_without_affine():
    err = refusal("GroupNorm", batched(8, 4, 4), num_groups=2, num_channels=4, affine=False)
    assert err.param == "num_channels"
    assert err.hint == SetOwnParam("num_channels", None)


def test_instance_norm_refuses_three_dimensional_input():
    """torch would read (N, C, L) as one unbatched image (C, H, W) and normalise across the samples."""
    err = refusal("InstanceNorm2d", batched(4, 10))
    assert err.message == "InstanceNorm2d expects (N, channels, height, width) but receives (N, 4, 10)"


@pytest.mark.parametrize(
    ("features", "advice"),
    [
        ((16,), "; for (N, features) use Dropout"),
        ((4, 10), "; for (N, channels, length) use Dropout (torch will read 3-D input as one unbatched image)"),
        ((2, 3, 4, 4), ""),
    ],
)
def test_dropout2d_refuses_ranks_torch_deprecates(features, advice):
    """torch runs these with a deprecation warning (an error, or a new meaning, in a future release)."""
    x = batched(*features)
    err = refusal("Dropout2d", x)
    assert err.message == f"Dropout2d expects (N, channels, height, width) but receives {x}{advice}"


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout2d_refuses_a_vector_even_where_torch_skips_its_check(p):
    """torch raises for (N,) only when 0 < p < 1: p = 0 and p = 1 return before its rank check."""
    refusal("Dropout2d", batched(), p=p)


def test_layer_norm_never_normalises_over_the_batch():
    """nn.LayerNorm((32, 8)) runs on a batch of 32 samples of 8: the batch size is not part of a model."""
    err = refusal("LayerNorm", batched(8), dims=2, normalized_shape=(32, 8))
    assert err.message == "LayerNorm over the last 2 dimensions needs 2 dimensions after the batch but receives (N, 8)"
    assert err.hint == SetOwnParam("dims", 1)
    assert refusal("LayerNorm", batched()).hint is None


def test_layer_norm_pinned_shape_must_agree_with_dims():
    """torch accepts nn.LayerNorm((4, 4)) on (N, 3, 4, 4); here `dims` says how many dimensions, so a pinned
    shape of another length is refused, with the dims that would match it as the fix."""
    err = refusal("LayerNorm", batched(3, 4, 4), dims=1, normalized_shape=(4, 4))
    assert err.param == "dims"
    assert err.hint == SetOwnParam("dims", 2)
    assert err.message == "LayerNorm has normalized_shape pinned to (4, 4) but the last dimension of (N, 3, 4, 4) is 4"


@pytest.mark.parametrize("block", ["Dropout", "BatchNorm2d", "LayerNorm", "Upsample"])
def test_float_blocks_refuse_class_indices(block):
    x = batched(2, 4, 4, dtype=LONG)
    err = refusal(block, x)
    assert err.message == f"{block} expects floating-point values but receives integer indices (N, 2, 4, 4)"


@pytest.mark.parametrize("block", ["Flatten", "Reshape"])
def test_rearranging_keeps_integer_dtype(block):
    _, out, _ = check(block, batched(2, 4, dtype=LONG))
    assert out == batched(8, dtype=LONG)


# Parameters refused on their own --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dims", "problem"),
    [
        ((1, 0, 2), "dimension 0 is the batch and must stay first"),
        ((0, 1, 1), "expected each of 0 to 2 exactly once, got (0, 1, 1)"),
        ((0, 3, 1), "expected each of 0 to 2 exactly once, got (0, 3, 1)"),
    ],
)
def test_permute_dims_must_be_a_permutation_keeping_the_batch_first(dims, problem):
    with pytest.raises(ParamError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        catalogue.get("Permute").param("dims").validate(dims)


@pytest.mark.parametrize(("shape", "problem"), [((4, 0), "sizes must be positive"), ((-1, 4, -1), "at most one")])
def test_reshape_shape_refuses_zero_and_two_unknowns(shape, problem):
    with pytest.raises(ParamError, match=problem):
        catalogue.get("Reshape").param("shape").validate(shape)


def test_flatten_end_dim_refuses_the_batch():
    with pytest.raises(ParamError, match="dimension 0 is the batch"):
        catalogue.get("Flatten").param("end_dim").validate(0)


# What a user reads ----------------------------------------------------------------------------------------------


def test_batch_norm_points_to_the_other_batch_norm():
    assert refusal("BatchNorm2d", batched(64)).message == (
        "BatchNorm2d expects (N, channels, height, width) but receives (N, 64) (use BatchNorm1d for features or "
        "sequences)"
    )
    assert refusal("BatchNorm1d", batched(16, 8, 8)).message == (
        "BatchNorm1d expects (N, features) or (N, channels, length) but receives (N, 16, 8, 8) "
        "(use BatchNorm2d for images)"
    )


def test_a_batch_norm_fed_the_wrong_rank_offers_the_other_batch_norm_as_a_fix():
    from netbuilder.analysis import analyze
    from netbuilder.graph import Graph

    g = Graph()
    source = g.add_node("Input", params={"shape": (3, 8, 8)}).id
    conv = g.add_node("Conv2d", params={"out_channels": 16, "kernel_size": 3}).id
    bn = g.add_node("BatchNorm1d", label="bn_images", params={"eps": 1e-3}, position=(40.0, 50.0)).id
    relu = g.add_node("ReLU").id
    g.connect(source, "x", conv, "x")
    g.connect(conv, "y", bn, "x")
    g.connect(bn, "y", relu, "x")

    def node_problems():
        return [d for d in analyze(g).diagnostics if not d.training_only]

    (problem,) = node_problems()
    assert problem.node == bn and problem.fix.describe(g) == "replace bn_images (BatchNorm1d) with a BatchNorm2d"
    problem.fix.apply(g)
    node = g.nodes[bn]
    assert (node.block, node.label, node.position) == ("BatchNorm2d", "bn_images", (40.0, 50.0))
    assert node.params["eps"] == 1e-3, "the parameters both blocks have are kept"
    assert g.inputs_of(bn)["x"].src == conv and [e.dst for e in g.outputs_of(bn)] == [relu]
    analysis = analyze(g)
    assert node_problems() == [] and str(analysis.results[relu].outputs["y"]) == "(N, 16, 6, 6)"
    assert analysis.resolved_params(bn)["num_features"] == 16
    # and back: a BatchNorm2d fed features offers BatchNorm1d
    flat = g.add_node("Flatten").id
    g.disconnect(g.inputs_of(bn)["x"])
    g.connect(conv, "y", flat, "x")
    g.connect(flat, "y", bn, "x")
    (problem,) = node_problems()
    problem.fix.apply(g)
    assert g.nodes[bn].block == "BatchNorm1d" and node_problems() == []


def test_group_norm_suggests_a_group_count_that_divides_the_channels():
    err = refusal("GroupNorm", batched(6, 4, 4), num_groups=4)
    assert err.message == (
        "GroupNorm with 4 groups needs a channel count divisible by 4 but receives 6 channels (N, 6, 4, 4)"
    )
    assert err.hint == SetOwnParam("num_groups", 3)


def test_instance_norm_needs_more_than_one_pixel():
    err = refusal("InstanceNorm2d", batched(8, 1, 1))
    assert err.message == (
        "InstanceNorm2d needs more than one value per channel (height x width > 1) but receives (N, 8, 1, 1)"
    )


def test_reshape_size_mismatch_suggests_letting_the_first_size_follow():
    err = refusal("Reshape", batched(512), shape=(16, 4, 4))
    assert err.message == "Reshape to (N, 16, 4, 4) needs 256 values per sample but (N, 512) has 512"
    assert err.hint == SetOwnParam("shape", (-1, 4, 4))
    assert refusal("Reshape", batched(30), shape=(-1, 4)).message == (
        "Reshape to (N, -1, 4) needs a multiple of 4 values per sample but (N, 30) has 30"
    )


def test_flatten_messages():
    assert refusal("Flatten", batched()).message == (
        "Flatten from dim 1 needs an input with more than 1 dimensions but receives (N,)"
    )
    err = refusal("Flatten", batched(3, 4, 5), start_dim=2, end_dim=1)
    assert err.message == "Flatten from dim 2 to dim 1 of (N, 3, 4, 5): end_dim (dimension 1) comes before start_dim"
    assert err.hint == SetOwnParam("end_dim", -1)
    assert check("Flatten", batched(3, 4, 5), start_dim=2)[1] == batched(3, 20)


def test_permute_rank_mismatch():
    err = refusal("Permute", batched(16, 4, 4), dims=(0, 2, 1))
    assert (
        err.message
        == "Permute with dims (0, 2, 1) expects a tensor with 3 dimensions but receives (N, 16, 4, 4) with 4"
    )


def test_upsample_suggests_the_mode_for_the_shape():
    err = refusal("Upsample", batched(4, 10), mode="bilinear")
    assert err.message == (
        "Upsample (bilinear) expects (N, channels, height, width) but receives (N, 4, 10): "
        "'linear' is the mode for that shape"
    )
    assert err.hint == SetOwnParam("mode", "linear")
    assert refusal("Upsample", batched(64)).message == (
        "Upsample (nearest) expects (N, channels, length) or (N, channels, height, width) or "
        "(N, channels, depth, height, width) but receives (N, 64)"
    )


def test_upsample_that_shrinks_to_nothing():
    err = refusal("Upsample", batched(4, 1, 8), scale_factor=0.5)
    assert err.message == "Upsample by 0.5 shrinks (N, 4, 1, 8) to nothing (output (N, 4, 0, 4))"
    assert err.param == "scale_factor"


@pytest.mark.parametrize(
    ("block", "x", "params", "warning"),
    [
        ("LayerNorm", batched(8, 1), {}, "LayerNorm over 1 normalises a single value per sample"),
        ("GroupNorm", batched(4), {"num_groups": 4}, "GroupNorm with 4 groups on (N, 4) normalises a single value"),
        ("Dropout", batched(8), {"p": 1.0}, "Dropout with p = 1 zeroes every value while training"),
    ],
)
def test_useless_settings_warn(block, x, params, warning):
    _, out, warnings = check(block, x, **params)
    assert out == x
    assert len(warnings) == 1 and warnings[0].startswith(warning)


# Generated code ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "x", "params", "expected"),
    [
        ("BatchNorm2d", batched(16, 8, 8), {}, "nn.BatchNorm2d(16)"),
        ("LayerNorm", batched(10, 64), {}, "nn.LayerNorm(64)"),
        ("LayerNorm", batched(3, 4, 4), {"dims": 2, "bias": False}, "nn.LayerNorm((4, 4), bias=False)"),
        (
            "LayerNorm",
            batched(64),
            {"elementwise_affine": False, "bias": False},
            "nn.LayerNorm(64, elementwise_affine=False)",
        ),
        ("GroupNorm", batched(16, 8, 8), {"num_groups": 4}, "nn.GroupNorm(4, 16)"),
        ("InstanceNorm2d", batched(16, 8, 8), {"affine": True}, "nn.InstanceNorm2d(16, affine=True)"),
        (
            "Upsample",
            batched(4, 8, 8),
            {"mode": "bilinear"},
            "nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)",
        ),
        ("Upsample", batched(4, 8, 8), {"scale_factor": 1.5}, "nn.Upsample(scale_factor=1.5)"),
        ("Flatten", batched(16, 4, 4), {}, "nn.Flatten()"),
    ],
)
def test_constructor_text(block, x, params, expected):
    assert code(block, x, **params)[0] == expected


def test_parameter_counts_match_torch():
    for block, x, params, module in [
        ("LayerNorm", batched(3, 4, 4), {"dims": 2, "bias": False}, nn.LayerNorm((4, 4), bias=False)),
        ("LayerNorm", batched(3, 4, 4), {"dims": 3}, nn.LayerNorm((3, 4, 4))),
        ("BatchNorm1d", batched(12, 5), {"affine": False}, nn.BatchNorm1d(12, affine=False)),
        ("InstanceNorm2d", batched(6, 5, 5), {}, nn.InstanceNorm2d(6)),
    ]:
        p, out, _ = check(block, x, **params)
        count = catalogue.get(block).count_params(p, {"x": x}, {"y": out})
        assert count == sum(t.numel() for t in module.parameters()), block


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_reshape_code_keeps_samples_apart_for_any_batch(batch):
    """The batch is written as x.size(0), so each sample's values stay in that sample."""
    ctor, lines = code("Reshape", batched(256), shape=(16, -1, 4))
    assert ctor is None and lines == ["x = x.reshape(x.size(0), 16, -1, 4)"]
    assert tuple(run_torch("Reshape", batched(256), batch, shape=(16, -1, 4)).shape) == (batch, 16, 4, 4)


def test_permute_code():
    assert code("Permute", batched(16, 10))[1] == ["x = x.permute(0, 2, 1)"]
    assert tuple(run_torch("Permute", batched(3, 4, 5), 2, dims=(0, 3, 1, 2)).shape) == (2, 5, 3, 4)
