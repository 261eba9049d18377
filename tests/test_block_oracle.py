"""Every block type against torch: at least 20 valid parameter sets agree on shapes and parameter counts,
and every set we refuse is one torch refuses too. See tests/oracle.py for how a case is judged."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests
from netbuilder.blocks import BLOCKS
from netbuilder.blocks.spec import DATA
from tests.oracle import collect

GENERATORS = {}
for info in pkgutil.iter_modules(tests.__path__):
    if info.name.startswith("cases_"):
        GENERATORS.update(importlib.import_module(f"tests.{info.name}").GENERATORS)

# Blocks that accept every float tensor whatever their parameters: no parameter set can be invalid.
NEVER_INVALID = {
    "Identity",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Mish",
    "Sigmoid",
    "Tanh",
    "Hardswish",
    "ReLU6",
    "Hardsigmoid",
    "Softplus",
    "Softsign",
    "SELU",
    "CELU",
    "LogSigmoid",
    "Softshrink",
    "Hardshrink",
    "Tanhshrink",
    "Threshold",
    "Dropout",
    "StochasticDepth",
    "Parameter",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
}


def test_every_block_has_cases():
    """Data blocks are checked against their loaders in test_datasets.py; everything else is here."""
    expected = {name for name, spec in BLOCKS.items() if spec.role != DATA}
    assert expected - set(GENERATORS) == set(), "blocks without oracle cases"
    assert set(GENERATORS) - expected == set(), "cases for blocks that do not exist"


@pytest.mark.parametrize("block", sorted(GENERATORS))
def test_block_agrees_with_torch(block):
    valid, invalid = collect(block, GENERATORS[block])
    assert valid >= 20, f"only {valid} valid parameter sets in the tries allowed"
    if block not in NEVER_INVALID:
        assert invalid >= 1, "no invalid parameter set was generated: the refusal path is untested"
