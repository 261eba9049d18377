"""StochasticDepth computes what torchvision.ops.stochastic_depth does, with torch alone: the same values in
evaluation (its input), and in training the same draws from the same seed (the generated code makes them in
torchvision's order and shapes)."""

from __future__ import annotations

import pytest
import torch
from torchvision.ops import stochastic_depth

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph import Graph
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


def test_the_generated_code_needs_no_torchvision_and_reads_as_a_person_writes_it():
    _, source = drop_path_model((8, 5, 5), 0.2, "row")
    assert "torchvision" not in source
    assert "        x = input1\n        if self.training:\n" in source
    assert "            x = x * (x.new_empty(x.size(0), 1, 1, 1).bernoulli_(0.8) / 0.8)" in source
    _, identity = drop_path_model((8, 5, 5), 0.0, "row")
    assert "bernoulli_" not in identity


def test_p_of_one_is_warned_about_as_for_dropout():
    g = Graph()
    data = g.add_node("Input", params={"shape": (8,)}).id
    drop = g.add_node("StochasticDepth", params={"p": 1.0}).id
    g.connect(data, "x", drop, "x")
    messages = [d.message for d in analyze(g).for_node(drop)]
    assert messages == ["StochasticDepth with p = 1 zeroes every value while training: nothing reaches the next layer"]
