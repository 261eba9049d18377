"""Makes the composite blocks netbuilder ships (the .nbblock files beside this script) with the graph API, so they
are reproducible: `.venv/bin/python resources/blocks/make_blocks.py` rewrites them, and
tests/test_shipped_blocks.py checks that the files are what this script makes, that each analyses without
errors on a plausible input, and that each has as many parameters as torch's own module.

Each is the module of torchvision or torch it is named after, layer for layer. Where torch switches a branch
on by a constructor argument (a ResNet block's projection shortcut exists only when the stride or the width
changes; an inverted residual's skip only when they do not), there are two blocks, one with the branch and one
without, since a graph cannot make a branch optional.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from pathlib import Path

from netbuilder.graph import Graph
from netbuilder.graph.definitions import Definition, Exposed, Inlet, Outlet
from netbuilder.project.block_library import SUFFIX, block_to_dict
from netbuilder.project.project_file import format_json

FOLDER = Path(__file__).resolve().parent
STEP_X, BRANCH_Y = 220.0, 150.0  # wider and taller than a node (analysis/footprint.py), so none overlap


class _Inside:
    """A definition's inside being drawn: nodes placed left to right on a main row, branches below it."""

    def __init__(self, top: Graph, name: str) -> None:
        self.graph = Graph(top.definitions, owner=name)
        self.column = 0

    def add(self, block: str, label: str, *, below: int | None = None, **params: object) -> str:
        """A node at the next column of the main row, or on the branch row under column `below` (from 0)."""
        if below is None:
            self.column += 1
        position = (STEP_X * (self.column - 1), 0.0) if below is None else (STEP_X * below, BRANCH_Y)
        return self.graph.add_node(block, label=label, params=params, position=position).id

    def chain(self, *node_ids: str) -> None:
        for a, b in itertools.pairwise(node_ids):
            self.graph.connect(a, "y", b, "in1" if self.graph.nodes[b].block in ("Add", "Multiply") else "x")


def _define(
    top: Graph, name: str, inside: _Inside, inlets: list[Inlet], out: str, exposed: list[Exposed], doc: str
) -> None:
    top.add_definition(Definition(name, inside.graph, tuple(inlets), (Outlet("y", out, "y"),), tuple(exposed), doc))


def _conv_bn(inside: _Inside, n: int, kernel: int, channels: int, **conv: object) -> tuple[str, str]:
    """A convolution without bias (the norm after it has one) and its BatchNorm2d, as torchvision's blocks."""
    padding = kernel // 2
    conv_id = inside.add(
        "Conv2d", f"conv{n}", out_channels=channels, kernel_size=kernel, padding=padding, bias=False, **conv
    )
    bn_id = inside.add("BatchNorm2d", f"bn{n}")
    inside.chain(conv_id, bn_id)
    return conv_id, bn_id


def resnet_basic_block(top: Graph, *, downsample: bool) -> str:
    """torchvision.models.resnet.BasicBlock: two 3x3 convolutions with a skip; with `downsample`, the skip is a
    1x1 convolution and a norm (the first block of a stage, which changes the width and the stride)."""
    name = "ResNetBasicBlockDown" if downsample else "ResNetBasicBlock"
    inside = _Inside(top, name)
    stride = {"stride": 2} if downsample else {}
    conv1, bn1 = _conv_bn(inside, 1, 3, 64 if not downsample else 128, **stride)
    relu = inside.add("ReLU", "relu1")
    conv2, bn2 = _conv_bn(inside, 2, 3, 64 if not downsample else 128)
    add = inside.add("Add", "add")
    out = inside.add("ReLU", "relu2")
    inside.chain(bn1, relu, conv2)
    inside.chain(bn2, add, out)
    planes = [(conv1, "out_channels"), (conv2, "out_channels")]
    skip = (add, "in2")
    exposed = []
    if downsample:
        down = inside.add("Conv2d", "downsample_conv", below=1, out_channels=128, kernel_size=1, stride=2, bias=False)
        down_bn = inside.add("BatchNorm2d", "downsample_bn", below=3)
        inside.chain(down, down_bn)
        inside.graph.connect(down_bn, "y", add, "in2")
        planes.append((down, "out_channels"))
        skip = (down, "x")
        exposed.append(Exposed("stride", ((conv1, "stride"), (down, "stride"))))
    doc = "ResNet basic block (torchvision's BasicBlock): 3x3 convolution, norm, ReLU, 3x3 convolution, norm, " + (
        "plus a 1x1 convolution and norm of the input (the block that changes width or stride), ReLU."
        if downsample
        else "plus the input itself (same width in and out, stride 1), ReLU."
    )
    _define(
        top, name, inside, [Inlet("x", ((conv1, "x"), skip))], out, [Exposed("planes", tuple(planes)), *exposed], doc
    )
    return name


