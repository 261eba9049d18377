"""Mean, Max, Min and Sum: what we refuse beyond torch, the messages and fixes a user sees, the code they read,
and older project files whose Mean averages over one dimension given as a single number."""

from __future__ import annotations

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import ParamError, SetOwnParam, ShapeError
from netbuilder.blocks.spec import ForwardContext, RuleContext
from netbuilder.blocks.tensor_type import LONG, TensorType, batched
from netbuilder.codegen.model_code import generate_model
from netbuilder.codegen.render import forward_lines
from netbuilder.graph import Graph
from netbuilder.project.project import Project
from netbuilder.project.project_file import project_from_dict, project_to_dict
from netbuilder.runtime.build import build_model

REDUCTIONS = ("Mean", "Max", "Min", "Sum")


def run_rule(block: str, x: TensorType, **params) -> TensorType:
    spec = catalogue.get(block)
    p = {**spec.defaults(), **{k: spec.param(k).validate(v) for k, v in params.items()}}
    return spec.rule(RuleContext(block, p, {"x": x}))["y"]


def refusal(block: str, x: TensorType, **params) -> ShapeError:
    with pytest.raises(ShapeError) as caught:
        run_rule(block, x, **params)
    return caught.value


def code(block: str, **params) -> str:
    spec = catalogue.get(block)
    p = {**spec.defaults(), **{k: spec.param(k).validate(v) for k, v in params.items()}}
    (line,) = forward_lines(spec, ForwardContext(p, "self.r", {"x": "x"}, "y", {}))
    return line


def test_code_reads_as_a_person_writes_it():
    assert code("Mean", dim=(2, 3)) == "y = x.mean(dim=(2, 3))"
    assert code("Max", dim=2, keepdim=True) == "y = x.amax(dim=2, keepdim=True)"
    assert code("Min", dim=(-1,)) == "y = x.amin(dim=-1)"
    assert code("Sum", dim=(1, -1)) == "y = x.sum(dim=(1, -1))"


@pytest.mark.parametrize("block", REDUCTIONS)
def test_several_dimensions_go_at_once(block):
    assert run_rule(block, batched(8, 5, 6), dim=(2, 3)) == batched(8)
    assert run_rule(block, batched(8, 5, 6), dim=(-1, 1), keepdim=True) == batched(1, 5, 1)


def test_max_and_min_are_the_values_of_torch_max_and_min():
    """Max is what an imported x.max(dim).values computes, dimension after dimension."""
    x = torch.randn(3, 4, 5, 6)
    namespace = {"x": x}
    exec(code("Max", dim=(1, 3)), namespace)
    assert torch.equal(namespace["y"], x.max(dim=3).values.max(dim=1).values)
    exec(code("Min", dim=-2, keepdim=True), namespace)
    assert torch.equal(namespace["y"], x.min(dim=-2, keepdim=True).values)


@pytest.mark.parametrize("block", REDUCTIONS)
def test_the_batch_is_never_reduced(block):
    """torch.mean(x, dim=-1) of a (N,) tensor averages the batch away; the block refuses it, naming the fix."""
    assert torch.randn(3).mean(dim=-1).shape == ()
    err = refusal(block, batched(), dim=-1)
    assert err.message == f"{block} over dim -1 needs an input with more dimensions than (N,)"
    assert err.hint is None
    assert refusal(block, batched(4, 5), dim=3).hint == SetOwnParam("dim", (1,))
    err = refusal(block, batched(4, 5), dim=(2, -3))
    assert err.message == f"{block} over dims (2, -3) needs an input with more dimensions than (N, 4, 5)"
    assert err.hint == SetOwnParam("dim", (2,))


def test_a_dimension_given_twice_is_refused():
    spec = catalogue.get("Sum")
    with pytest.raises(ParamError, match="dimension 2 is given twice"):
        spec.param("dim").validate((2, 2))
    with pytest.raises(ParamError, match="dimension 0 is the batch"):
        spec.param("dim").validate((0, 1))
    with pytest.raises(ParamError, match="at least one dimension"):
        spec.param("dim").validate(())
    # 1 and -2 are the same dimension of (N, 4, 5): torch refuses, and so do we, keeping the first
    with pytest.raises(RuntimeError, match="appears multiple times"):
        torch.randn(3, 4, 5).sum(dim=(1, -2))
    err = refusal("Sum", batched(4, 5), dim=(1, -2), keepdim=True)
    assert err.message == "Sum over dims (1, -2) names dimension 1 of (N, 4, 5) twice"
    assert err.hint == SetOwnParam("dim", (1,))


def test_integers_are_summed_but_not_averaged():
    assert run_rule("Sum", batched(4, 5, dtype=LONG), dim=1) == batched(5, dtype=LONG)
    assert run_rule("Max", batched(4, 5, dtype=LONG), dim=1) == batched(5, dtype=LONG)
    assert "floating-point" in refusal("Mean", batched(4, 5, dtype=LONG), dim=1).message


def test_an_older_file_averaging_over_one_dimension_loads_and_generates_the_same_code():
    """Files from before several dimensions were allowed hold `"dim": 1`; they read as (1,) and their code
    is still `x.mean(dim=1)`."""
    graph = Graph()
    data = graph.add_node("Input", label="tokens", params={"shape": (7, 4)}).id
    mean = graph.add_node("Mean", label="mean", params={"dim": (1,)}).id
    graph.connect(data, "x", mean, "x")
    saved = project_to_dict(Project("old", graph))
    (node,) = (n for n in saved["graph"]["nodes"] if n["block"] == "Mean")
    node["params"]["dim"] = 1
    loaded = project_from_dict(saved).graph
    assert loaded.nodes[mean].params["dim"] == (1,)
    source = generate_model(loaded, analyze(loaded)).source
    assert "return tokens.mean(dim=1)  # (N, 4)" in source
    model = build_model(generate_model(loaded, analyze(loaded)))
    assert model(torch.randn(3, 7, 4)).shape == (3, 4)
