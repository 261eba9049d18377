"""StochasticDepth computes what torchvision.ops.stochastic_depth does, with torch alone: the same values in
evaluation (its input), and in training the same draws from the same seed (the generated code makes them in
torchvision's order and shapes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torchvision.ops import stochastic_depth

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph import Graph
from netbuilder.graph.definitions import Exposed
from netbuilder.graph.grouping import group
from netbuilder.runtime.build import build_model


def drop_path_model(shape: tuple[int, ...], p: float, mode: str) -> tuple[torch.nn.Module, str]:
    g = Graph()
    data = g.add_node("Input", params={"shape": shape}).id
    drop = g.add_node("StochasticDepth", params={"p": p, "mode": mode}).id
    g.connect(data, "x", drop, "x")
    code = generate_model(g, analyze(g))
    return build_model(code), code.source


CASES = [
    ((8, 5, 5), 0.2, "row"),
    ((8, 5, 5), 0.2, "batch"),
    ((6,), 0.5, "row"),
    ((4, 3), 0.7, "row"),  # 1 - 0.7 is 0.30000000000000004: the very float torchvision keeps
    ((3, 2, 2, 2), 0.0125, "row"),
    ((8, 5, 5), 1.0, "row"),
    ((8, 5, 5), 1.0, "batch"),
    ((8, 5, 5), 0.0, "row"),
]


@pytest.mark.parametrize(("shape", "p", "mode"), CASES)
def test_training_draws_equal_torchvision_from_the_same_seed(shape, p, mode):
    model, _ = drop_path_model(shape, p, mode)
    model.train()
    x = torch.randn(64, *shape)
    for seed in range(5):
        torch.manual_seed(seed)
        ours = model(x)
        torch.manual_seed(seed)
        theirs = stochastic_depth(x, p, mode, training=True)
        assert torch.equal(ours, theirs)
        torch.manual_seed(seed)
        model(x)
        after_ours = torch.rand(4)
        torch.manual_seed(seed)
        stochastic_depth(x, p, mode, training=True)
        assert torch.equal(after_ours, torch.rand(4)), "the generated code draws more or fewer numbers"


@pytest.mark.parametrize(("shape", "p", "mode"), CASES)
def test_evaluation_passes_the_input_through(shape, p, mode):
    model, _ = drop_path_model(shape, p, mode)
    model.eval()
    x = torch.randn(16, *shape)
    assert torch.equal(model(x), stochastic_depth(x, p, mode, training=False))
    assert torch.equal(model(x), x)


def test_row_mode_zeroes_whole_samples_and_scales_the_rest():
    model, _ = drop_path_model((4, 3, 3), 0.5, "row")
    model.train()
    torch.manual_seed(0)
    y = model(torch.ones(200, 4, 3, 3))
    per_sample = y.flatten(1)
    assert set(per_sample.unique().tolist()) == {0.0, 2.0}
    assert bool((per_sample.min(1).values == per_sample.max(1).values).all()), "a sample is kept or dropped whole"
    assert 60 < int((per_sample[:, 0] == 0).sum()) < 140


def test_the_generated_code_needs_no_torchvision_and_reads_as_a_person_writes_it(tmp_path):
    _, source = drop_path_model((8, 5, 5), 0.2, "row")
    assert "import torchvision" not in source and "from torchvision" not in source
    assert source.count("class StochasticDepth(nn.Module):") == 1
    assert "        self.stochastic_depth1 = StochasticDepth(0.2, 'row')" in source
    assert "        return self.stochastic_depth1(input1)  # (N, 8, 5, 5)" in source
    (tmp_path / "model.py").write_text(source)
    ruff = Path(sys.executable).parent / "ruff"
    checked = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "120", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout


def test_blocks_that_differ_only_in_p_share_one_class_with_p_an_argument():
    """EfficientNet's blocks each drop with their own p: one block class builds them all."""
    g = Graph()
    data = g.add_node("Input", params={"shape": (4, 3, 3)}).id
    conv = g.add_node("Conv2d", params={"out_channels": 4, "kernel_size": 1}).id
    drop = g.add_node("StochasticDepth", label="stochastic_depth", params={"p": 0.0}).id
    add = g.add_node("Add").id
    g.connect(data, "x", conv, "x")
    g.connect(conv, "y", drop, "x")
    g.connect(drop, "y", add, "in1")
    g.connect(data, "x", add, "in2")
    previous = group(g, [conv, drop, add], "Block", label="block1")
    definition = g.definitions["Block"]
    definition.exposed = (Exposed("p", ((drop, "p"),)),)
    definition.forget_spec()
    g.nodes[previous].params["p"] = 0.0
    inlet = definition.inlets[0].name
    for number, p in ((2, 0.1), (3, 0.2)):
        block = g.add_node("Block", label=f"block{number}", params={"p": p}).id
        g.connect(previous, definition.outlets[0].name, block, inlet)
        previous = block
    code = generate_model(g, analyze(g))
    assert code.source.count("class Block(nn.Module):") == 1
    assert "        self.stochastic_depth = StochasticDepth(p, 'row')" in code.source
    assert "        self.block3 = Block(p=0.2)" in code.source
    model = build_model(code)
    assert [model.get_submodule(f"block{i}.stochastic_depth").p for i in (1, 2, 3)] == [0.0, 0.1, 0.2]


def test_p_of_one_is_warned_about_as_for_dropout():
    g = Graph()
    data = g.add_node("Input", params={"shape": (8,)}).id
    drop = g.add_node("StochasticDepth", params={"p": 1.0}).id
    g.connect(data, "x", drop, "x")
    messages = [d.message for d in analyze(g).for_node(drop)]
    assert messages == ["StochasticDepth with p = 1 zeroes every value while training: nothing reaches the next layer"]
