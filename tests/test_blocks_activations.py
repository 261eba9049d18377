"""Activations: where we are stricter than torch, the messages a user reads, the code they get, and torch's
activation modules imported as these blocks.

The oracle (test_block_oracle.py with cases_core.py) covers agreement with torch, and test_block_specs.py the
values the generated code computes; these tests cover the refusals torch does not make and the exact words.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import ParamError
from netbuilder.blocks.tensor_type import TensorType, batched
from netbuilder.codegen.render import constructor
from netbuilder.graph.definitions import expanded
from tests.oracle import Case, ours
from tests.test_fx_import import _assert_round_trip


def output(block: str, x: TensorType, **params: Any) -> TensorType:
    _, outputs, message = ours(Case(block, params, {"x": x}))
    assert outputs is not None, message
    return outputs["y"]


def refusal(block: str, x: TensorType, **params: Any) -> str:
    _, outputs, message = ours(Case(block, params, {"x": x}))
    assert outputs is None, f"{block} accepted {x} with {params}"
    return message


def code(block: str, **params: Any) -> str:
    p, outputs, message = ours(Case(block, params, {"x": batched(4, 6, 6)}))
    assert outputs is not None, message
    return constructor(catalogue.get(block), p)


def test_glu_halves_its_dimension():
    assert output("GLU", batched(4, 6)).shape == ("N", 4, 3)
    assert output("GLU", batched(4, 6), dim=1).shape == ("N", 2, 6)


def test_glu_names_the_odd_size_it_cannot_halve():
    assert refusal("GLU", batched(4, 5)) == "GLU halves dim -1 of (N, 4, 5), whose size 5 is odd"
    with pytest.raises(RuntimeError, match="must be even"):
        nn.GLU()(torch.randn(2, 4, 5))


def test_glu_refuses_to_halve_the_batch():
    """Torch would halve the batch (dim 0): two samples gated by two others."""
    with pytest.raises(ParamError, match="dimension 0 is the batch"):
        catalogue.get("GLU").param("dim").validate(0)
    assert refusal("GLU", batched(), dim=-1) == "GLU over dim -1 of (N,) would mix samples across the batch"


def test_softmax2d_refuses_a_batch_of_sequences_that_torch_takes_for_one_image():
    """Torch reads a 3-D tensor as one image (C, H, W) and normalises over its first dimension, our batch."""
    assert refusal("Softmax2d", batched(4, 5)) == "Softmax2d expects images (N, C, H, W) but receives (N, 4, 5)"
    y = nn.Softmax2d()(torch.randn(3, 4, 5))
    torch.testing.assert_close(y.sum(dim=0), torch.ones(4, 5))
    assert output("Softmax2d", batched(4, 5, 6)).shape == ("N", 4, 5, 6)


def test_bounds_in_the_wrong_order_are_refused_with_both_values():
    x = batched(8)
    assert refusal("Hardtanh", x, min_val=1.0, max_val=1.0) == "Hardtanh needs max_val (1.0) greater than min_val (1.0)"
    assert (
        refusal("RReLU", x, lower=0.5, upper=0.25)
        == "RReLU draws slopes from [lower, upper], but upper (0.25) is below lower (0.5)"
    )
    assert output("RReLU", x, lower=0.25, upper=0.25) == x


@pytest.mark.parametrize(("block", "param"), [("CELU", "alpha"), ("Softplus", "beta")])
def test_a_parameter_the_block_divides_by_cannot_be_zero(block, param):
    with pytest.raises(ParamError, match="0 is not allowed: the block divides by it"):
        catalogue.get(block).param(param).validate(0.0)
    assert catalogue.get(block).param(param).validate(-0.5) == -0.5  # torch takes negative values


def test_zero_is_refused_where_torch_fails_or_returns_no_numbers():
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        nn.CELU(0.0)(torch.randn(4))
    assert not nn.Softplus(beta=0.0)(torch.randn(4)).isfinite().any()


def test_shrinkage_refuses_a_negative_band():
    for block in ("Softshrink", "Hardshrink"):
        with pytest.raises(ParamError, match="at least 0"):
            catalogue.get(block).param("lambd").validate(-0.5)
    with pytest.raises(RuntimeError, match="lambda must be in range"):
        nn.Softshrink(-0.5)(torch.randn(4))


def test_generated_code_reads_as_written_by_hand():
    assert code("Hardsigmoid") == "nn.Hardsigmoid()"
    assert code("Hardtanh", min_val=0.0, max_val=6.0) == "nn.Hardtanh(min_val=0.0, max_val=6.0)"
    assert code("Threshold", threshold=0.1, value=20.0) == "nn.Threshold(0.1, 20.0)"
    assert code("Threshold") == "nn.Threshold(0.0, 0.0)"  # torch has no defaults for these
    assert code("RReLU") == "nn.RReLU()"
    assert code("Softmin") == "nn.Softmin(dim=1)"  # torch's default, an implicit dim, is deprecated
    assert code("GLU") == "nn.GLU()"
    assert code("GLU", dim=2) == "nn.GLU(dim=2)"
    assert code("Softplus", beta=2.0) == "nn.Softplus(beta=2.0)"


def test_torch_activation_modules_import_as_their_blocks_with_their_arguments():
    """The importer finds a block by its module class and reads the arguments back by their torch names."""
    layers = [
        nn.Hardsigmoid(),
        nn.Hardtanh(-0.5, 2.0),
        nn.RReLU(0.1, 0.2),
        nn.SELU(),
        nn.CELU(alpha=0.5),
        nn.Softplus(beta=2.0, threshold=5.0),
        nn.Softsign(),
        nn.LogSigmoid(),
        nn.Softshrink(0.1),
        nn.Hardshrink(0.05),
        nn.Tanhshrink(),
        nn.Threshold(-0.2, 3.0),
        nn.GLU(dim=1),
        nn.Softmin(dim=1),
    ]
    result = _assert_round_trip(nn.Sequential(nn.Linear(8, 16), *layers), (2, 8))
    blocks = {node.block for _, node in expanded(result.project.graph)}
    assert blocks >= {type(layer).__name__ for layer in layers}
    _assert_round_trip(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Softmax2d()), (2, 1, 6, 6))