def resnet_bottleneck(top: Graph, *, downsample: bool) -> str:
    """torchvision.models.resnet.Bottleneck (v1.5, stride on the 3x3): 1x1 to `width`, 3x3, 1x1 to
    `out_channels` (4 x width in torchvision), with a skip; with `downsample`, the skip is a 1x1 convolution and
    a norm."""
    name = "ResNetBottleneckDown" if downsample else "ResNetBottleneck"
    inside = _Inside(top, name)
    width, out_channels = (64, 256) if not downsample else (128, 512)
    conv1, bn1 = _conv_bn(inside, 1, 1, width)
    relu1 = inside.add("ReLU", "relu1")
    conv2, bn2 = _conv_bn(inside, 2, 3, width, **({"stride": 2} if downsample else {}))
    relu2 = inside.add("ReLU", "relu2")
    conv3, bn3 = _conv_bn(inside, 3, 1, out_channels)
    add = inside.add("Add", "add")
    out = inside.add("ReLU", "relu3")
    inside.chain(bn1, relu1, conv2)
    inside.chain(bn2, relu2, conv3)
    inside.chain(bn3, add, out)
    outs = [(conv3, "out_channels")]
    skip = (add, "in2")
    exposed = []
    if downsample:
        down = inside.add(
            "Conv2d", "downsample_conv", below=3, out_channels=out_channels, kernel_size=1, stride=2, bias=False
        )
        down_bn = inside.add("BatchNorm2d", "downsample_bn", below=6)
        inside.chain(down, down_bn)
        inside.graph.connect(down_bn, "y", add, "in2")
        outs.append((down, "out_channels"))
        skip = (down, "x")
        exposed.append(Exposed("stride", ((conv2, "stride"), (down, "stride"))))
    doc = (
        "ResNet bottleneck (torchvision's Bottleneck): 1x1 convolution to width, 3x3, 1x1 to out_channels (4 x "
        "width in ResNet-50), each with a norm, "
        + (
            "plus a 1x1 convolution and norm of the input (the block that changes width or stride), ReLU."
            if downsample
            else "plus the input itself (out_channels as the input's, stride 1), ReLU."
        )
    )
    exposed = [
        Exposed("width", ((conv1, "out_channels"), (conv2, "out_channels"))),
        Exposed("out_channels", tuple(outs)),
        *exposed,
    ]
    _define(top, name, inside, [Inlet("x", ((conv1, "x"), skip))], out, exposed, doc)
    return name


def squeeze_excitation(top: Graph) -> str:
    """torchvision.ops.SqueezeExcitation: each channel scaled by a gate computed from the channel averages."""
    name = "SqueezeExcitation"
    inside = _Inside(top, name)
    pool = inside.add("AdaptiveAvgPool2d", "avgpool", output_size=[1])
    fc1 = inside.add("Conv2d", "fc1", out_channels=16, kernel_size=1)
    relu = inside.add("ReLU", "relu")
    fc2 = inside.add("Conv2d", "fc2", out_channels=64, kernel_size=1)
    gate = inside.add("Sigmoid", "gate")
    scale = inside.add("Multiply", "scale")
    inside.chain(pool, fc1, relu, fc2, gate, scale)
    doc = (
        "Squeeze-and-excitation (torchvision.ops.SqueezeExcitation): average each channel, two 1x1 convolutions "
        "(squeeze_channels, then channels, which must be the input's) and a sigmoid make a gate that scales "
        "each channel of the input."
    )
    exposed = [Exposed("channels", ((fc2, "out_channels"),)), Exposed("squeeze_channels", ((fc1, "out_channels"),))]
    _define(top, name, inside, [Inlet("x", ((pool, "x"), (scale, "in2")))], scale, exposed, doc)
    return name


