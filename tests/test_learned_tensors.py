"""Learned tensors (Parameter) and Expand, as a ViT and a ConvNeXt use them: shapes, refusals, counts, and the
generated model computing what the hand-written torch module computes with the same state_dict (strict)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.analysis.summary import summary_rows
from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import ShapeError
from netbuilder.blocks.spec import RuleContext
from netbuilder.blocks.tensor_type import TensorType, batched
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph import Graph
from netbuilder.graph.definitions import Exposed
from netbuilder.graph.grouping import group
from netbuilder.project import Project, load_project, save_project
from netbuilder.runtime.build import build_model
from netbuilder.runtime.starting_weights import read_starting_weights, starting_state, write_starting_weights


def vit_head(g: Graph, tokens: int = 4, width: int = 8) -> dict[str, str]:
    """(N, tokens, width) -> class token before the patches -> + position embedding -> Flatten -> Linear."""
    data = g.add_node("Input", label="patches", params={"shape": (tokens, width)}).id
    token = g.add_node("Parameter", label="class_token", params={"shape": (1, 1, width)}).id
    expand = g.add_node("Expand", label="expand").id
    cat = g.add_node("Concat", label="cat").id
    pos = g.add_node("Parameter", label="pos_embedding", params={"shape": (1, tokens + 1, width), "init": "normal"}).id
    add = g.add_node("Add", label="add").id
    flat = g.add_node("Flatten", label="flatten").id
    head = g.add_node("Linear", label="head", params={"out_features": 3}).id
    g.connect(token, "y", expand, "x")
    g.connect(data, "x", expand, "like")
    g.connect(expand, "y", cat, "in1")
    g.connect(data, "x", cat, "in2")
    g.connect(cat, "y", add, "in1")
    g.connect(pos, "y", add, "in2")
    g.connect(add, "y", flat, "x")
    g.connect(flat, "y", head, "x")
    return {"data": data, "token": token, "expand": expand, "cat": cat, "pos": pos, "add": add, "head": head}


class ViTHead(nn.Module):
    """What a person writes for vit_head, as torchvision's VisionTransformer does."""

    def __init__(self, tokens: int = 4, width: int = 8) -> None:
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embedding = nn.Parameter(torch.empty(1, tokens + 1, width).normal_(std=0.02))
        self.head = nn.Linear((tokens + 1) * width, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self.class_token.expand(x.size(0), -1, -1), x], dim=1)
        return self.head((x + self.pos_embedding).flatten(1))


def test_a_vit_class_token_and_position_embedding_check_and_infer():
    g = Graph()
    ids = vit_head(g)
    analysis = analyze(g)
    assert [d.message for d in analysis.diagnostics if d.is_error and not d.training_only] == []
    assert str(analysis.output_type(ids["token"], "y")) == "(1, 1, 8)"
    assert str(analysis.output_type(ids["expand"], "y")) == "(N, 1, 8)"
    assert str(analysis.output_type(ids["cat"], "y")) == "(N, 5, 8)"
    assert str(analysis.output_type(ids["add"], "y")) == "(N, 5, 8)"
    assert analysis.results[ids["pos"]].params == 40
    assert sum(analysis.results[n].params for n in analysis.model_nodes) == 8 + 40 + 40 * 3 + 3


def test_the_generated_vit_head_reads_as_written_and_loads_the_original_weights_strictly():
    g = Graph()
    vit_head(g)
    code = generate_model(g, analyze(g))
    assert "self.class_token = nn.Parameter(torch.zeros(1, 1, 8))" in code.source
    assert "self.pos_embedding = nn.Parameter(torch.empty(1, 5, 8).normal_(std=0.02))" in code.source
    assert "        x = self.class_token.expand(patches.size(0), -1, -1)  # (N, 1, 8)" in code.source
    assert "        x = torch.cat([x, patches], dim=1)" in code.source
    assert "        x = x + self.pos_embedding" in code.source
    model = build_model(code)
    original = ViTHead()
    model.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(5, 4, 8)
    assert torch.equal(model(x), original(x))
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in original.parameters())
    assert {name for name, _ in model.named_parameters()} >= {"class_token", "pos_embedding"}


