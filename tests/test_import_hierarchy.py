"""An import keeps the module hierarchy: submodules become composite instances, alike ones share a definition,
and the regenerated model is the original's, state_dict keys and all (torch is the oracle)."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph.definitions import expanded
from netbuilder.importers import import_module
from netbuilder.runtime.build import load_module


def _regenerate(original: nn.Module, shape: tuple[int, ...]) -> tuple[nn.Module, str, object]:
    result = import_module(original, shape, type(original).__name__)
    assert result.unmapped == ()
    graph = result.project.graph
    analysis = analyze(graph)
    assert not analysis.has_errors(training=False)
    code = generate_model(graph, analysis, name=result.project.name)
    return getattr(load_module(code.source), code.class_name)(), code.source, result


def _assert_same(original: nn.Module, regenerated: nn.Module, shape: tuple[int, ...]) -> None:
    original.eval()
    regenerated.load_state_dict(original.state_dict(), strict=True)  # the original's own keys, every one
    regenerated.eval()
    x = torch.randn(3, *shape[1:])
    with torch.no_grad():
        torch.testing.assert_close(regenerated(x), original(x), atol=1e-5, rtol=1e-5)


def test_resnet18_keeps_its_stages_and_blocks_and_loads_torchvisions_state_dict() -> None:
    torchvision = pytest.importorskip("torchvision")
    original = torchvision.models.resnet18(weights=None)
    regenerated, source, result = _regenerate(original, (1, 3, 64, 64))
    graph = result.project.graph
    assert len(graph.nodes) <= 15
    assert [graph.nodes[n].block for n in graph.instances("Layer2")] == ["Layer2"] * 3  # layer2..4 share one
    # one class for the plain blocks and one for those with a downsample branch, each written once
    assert re.findall(r"^class (\w+)\(nn.Module\)", source, re.MULTILINE) == ["BasicBlock", "BasicBlock2", "ResNet"]
    assert graph.by_label("layer1").params == {"out_channels": 64, "repeat": 2}  # two alike blocks: Repeat x 2
    assert "self.layer1 = nn.Sequential(*(BasicBlock() for _ in range(2)))" in source
    assert sum(node.block == "Conv2d" for _, node in expanded(graph)) == 20
    _assert_same(original, regenerated, (1, 3, 64, 64))


class EncoderLayer(nn.Module):
    """A hand-written pre-norm transformer layer: attention and an MLP, each with a residual."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, 2, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class EncoderClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(5, 8)
        self.layers = nn.Sequential(*[EncoderLayer(8) for _ in range(3)])
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(self.embed(x)).mean(dim=1))


def test_a_transformer_encoders_layers_become_one_repeated_definition() -> None:
    original = EncoderClassifier()
    regenerated, source, result = _regenerate(original, (2, 6, 5))
    graph = result.project.graph
    layers = graph.by_label("layers")
    assert (layers.block, layers.params["repeat"]) == ("EncoderLayer", 3)
    assert [d.name for d in graph.definitions] == ["Mlp", "EncoderLayer"]  # the MLP: an nn.Sequential inside it
    assert source.count("class EncoderLayer(nn.Module)") == 1
    assert "self.layers = nn.Sequential(*(EncoderLayer() for _ in range(3)))" in source
    _assert_same(original, regenerated, (2, 6, 5))


class Stage(nn.Module):
    """Blocks whose widths differ: one definition, the width an exposed parameter."""

    def __init__(self, width: int, out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(width, out)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc(x))


class Stages(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = Stage(4, 8)
        self.b = Stage(8, 16)
        self.c = Stage(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(self.b(self.a(x)))


def test_alike_submodules_of_different_widths_share_a_definition_with_the_width_exposed() -> None:
    original = Stages()
    regenerated, source, result = _regenerate(original, (2, 4))
    graph = result.project.graph
    (definition,) = graph.definitions
    assert definition.name == "Stage"
    assert [e.name for e in definition.exposed] == ["out_features"]
    assert [graph.by_label(label).params["out_features"] for label in "abc"] == [8, 16, 16]
    assert source.count("class Stage(nn.Module)") == 1
    _assert_same(original, regenerated, (2, 4))


def test_an_import_is_laid_out_in_the_direction_asked_inside_its_blocks_too() -> None:
    from netbuilder.analysis.layout import Orientation

    result = import_module(Stages(), (2, 4), "stages", orientation=Orientation.TOP_TO_BOTTOM)
    graph = result.project.graph
    for inside in [graph, *(d.graph for d in graph.definitions)]:
        assert len({node.position[0] for node in inside.nodes.values()}) == 1  # a chain: one column
        assert len({node.position[1] for node in inside.nodes.values()}) == len(inside.nodes)


class Permute(nn.Module):
    """A submodule class named like a catalogue block (torchvision's ConvNeXt and Swin have one)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))


class TwoPermutes(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = Permute(6)
        self.b = Permute(6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x))


def test_a_submodule_class_named_like_a_block_imports_under_a_free_name() -> None:
    regenerated, _, result = _regenerate(TwoPermutes(), (1, 6))
    assert {d.name for d in result.project.graph.definitions} == {"Permute2"}
    original = TwoPermutes()
    _assert_same(original, regenerated, (1, 6))


class NamedStage(nn.Sequential):
    """A container whose children are named as no attribute can be (torchvision's RegNet: block1-0)."""

    def __init__(self) -> None:
        super().__init__()
        for i in range(2):
            self.add_module(f"block1-{i}", nn.Sequential(nn.Linear(4, 4), nn.ReLU()))


class Staged(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stage = NamedStage()
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stage(x))


def test_children_named_as_no_attribute_can_be_keep_their_names_and_keys() -> None:
    original = Staged()
    regenerated, source, _ = _regenerate(original, (1, 4))
    assert "nn.Sequential(OrderedDict([('block1-0', " in source.replace("\n", "").replace("    ", "")
    assert "from collections import OrderedDict" in source
    _assert_same(original, regenerated, (1, 4))