def inverted_residual(top: Graph, *, skip: bool) -> str:
    """torchvision.models.mobilenetv2.InvertedResidual with an expansion: 1x1 to `hidden`, a depthwise 3x3, a
    1x1 to `out_channels`; the skip exists when the stride is 1 and the width stays (`skip`), else the stride
    is a parameter."""
    name = "InvertedResidual" if skip else "InvertedResidualNoSkip"
    inside = _Inside(top, name)
    hidden, out_channels = (192, 32) if skip else (96, 24)
    expand, bn1 = _conv_bn(inside, 1, 1, hidden)
    relu1 = inside.add("ReLU6", "relu1")
    depthwise, bn2 = _conv_bn(inside, 2, 3, hidden, groups=hidden, **({} if skip else {"stride": 2}))
    relu2 = inside.add("ReLU6", "relu2")
    project, bn3 = _conv_bn(inside, 3, 1, out_channels)
    inside.chain(bn1, relu1, depthwise)
    inside.chain(bn2, relu2, project)
    targets: tuple[tuple[str, str], ...] = ((expand, "x"),)
    out = bn3
    exposed = [
        Exposed("hidden", ((expand, "out_channels"), (depthwise, "out_channels"), (depthwise, "groups"))),
        Exposed("out_channels", ((project, "out_channels"),)),
    ]
    if skip:
        out = inside.add("Add", "add")
        inside.chain(bn3, out)
        targets = (*targets, (out, "in2"))
    else:
        exposed.append(Exposed("stride", ((depthwise, "stride"),)))
    doc = (
        "MobileNetV2 inverted residual (torchvision's InvertedResidual): 1x1 convolution to hidden (expand "
        "ratio x the input's width), depthwise 3x3, 1x1 to out_channels, each with a norm, ReLU6 after the first "
        + (
            "two, plus the input itself (out_channels as the input's, stride 1)."
            if skip
            else "two; no skip (the block that changes width or stride)."
        )
    )
    _define(top, name, inside, [Inlet("x", targets)], out, exposed, doc)
    return name


def encoder_layer(top: Graph) -> str:
    """torch.nn.TransformerEncoderLayer (post-norm, ReLU, batch first) from attention and an MLP."""
    name = "EncoderLayer"
    inside = _Inside(top, name)
    attn = inside.add("MultiheadAttention", "self_attn", num_heads=4, dropout=0.1)
    drop1 = inside.add("Dropout", "dropout1", p=0.1)
    add1 = inside.add("Add", "add1")
    norm1 = inside.add("LayerNorm", "norm1")
    fc1 = inside.add("Linear", "linear1", out_features=256)
    relu = inside.add("ReLU", "activation")
    drop = inside.add("Dropout", "dropout", p=0.1)
    fc2 = inside.add("Linear", "linear2", out_features=64)
    drop2 = inside.add("Dropout", "dropout2", p=0.1)
    add2 = inside.add("Add", "add2")
    norm2 = inside.add("LayerNorm", "norm2")
    inside.chain(attn, drop1, add1, norm1, fc1, relu, drop, fc2, drop2, add2, norm2)
    inside.graph.connect(norm1, "y", add2, "in2")
    doc = (
        "Transformer encoder layer (torch.nn.TransformerEncoderLayer, batch first): self-attention, then an MLP "
        "(linear to dim_feedforward, ReLU, linear back to d_model, which must be the input's), each added to "
        "its input and normalised."
    )
    exposed = [
        Exposed("d_model", ((fc2, "out_features"),)),
        Exposed("nhead", ((attn, "num_heads"),)),
        Exposed("dim_feedforward", ((fc1, "out_features"),)),
        Exposed("dropout", ((attn, "dropout"), (drop1, "p"), (drop, "p"), (drop2, "p"))),
    ]
    _define(top, name, inside, [Inlet("x", ((attn, "x"), (add1, "in2")))], norm2, exposed, doc)
    return name


MAKERS: list[Callable[[Graph], str]] = [
    lambda g: resnet_basic_block(g, downsample=False),
    lambda g: resnet_basic_block(g, downsample=True),
    lambda g: resnet_bottleneck(g, downsample=False),
    lambda g: resnet_bottleneck(g, downsample=True),
    squeeze_excitation,
    lambda g: inverted_residual(g, skip=True),
    lambda g: inverted_residual(g, skip=False),
    encoder_layer,
]


def files() -> dict[str, bytes]:
    """File name -> the bytes of each shipped block, each made in a project of its own."""
    made = {}
    for make in MAKERS:
        top = Graph()
        name = make(top)
        made[name + SUFFIX] = format_json(block_to_dict(top.definitions, name)).encode("utf-8")
    return made


def main() -> int:
    for file_name, data in files().items():
        (FOLDER / file_name).write_bytes(data)
        print(FOLDER / file_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
