"""Slice, Select and Pad: the code a person reads, the values it computes, and what we refuse with which words
(beyond torch: the batch, an empty result)."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import SetOwnParam, ShapeError
from netbuilder.blocks.spec import ForwardContext, RuleContext
from netbuilder.blocks.tensor_type import BATCH, TensorType, batched
from netbuilder.codegen.render import forward_lines
from tests.cases_slicing import GENERATORS
from tests.oracle import BATCH_SIZE, ours


def resolved(block: str, **params) -> dict:
    spec = catalogue.get(block)
    return {**spec.defaults(), **{k: spec.param(k).validate(v) for k, v in params.items()}}


def run_rule(block: str, x: TensorType, **params) -> TensorType:
    return catalogue.get(block).rule(RuleContext(block, resolved(block, **params), {"x": x}))["y"]


def refusal(block: str, x: TensorType, **params) -> ShapeError:
    with pytest.raises(ShapeError) as caught:
        run_rule(block, x, **params)
    return caught.value


def code(block: str, p: dict) -> str:
    (line,) = forward_lines(catalogue.get(block), ForwardContext(p, "self.b", {"x": "x"}, "y", {}))
    return line


def run_code(block: str, p: dict, x: torch.Tensor) -> torch.Tensor:
    namespace = {"x": x, "nn": nn, "torch": torch}
    exec(code(block, p), namespace)
    return namespace["y"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"start": 10, "end": 20}, "y = x[:, 10:20]"),
        ({"dim": -1, "step": 2}, "y = x[..., ::2]"),
        ({"dim": 2, "start": 0, "step": 2}, "y = x[:, :, ::2]"),
        ({"dim": -2, "start": -3}, "y = x[..., -3:, :]"),
        ({"end": -1}, "y = x[:, :-1]"),
        ({"start": 1, "end": 7, "step": 3}, "y = x[:, 1:7:3]"),
    ],
)
def test_slice_code_is_python_slicing(params, expected):
    assert code("Slice", resolved("Slice", **params)) == expected


def test_select_and_pad_code_read_as_a_person_writes_them():
    assert code("Select", resolved("Select")) == "y = x[:, 0]"
    assert code("Select", resolved("Select", dim=-2, index=-1)) == "y = x[..., -1, :]"
    assert code("Pad", resolved("Pad", padding=(1, 1, 2, 2))) == "y = nn.functional.pad(x, (1, 1, 2, 2))"
    assert code("Pad", resolved("Pad", padding=(0, 1), value=-1)) == "y = nn.functional.pad(x, (0, 1), value=-1.0)"
    # the value only matters for constant padding: greyed out in the inspector, left out of the code
    reflect = resolved("Pad", mode="reflect", value=3.0)
    assert code("Pad", reflect) == "y = nn.functional.pad(x, (1, 1), mode='reflect')"
    assert not catalogue.get("Pad").param("value").relevant(reflect)


@pytest.mark.parametrize("block", ["Slice", "Select", "Pad"])
def test_generated_code_computes_what_python_indexing_and_torch_compute(block):
    """On random valid cases, the values (not only the shapes the oracle compares) equal a reference built
    with Python's slice objects, Tensor.select and F.pad called as torch documents them."""
    rng = random.Random(block)
    checked = 0
    while checked < 40:
        case = GENERATORS[block](rng)
        p, outputs, _ = ours(case)
        if outputs is None:
            continue
        x = torch.randn(tuple(BATCH_SIZE if d == BATCH else d for d in case.inputs["x"].shape))
        axis = p["dim"] % x.dim() if "dim" in p else None
        if block == "Slice":
            expected = x[(slice(None),) * axis + (slice(p["start"], p["end"], p["step"]),)]
        elif block == "Select":
            expected = x.select(axis, p["index"])
        else:
            value = p["value"] if p["mode"] == "constant" else None
            expected = nn.functional.pad(x, list(p["padding"]), mode=p["mode"], value=value)
        assert torch.equal(run_code(block, p, x), expected), (block, p)
        checked += 1


def test_chunk_and_split_are_slices():
    """What the importer turns x.chunk(2, dim=1) and torch.split(x, (2, 3), dim=-1) into: one Slice per piece."""
    x = torch.randn(3, 5, 6)
    first, second = x.chunk(2, dim=1)  # 3 and 2 rows
    assert torch.equal(run_code("Slice", resolved("Slice", dim=1, end=3), x), first)
    assert torch.equal(run_code("Slice", resolved("Slice", dim=1, start=3), x), second)
    left, right = torch.split(x, (2, 4), dim=-1)
    assert torch.equal(run_code("Slice", resolved("Slice", dim=-1, end=2), x), left)
    assert torch.equal(run_code("Slice", resolved("Slice", dim=-1, start=2, end=6), x), right)
    assert run_rule("Slice", batched(5, 6), dim=1, start=3) == batched(2, 6)


@pytest.mark.parametrize("block", ["Slice", "Select"])
def test_the_batch_is_never_indexed(block):
    assert torch.randn(3)[..., 0].shape == ()  # torch would take one sample's value
    err = refusal(block, batched(), dim=-1)
    assert err.message == f"{block} along dim -1 needs an input with more dimensions than (N,)"
    assert refusal(block, batched(4, 5), dim=3).hint == SetOwnParam("dim", 1)
    assert run_rule(block, batched(4, 5), dim=-2) in (batched(4, 5), batched(5))