def test_a_layer_scale_broadcasts_over_the_batch_and_trains():
    """ConvNeXt: the branch times a (C, 1, 1) layer scale, plus the input."""
    g = Graph()
    data = g.add_node("Input", params={"shape": (6, 5, 5)}).id
    conv = g.add_node("Conv2d", params={"out_channels": 6, "kernel_size": 3, "padding": 1}).id
    scale = g.add_node(
        "Parameter", label="layer_scale", params={"shape": (6, 1, 1), "init": "constant", "value": 1e-6}
    ).id
    mul = g.add_node("Multiply").id
    add = g.add_node("Add").id
    g.connect(data, "x", conv, "x")
    g.connect(conv, "y", mul, "in1")
    g.connect(scale, "y", mul, "in2")
    g.connect(mul, "y", add, "in1")
    g.connect(data, "x", add, "in2")
    analysis = analyze(g)
    assert str(analysis.output_type(mul, "y")) == "(N, 6, 5, 5)"
    code = generate_model(g, analysis)
    assert "self.layer_scale = nn.Parameter(torch.full((6, 1, 1), 1e-06))" in code.source
    model = build_model(code)
    assert torch.equal(model.layer_scale, torch.full((6, 1, 1), 1e-6))
    x = torch.randn(2, 6, 5, 5)
    out = model(x)
    assert torch.allclose(out, x, atol=1e-4), "a layer scale of 1e-6 starts the block as the identity"
    out.sum().backward()
    assert model.layer_scale.grad is not None and model.layer_scale.grad.shape == (6, 1, 1)


@pytest.mark.parametrize(
    ("block", "learned", "message"),
    [
        (
            "Linear",
            (1, 1, 8),
            "Linear needs a tensor with the batch dimension but receives the learned tensor (1, 1, 8): Expand it "
            "to the batch first, or feed it to Add, Multiply or Concat",
        ),
        (
            "ReLU",
            (8,),
            "ReLU needs a tensor with the batch dimension but receives the learned tensor (8,): Expand it to the "
            "batch first, or feed it to Add, Multiply or Concat",
        ),
    ],
)
def test_a_layer_fed_a_learned_tensor_is_refused_in_one_line(block, learned, message):
    g = Graph()
    param = g.add_node("Parameter", params={"shape": learned}).id
    layer = g.add_node(block).id
    g.connect(param, "y", layer, "x")
    errors = [d.message for d in analyze(g).for_node(layer) if d.is_error]
    assert errors == [message]


def _rule(block: str, inputs: dict[str, TensorType], **params):
    spec = catalogue.get(block)
    p = {**spec.defaults(), **params}
    if spec.variadic:
        p[spec.variadic] = len(inputs)
    return spec.infer(RuleContext(block, p, inputs))


@pytest.mark.parametrize(
    ("learned", "message"),
    [
        (
            (1, 1, 4, 4),
            "Add cannot broadcast the learned tensor (1, 1, 4, 4) over the batch of (N, 4, 4): it has more "
            "dimensions; give it a first size of 1, or fewer dimensions",
        ),
        (
            (3, 4, 4),
            "Add cannot broadcast the learned tensor (3, 4, 4) over the batch of (N, 4, 4): its first size is 3; "
            "give it a first size of 1, or fewer dimensions",
        ),
    ],
)
def test_add_refuses_a_learned_tensor_that_would_not_be_the_same_for_every_sample(learned, message):
    """torch would run both at some batch sizes ((1, N, 4, 4); a batch of 3): a model that breaks, or mixes
    samples, when the batch changes."""
    with pytest.raises(ShapeError) as caught:
        _rule("Add", {"in1": batched(4, 4), "in2": TensorType(learned)})
    assert caught.value.message == message


def test_broadcasting_a_learned_tensor_aligns_on_the_right_as_torch_does():
    assert str(_rule("Multiply", {"in1": batched(768, 7, 7), "in2": TensorType((768, 1, 1))})["y"]) == "(N, 768, 7, 7)"
    assert str(_rule("Add", {"in1": TensorType((1, 197, 768)), "in2": batched(197, 768)})["y"]) == "(N, 197, 768)"
    assert str(_rule("Add", {"in1": TensorType((2, 1)), "in2": TensorType((5,))})["y"]) == "(2, 5)"


def test_expand_refuses_a_like_without_a_batch():
    with pytest.raises(ShapeError) as caught:
        _rule("Expand", {"x": TensorType((1, 4)), "like": TensorType((2, 4))})
    assert caught.value.message == (
        "Expand takes the batch size of 'like', but (2, 4) is a learned tensor without one: connect the batched "
        "tensor it is to join"
    )
    assert caught.value.port == "like"


def test_a_parameter_inside_a_composite_is_an_attribute_of_its_class():
    g = Graph()
    ids = vit_head(g)
    group(g, [ids["token"], ids["expand"], ids["cat"], ids["pos"], ids["add"]], "Embed", label="embed")
    analysis = analyze(g)
    code = generate_model(g, analysis)
    assert "        self.class_token = nn.Parameter(torch.zeros(1, 1, 8))" in code.source
    model = build_model(code)
    assert {"embed.class_token", "embed.pos_embedding"} <= set(model.state_dict())
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params == 8 + 40 + 123
    rows = {row.label: row for row in summary_rows(g, analysis)}
    assert rows["embed"].parameters == 48
    original = ViTHead()
    weights = {
        ("embed." + k if k in ("class_token", "pos_embedding") else k): v for k, v in original.state_dict().items()
    }
    model.load_state_dict(weights, strict=True)
    x = torch.randn(3, 4, 8)
    assert torch.equal(model(x), original(x))


