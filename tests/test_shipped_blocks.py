"""The composite blocks netbuilder ships (resources/blocks): the files are what make_blocks.py makes, and each,
loaded into a project and fed a plausible input, analyses without errors to torch's own module's output shape
and parameter count, and its generated code takes torch's module's weights and computes its outputs (torch is the
oracle), at its defaults and at other values of its parameters."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from torch import nn
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1
from torchvision.ops import SqueezeExcitation

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph import Graph
from netbuilder.project.block_library import SUFFIX, load_block, shipped_blocks

FOLDER = Path(__file__).resolve().parents[1] / "resources" / "blocks"


def _make_blocks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_blocks", FOLDER / "make_blocks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_files_are_what_make_blocks_makes() -> None:
    """Run `.venv/bin/python resources/blocks/make_blocks.py` after changing it (or the file format)."""
    made = _make_blocks().files()
    assert sorted(made) == sorted(p.name for p in FOLDER.glob("*" + SUFFIX))
    for name, data in made.items():
        assert (FOLDER / name).read_bytes() == data, f"{name} is stale: run resources/blocks/make_blocks.py"


def test_shipped_blocks_lists_each_file_by_name_with_its_description() -> None:
    blocks = shipped_blocks()
    assert [b.name for b in blocks] == sorted((p.stem for p in FOLDER.glob("*" + SUFFIX)), key=str.lower)
    assert all(b.path.parent == FOLDER and b.doc.endswith(".") and len(b.doc) > 60 for b in blocks)


def _downsample(inplanes: int, planes: int, stride: int) -> nn.Module:
    return nn.Sequential(conv1x1(inplanes, planes, stride), nn.BatchNorm2d(planes))


# (block, its parameters, input shape without the batch, torch's module with the same configuration)
CASES: list[tuple[str, dict[str, Any], tuple[int, ...], Callable[[], nn.Module]]] = [
    ("ResNetBasicBlock", {}, (64, 56, 56), lambda: BasicBlock(64, 64)),
    ("ResNetBasicBlock", {"planes": 256}, (256, 14, 14), lambda: BasicBlock(256, 256)),
    (
        "ResNetBasicBlockDown",
        {},
        (64, 56, 56),
        lambda: BasicBlock(64, 128, 2, downsample=_downsample(64, 128, 2)),
    ),
    (
        "ResNetBasicBlockDown",
        {"planes": 512, "stride": 1},
        (256, 14, 14),
        lambda: BasicBlock(256, 512, 1, downsample=_downsample(256, 512, 1)),
    ),
    ("ResNetBottleneck", {}, (256, 56, 56), lambda: Bottleneck(256, 64)),
    ("ResNetBottleneck", {"width": 128, "out_channels": 512}, (512, 28, 28), lambda: Bottleneck(512, 128)),
    (
        "ResNetBottleneckDown",
        {},
        (256, 56, 56),
        lambda: Bottleneck(256, 128, 2, downsample=_downsample(256, 512, 2)),
    ),
    (
        "ResNetBottleneckDown",
        {"width": 64, "out_channels": 256, "stride": 1},
        (64, 56, 56),
        lambda: Bottleneck(64, 64, 1, downsample=_downsample(64, 256, 1)),  # resnet50's layer1[0]
    ),
    ("SqueezeExcitation", {}, (64, 32, 32), lambda: SqueezeExcitation(64, 16)),
    ("SqueezeExcitation", {"channels": 96, "squeeze_channels": 24}, (96, 7, 7), lambda: SqueezeExcitation(96, 24)),
    ("InvertedResidual", {}, (32, 28, 28), lambda: InvertedResidual(32, 32, 1, 6)),
    ("InvertedResidual", {"hidden": 384, "out_channels": 64}, (64, 14, 14), lambda: InvertedResidual(64, 64, 1, 6)),
    ("InvertedResidualNoSkip", {}, (16, 56, 56), lambda: InvertedResidual(16, 24, 2, 6)),
    (
        "InvertedResidualNoSkip",
        {"hidden": 576, "out_channels": 160, "stride": 1},
        (96, 14, 14),
        lambda: InvertedResidual(96, 160, 1, 6),
    ),
    (
        "EncoderLayer",
        {},
        (10, 64),
        lambda: nn.TransformerEncoderLayer(64, 4, 256, 0.1, batch_first=True),
    ),
    (
        "EncoderLayer",
        {"d_model": 128, "nhead": 8, "dim_feedforward": 512, "dropout": 0.0},
        (7, 128),
        lambda: nn.TransformerEncoderLayer(128, 8, 512, 0.0, batch_first=True),
    ),
]


@pytest.mark.parametrize(
    ("block", "params", "shape", "module"),
    CASES,
    ids=[f"{c[0]}-{'-'.join(map(str, c[1].values())) or 'defaults'}" for c in CASES],
)
def test_a_shipped_block_analyses_like_torchs_module(
    block: str, params: dict[str, Any], shape: tuple[int, ...], module: Callable[[], nn.Module]
) -> None:
    graph = Graph()
    assert load_block(graph, FOLDER / (block + SUFFIX)) == block
    source = graph.add_node("Input", params={"shape": shape})
    instance = graph.add_node(block, params=params)
    graph.connect(source.id, "x", instance.id, "x")

    analysis = analyze(graph)

    assert not analysis.problems(training=False), [d.message for d in analysis.problems(training=False)]
    oracle = module().eval()
    with torch.no_grad():
        expected = oracle(torch.zeros(2, *shape)).shape
    result = analysis.results[instance.id]
    assert result.outputs["y"].shape[1:] == tuple(expected[1:])
    assert result.params == sum(p.numel() for p in oracle.parameters())


def test_each_shipped_block_is_checked_here() -> None:
    assert {c[0] for c in CASES} == {b.name for b in shipped_blocks()}


@pytest.mark.parametrize(
    ("block", "params", "shape", "module"),
    CASES,
    ids=[f"{c[0]}-{'-'.join(map(str, c[1].values())) or 'defaults'}" for c in CASES],
)
def test_the_generated_code_of_a_shipped_block_takes_torchs_weights_and_computes_the_same(
    block: str, params: dict[str, Any], shape: tuple[int, ...], module: Callable[[], nn.Module]
) -> None:
    """Each block's layers are named as torch's module names them (nested blocks numbered as its
    nn.Sequentials), so the generated class loads its state_dict with strict=True and gives its outputs."""
    graph = Graph()
    load_block(graph, FOLDER / (block + SUFFIX))
    source = graph.add_node("Input", params={"shape": shape})
    instance = graph.add_node(block, label="block", params=params)
    graph.connect(source.id, "x", instance.id, "x")
    code = generate_model(graph, analyze(graph), name="Net")
    namespace: dict[str, Any] = {}
    exec(compile(code.source, "model.py", "exec"), namespace)  # the code netbuilder itself wrote
    generated = getattr(namespace[code.class_name](), code.attributes[instance.id]).eval()
    torch.manual_seed(0)
    oracle = module().eval()
    for buffer in oracle.buffers():  # running statistics that are not the defaults, so a mix-up shows
        if buffer.dtype.is_floating_point:
            buffer.uniform_(0.5, 1.5)
    generated.load_state_dict(oracle.state_dict(), strict=True)
    x = torch.randn(3, *shape)
    with torch.no_grad():
        torch.testing.assert_close(generated(x), oracle(x), atol=1e-5, rtol=1e-5)
