"""Catalogue-wide promises: generated code omits only what equals torch's default, every block explains
itself, and MAC estimates equal what torch's own FLOP counter measures."""

from __future__ import annotations

import inspect
import random

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from netbuilder.blocks import BLOCKS, CATEGORIES
from netbuilder.codegen.render import constructor
from tests.oracle import BATCH_SIZE, check_case, concrete, ours
from tests.test_block_oracle import GENERATORS


def torch_class(path: str):
    target = torch
    for part in path.split(".")[1:] if path.startswith("torch.") else ["nn", *path.split(".")[1:]]:
        target = getattr(target, part)
    return target


@pytest.mark.parametrize("name", sorted(n for n, s in BLOCKS.items() if s.module and not s.module.library))
def test_omitted_keywords_equal_torch_defaults(name):
    """A parameter left at our default is not written, so our default must be torch's (or be always written).
    A LibraryModule writes exactly the arguments its JSON holds."""
    spec = BLOCKS[name]
    code = spec.module
    grouped = {m for members in code.grouped.values() for m in members}
    for param in spec.params:
        if param.name in code.positional or param.name in code.omit or param.name in code.always:
            continue
        keyword = code.rename.get(param.name, param.name)
        if param.name in grouped:
            group = next(g for g, members in code.grouped.items() if param.name in members)
            default = torch_default(code.cls, group)[code.grouped[group].index(param.name)]
        else:
            default = torch_default(code.cls, keyword)
        if callable(default):  # torch takes a function where we write its name (activation=F.relu)
            default = default.__name__
        assert default == param.default, f"{name}.{param.name}: ours {param.default!r}, torch {default!r}"


# Defaults torch reads from **kwargs, invisible to inspect (documented in torch.nn.RNN).
KWARGS_DEFAULTS = {("nn.RNN", "nonlinearity"): "tanh"}


def torch_default(path: str, keyword: str):
    """The default of `keyword` in the constructor of `path`, looking through *args/**kwargs wrappers."""
    if (path, keyword) in KWARGS_DEFAULTS:
        return KWARGS_DEFAULTS[(path, keyword)]
    for cls in torch_class(path).__mro__:
        parameters = inspect.signature(cls.__init__).parameters
        if keyword in parameters:
            return parameters[keyword].default
    raise AssertionError(f"{keyword} is not an argument of {path}")


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_every_block_explains_itself(name):
    spec = BLOCKS[name]
    assert spec.category in CATEGORIES
    assert len(spec.doc.strip().splitlines()) >= 2, "a tooltip headline and a when-to-use line"
    assert spec.summary.endswith(".")
    for param in spec.params:
        assert param.help.endswith("."), f"{name}.{param.name} needs a one-line help"
        assert param.validate(param.default) == param.default


# Blocks whose work torch's FLOP counter sees (matrix multiplies and convolutions).
COUNTED = ["Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"]


@pytest.mark.parametrize("name", [n for n in COUNTED if n in GENERATORS])
def test_macs_equal_torch_flop_counter(name):
    rng = random.Random(name)
    checked = 0
    for _ in range(200):
        case = GENERATORS[name](rng)
        if not check_case(case).valid:
            continue
        p, outputs, _ = ours(case)
        spec = BLOCKS[name]
        module = eval(constructor(spec, p), {"torch": torch, "nn": torch.nn})
        x = concrete(case.inputs["x"], case.high, torch.Generator().manual_seed(0))
        with FlopCounterMode(display=False) as counter:
            module(x)
        assert counter.get_total_flops() == 2 * BATCH_SIZE * spec.count_macs(p, case.inputs, outputs), case
        checked += 1
        if checked == 10:
            break
    assert checked == 10


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n, s in BLOCKS.items()
        if s.category == "Activation" and s.params and not s.module.derived and not s.module.omit
    ),
)
def test_activation_code_computes_what_torch_computes_with_the_same_arguments(name):
    """An activation's parameters carry torch's names, so torch's class built with them by keyword is the
    reference: an argument written in the wrong position or under the wrong name changes the values (a
    Threshold with threshold and value swapped), which the shape oracle cannot see."""
    spec = BLOCKS[name]
    rng = random.Random(name)
    checked = 0
    for _ in range(200):
        case = GENERATORS[name](rng)
        if not check_case(case).valid:
            continue
        p, _, _ = ours(case)
        ours_module = eval(constructor(spec, p), {"torch": torch, "nn": torch.nn}).eval()
        reference = torch_class(spec.module.cls)(**p).eval()  # eval: RReLU's slope is random in training
        x = 3 * concrete(case.inputs["x"], case.high, torch.Generator().manual_seed(checked))
        torch.testing.assert_close(ours_module(x), reference(x), rtol=0, atol=0, msg=f"{name} {p}")
        checked += 1
        if checked == 10:
            break
    assert checked == 10