def test_the_summary_and_the_size_count_the_learned_tensors_and_no_activations_for_them():
    g = Graph()
    ids = vit_head(g)
    analysis = analyze(g)
    assert analysis.total_params == analysis.size.parameters == 8 + 40 + 123
    rows = {row.label: row for row in summary_rows(g, analysis)}
    assert (rows["class_token"].shapes, rows["class_token"].parameters) == ("(1, 1, 8)", 8)
    assert ids["token"] in analysis.model_nodes and ids["pos"] in analysis.model_nodes
    assert not [d for d in analysis.diagnostics if d.code == "cut-off"]
    # Expand, Concat, Add, Flatten and Linear keep their outputs per sample; the learned tensors keep none
    assert analysis.size.activations_per_sample == 8 + 40 + 40 + 40 + 3


def test_a_learned_shape_that_differs_between_uses_of_a_block_is_an_argument_of_its_class():
    """A layer scale in a block used at 4 and at 6 channels: one class, its shape a constructor argument."""
    g = Graph()
    data = g.add_node("Input", params={"shape": (4, 3, 3)}).id
    conv = g.add_node("Conv2d", params={"out_channels": 6, "kernel_size": 1}).id
    scale = g.add_node("Parameter", label="layer_scale", params={"shape": (4, 1, 1), "init": "ones"}).id
    mul = g.add_node("Multiply").id
    g.connect(data, "x", mul, "in1")
    g.connect(scale, "y", mul, "in2")
    g.connect(mul, "y", conv, "x")
    first = group(g, [scale, mul], "Scale", label="scale1")
    definition = g.definitions["Scale"]
    definition.exposed = (Exposed("shape", ((scale, "shape"),)),)
    definition.forget_spec()
    g.nodes[first].params["shape"] = (4, 1, 1)
    second = g.add_node("Scale", label="scale2", params={"shape": (6, 1, 1)}).id
    g.connect(conv, "y", second, "in1")
    code = generate_model(g, analyze(g))
    assert "    def __init__(self, shape: tuple[int, ...] = (4, 1, 1)) -> None:" in code.source
    assert "        self.layer_scale = nn.Parameter(torch.ones(shape))" in code.source
    assert "        self.scale2 = Scale(shape=(6, 1, 1))" in code.source
    model = build_model(code)
    assert model.scale2.layer_scale.shape == (6, 1, 1)
    assert model(torch.randn(2, 4, 3, 3)).shape == (2, 6, 3, 3)


def test_starting_weights_keep_a_learned_tensor_under_its_node(tmp_path):
    """A Parameter's state_dict key is its attribute alone (no submodule before a dot): kept by node id and
    given back under its attribute, so an imported ViT's class token starts from the original."""
    g = Graph()
    ids = vit_head(g)
    code = generate_model(g, analyze(g))
    trained = build_model(code)
    path = tmp_path / "start.safetensors"
    assert write_starting_weights(trained.state_dict(), code.attributes, path) == 4
    assert read_starting_weights(path).keys() >= {ids["token"], ids["pos"], f"{ids['head']}.weight"}
    fresh = build_model(code)
    start = starting_state(path, g, code.attributes, fresh.state_dict())
    assert start.fresh == ()
    fresh.load_state_dict(start.tensors, strict=True)
    x = torch.randn(2, 4, 8)
    assert torch.equal(fresh(x), trained(x))


def test_a_project_with_learned_tensors_saves_opens_and_generates_the_same_code(tmp_path):
    project = Project.new("vit")
    ids = vit_head(project.graph)
    project.graph.set_param(ids["expand"], "sizes", (1, -1))
    path = save_project(project, tmp_path / "vit.nbproj")
    again = load_project(path)
    assert again.graph.nodes[ids["pos"]].params == project.graph.nodes[ids["pos"]].params
    assert again.graph.nodes[ids["expand"]].params["sizes"] == (1, -1)
    before = generate_model(project.graph, analyze(project.graph)).source
    assert generate_model(again.graph, analyze(again.graph)).source == before
    assert "x = self.class_token.expand(patches.size(0), 1, -1)" in before


def test_a_learned_tensor_that_joins_no_data_is_left_out_with_what_to_connect():
    g = Graph()
    data = g.add_node("Input", params={"shape": (8,)}).id
    head = g.add_node("Linear", params={"out_features": 2}).id
    g.connect(data, "x", head, "x")
    alone = g.add_node("Parameter", params={"shape": (8,)}).id
    analysis = analyze(g)
    assert [d.message for d in analysis.for_node(alone)] == [
        "this learned tensor joins no data: it is left out until it feeds Add, Multiply, Concat or Expand"
    ]
    assert alone not in analysis.model_nodes
    assert "nn.Parameter" not in generate_model(g, analysis).source