def test_an_empty_slice_is_refused():
    """torch gives a tensor with no values, which nothing after it can use."""
    assert torch.randn(3, 4)[:, 5:2].shape == (3, 0)
    err = refusal("Slice", batched(4), start=5, end=2)
    assert err.message == "Slice [5:2] of dim 1 keeps nothing of (N, 4) (that dimension has 4)"
    assert err.param == "start"


def test_select_outside_the_dimension_is_refused_with_the_nearest_index():
    with pytest.raises(IndexError):
        torch.randn(3, 4)[:, 4]
    err = refusal("Select", batched(4, 2), index=4)
    assert err.message == "Select index 4 is outside dim 1 of (N, 4, 2), which has 4 (indices -4 to 3)"
    assert err.hint == SetOwnParam("index", 3)
    assert run_rule("Select", batched(4, 2), index=-4) == batched(2)


def test_pad_never_pads_the_batch():
    assert nn.functional.pad(torch.randn(3, 4), (1, 1, 1, 1)).shape == (5, 6)  # torch pads the batch too
    err = refusal("Pad", batched(4), padding=(1, 1, 1, 1))
    assert err.message == "Pad by (1, 1, 1, 1) pads the last 2 dimensions but (N, 4) has 1 after the batch"


def test_pad_refuses_what_torch_refuses_in_one_line():
    with pytest.raises(RuntimeError, match="Padding size should be less"):
        nn.functional.pad(torch.randn(3, 2, 4), (4, 0), mode="reflect")
    err = refusal("Pad", batched(2, 4), padding=(4, 0), mode="reflect")
    assert err.message == "Pad (reflect) by 4, 0 needs less than the size on each side, but dim 2 of (N, 2, 4) has 4"
    assert err.hint == SetOwnParam("mode", "replicate")
    with pytest.raises(NotImplementedError):
        nn.functional.pad(torch.randn(3, 2, 4, 4), (1, 1), mode="replicate")
    err = refusal("Pad", batched(2, 4, 4), padding=(1, 1), mode="replicate")
    assert err.message == (
        "Pad (replicate) of the last 1 dimension needs an input with 2 or 3 dimensions but receives (N, 2, 4, 4): "
        "constant mode pads any"
    )
    assert err.hint == SetOwnParam("mode", "constant")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        nn.functional.pad(torch.randn(3, 2, 4), (5, 0), mode="circular")
    assert (
        "wrap around dim 2 of (N, 2, 4) more than once"
        in refusal("Pad", batched(2, 4), padding=(5, 0), mode="circular").message
    )
    assert "crops more than" in refusal("Pad", batched(2, 4), padding=(-5, 3), mode="circular").message
    with pytest.raises(RuntimeError, match="length must be non-negative"):
        nn.functional.pad(torch.randn(3, 2, 4), (-3, -2))
    assert (
        refusal("Pad", batched(2, 4), padding=(-3, -2)).message
        == "Pad by -3, -2 leaves nothing of dim 2 of (N, 2, 4), which has 4"
    )


def test_negative_padding_crops_as_torch_does():
    assert run_rule("Pad", batched(3, 8, 8), padding=(-1, -1, 2, 0)) == batched(3, 10, 6)
    assert nn.functional.pad(torch.randn(2, 3, 8, 8), (-1, -1, 2, 0)).shape == (2, 3, 10, 6)
    with pytest.raises(ValueError, match="expected 2 or 4 or 6 or 8 or 10 integers"):
        catalogue.get("Pad").param("padding").validate((1, 1, 1))


def test_unsqueeze_and_squeeze_read_as_torch_calls_and_keep_the_batch():
    assert code("Unsqueeze", resolved("Unsqueeze", dim=-1)) == "y = x.unsqueeze(-1)"
    assert code("Squeeze", resolved("Squeeze")) == "y = x.squeeze(1)"
    assert run_rule("Unsqueeze", batched(4), dim=-1) == batched(4, 1)
    assert run_rule("Unsqueeze", batched(4), dim=-2) == batched(1, 4)
    assert run_rule("Squeeze", batched(4, 1), dim=-1) == batched(4)
    assert torch.randn(3, 4).unsqueeze(-3).shape == (1, 3, 4)  # torch would put it before the batch
    err = refusal("Unsqueeze", batched(4), dim=-3)
    assert err.message == "Unsqueeze at dim -3 of (N, 4): the new dimension can go at 1 to 2 (or -1 to -2)"
    assert err.hint == SetOwnParam("dim", -1)
    assert (
        refusal("Squeeze", batched(), dim=-1).message
        == "Squeeze along dim -1 needs an input with more dimensions than (N,)"
    )


def test_squeezing_a_dimension_that_is_not_1_warns_and_keeps_it():
    """torch leaves it as it is without a word; the block says so."""
    assert torch.randn(3, 4, 5).squeeze(1).shape == (3, 4, 5)
    spec = catalogue.get("Squeeze")
    ctx = RuleContext("Squeeze", resolved("Squeeze"), {"x": batched(4, 5)})
    assert spec.rule(ctx)["y"] == batched(4, 5)
    assert [w.message for w in ctx.warnings] == [
        "Squeeze of dim 1 leaves (N, 4, 5) as it is: that dimension has 4, not 1"
    ]
