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
from netbuilder.project.json_file import format_json

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


def resnet_downsample(top: Graph) -> str:
    """torchvision's `downsample` of a ResNet block: a 1x1 convolution and a norm, numbered 0 and 1 as in its
    nn.Sequential (so the generated code is one, and torchvision's weights load)."""
    name = "ResNetDownsample"
    if name in top.definitions:
        return name
    inside = _Inside(top, name)
    conv = inside.add("Conv2d", "0", out_channels=128, kernel_size=1, stride=2, bias=False)
    norm = inside.add("BatchNorm2d", "1")
    inside.chain(conv, norm)
    doc = "ResNet shortcut that changes width or stride (torchvision's downsample): a 1x1 convolution and a norm."
    exposed = [Exposed("out_channels", ((conv, "out_channels"),)), Exposed("stride", ((conv, "stride"),))]
    _define(top, name, inside, [Inlet("x", ((conv, "x"),))], norm, exposed, doc)
    return name


def _downsample(inside: _Inside, top: Graph, below: int, channels: int) -> str:
    """A ResNetDownsample labelled `downsample` (torchvision's attribute) on the branch row."""
    return inside.add(resnet_downsample(top), "downsample", below=below, out_channels=channels, stride=2)


def resnet_basic_block(top: Graph, *, downsample: bool) -> str:
    """torchvision.models.resnet.BasicBlock: two 3x3 convolutions with the input added; with `downsample`, the
    input comes through ResNetDownsample (the first block of a stage, which changes the width and the stride)."""
    name = "ResNetBasicBlockDown" if downsample else "ResNetBasicBlock"
    planes = 128 if downsample else 64
    inside = _Inside(top, name)
    conv1, bn1 = _conv_bn(inside, 1, 3, planes, **({"stride": 2} if downsample else {}))
    relu = inside.add("ReLU", "relu")
    conv2, bn2 = _conv_bn(inside, 2, 3, planes)
    add = inside.add("Add", "add")
    out = inside.add("ReLU", "relu_out")
    inside.chain(bn1, relu, conv2)
    inside.chain(bn2, add, out)
    widths = [(conv1, "out_channels"), (conv2, "out_channels")]
    skip = (add, "in2")
    exposed = []
    if downsample:
        down = _downsample(inside, top, 2, planes)
        inside.graph.connect(down, "y", add, "in2")
        widths.append((down, "out_channels"))
        skip = (down, "x")
        exposed.append(Exposed("stride", ((conv1, "stride"), (down, "stride"))))
    doc = (
        "ResNet basic block changing width or stride: 3x3 conv, norm, ReLU, 3x3 conv, norm, plus the downsampled input."
        if downsample
        else "ResNet basic block (torchvision BasicBlock): 3x3 conv, norm, ReLU, 3x3 conv, norm, plus the input, ReLU."
    )
    inlets = [Inlet("x", ((conv1, "x"), skip))]
    _define(top, name, inside, inlets, out, [Exposed("planes", tuple(widths)), *exposed], doc)
    return name


def resnet_bottleneck(top: Graph, *, downsample: bool) -> str:
    """torchvision.models.resnet.Bottleneck (v1.5, stride on the 3x3): 1x1 to `width`, 3x3, 1x1 to
    `out_channels` (4 x width in torchvision), with the input added; with `downsample`, the input comes through
    ResNetDownsample."""
    name = "ResNetBottleneckDown" if downsample else "ResNetBottleneck"
    inside = _Inside(top, name)
    width, out_channels = (128, 512) if downsample else (64, 256)
    conv1, bn1 = _conv_bn(inside, 1, 1, width)
    relu1 = inside.add("ReLU", "relu1")
    conv2, bn2 = _conv_bn(inside, 2, 3, width, **({"stride": 2} if downsample else {}))
    relu2 = inside.add("ReLU", "relu2")
    conv3, bn3 = _conv_bn(inside, 3, 1, out_channels)
    add = inside.add("Add", "add")
    out = inside.add("ReLU", "relu_out")
    inside.chain(bn1, relu1, conv2)
    inside.chain(bn2, relu2, conv3)
    inside.chain(bn3, add, out)
    outs = [(conv3, "out_channels")]
    skip = (add, "in2")
    strides = []
    if downsample:
        down = _downsample(inside, top, 4, out_channels)
        inside.graph.connect(down, "y", add, "in2")
        outs.append((down, "out_channels"))
        skip = (down, "x")
        strides.append(Exposed("stride", ((conv2, "stride"), (down, "stride"))))
    doc = (
        "ResNet bottleneck changing width or stride: 1x1 conv, 3x3, 1x1 to out_channels, plus the downsampled input."
        if downsample
        else "ResNet bottleneck (torchvision Bottleneck): 1x1 conv to width, 3x3, 1x1 to out_channels, plus the input."
    )
    widths = Exposed("width", ((conv1, "out_channels"), (conv2, "out_channels")))
    exposed = [widths, Exposed("out_channels", tuple(outs)), *strides]
    _define(top, name, inside, [Inlet("x", ((conv1, "x"), skip))], out, exposed, doc)
    return name


def squeeze_excitation(top: Graph) -> str:
    """torchvision.ops.SqueezeExcitation: each channel scaled by a gate computed from the channel averages."""
    name = "SqueezeExcitation"
    inside = _Inside(top, name)
    pool = inside.add("AdaptiveAvgPool2d", "avgpool", output_size=[1])
    fc1 = inside.add("Conv2d", "fc1", out_channels=16, kernel_size=1)
    relu = inside.add("ReLU", "activation")
    fc2 = inside.add("Conv2d", "fc2", out_channels=64, kernel_size=1)
    gate = inside.add("Sigmoid", "scale_activation")
    scale = inside.add("Multiply", "scale")
    inside.chain(pool, fc1, relu, fc2, gate, scale)
    doc = "Squeeze-and-excitation (torchvision.ops): a gate made from the channel averages scales each input channel."
    exposed = [Exposed("channels", ((fc2, "out_channels"),)), Exposed("squeeze_channels", ((fc1, "out_channels"),))]
    _define(top, name, inside, [Inlet("x", ((pool, "x"), (scale, "in2")))], scale, exposed, doc)
    return name


def conv_norm_activation(top: Graph) -> str:
    """torchvision.ops.Conv2dNormActivation as MobileNetV2 uses it: convolution, norm, ReLU6, numbered 0 to 2."""
    name = "ConvNormReLU6"
    if name in top.definitions:
        return name
    inside = _Inside(top, name)
    conv = inside.add("Conv2d", "0", out_channels=96, kernel_size=3, padding=1, bias=False)
    norm = inside.add("BatchNorm2d", "1")
    act = inside.add("ReLU6", "2")
    inside.chain(conv, norm, act)
    doc = "Convolution, norm and ReLU6 (torchvision Conv2dNormActivation, as in MobileNetV2)."
    exposed = [Exposed(p, ((conv, p),)) for p in ("out_channels", "kernel_size", "stride", "padding", "groups")]
    _define(top, name, inside, [Inlet("x", ((conv, "x"),))], act, exposed, doc)
    return name


def inverted_residual_layers(top: Graph) -> str:
    """The `conv` of torchvision's InvertedResidual with an expansion: 1x1 to `hidden`, a depthwise 3x3, a 1x1
    to `out_channels` and a norm, numbered 0 to 3 as in its nn.Sequential."""
    name = "InvertedResidualLayers"
    inside = _Inside(top, name)
    block = conv_norm_activation(top)
    expand = inside.add(block, "0", out_channels=96, kernel_size=1, padding=0)
    depthwise = inside.add(block, "1", out_channels=96, groups=96, stride=2)
    project = inside.add("Conv2d", "2", out_channels=24, kernel_size=1, bias=False)
    norm = inside.add("BatchNorm2d", "3")
    inside.chain(expand, depthwise, project, norm)
    doc = "MobileNetV2 inverted residual's layers: 1x1 conv to hidden, depthwise 3x3, 1x1 to out_channels, norm."
    exposed = [
        Exposed("hidden", ((expand, "out_channels"), (depthwise, "out_channels"), (depthwise, "groups"))),
        Exposed("out_channels", ((project, "out_channels"),)),
        Exposed("stride", ((depthwise, "stride"),)),
    ]
    _define(top, name, inside, [Inlet("x", ((expand, "x"),))], norm, exposed, doc)
    return name


def inverted_residual(top: Graph, *, skip: bool) -> str:
    """torchvision.models.mobilenetv2.InvertedResidual with an expansion: its layers (`conv`), plus the input
    when the stride is 1 and the width stays (`skip`); without the skip the stride is a parameter."""
    name = "InvertedResidual" if skip else "InvertedResidualNoSkip"
    inside = _Inside(top, name)
    hidden, out_channels = (192, 32) if skip else (96, 24)
    conv = inside.add(
        inverted_residual_layers(top), "conv", hidden=hidden, out_channels=out_channels, stride=1 if skip else 2
    )
    exposed = [Exposed("hidden", ((conv, "hidden"),)), Exposed("out_channels", ((conv, "out_channels"),))]
    targets: tuple[tuple[str, str], ...] = ((conv, "x"),)
    out = conv
    if skip:
        out = inside.add("Add", "add")
        inside.chain(conv, out)
        targets = (*targets, (out, "in2"))
    else:
        exposed.append(Exposed("stride", ((conv, "stride"),)))
    doc = (
        "MobileNetV2 inverted residual (torchvision): 1x1 conv to hidden, depthwise 3x3, 1x1 to out_channels, "
        "plus the input."
        if skip
        else "MobileNetV2 inverted residual without the skip, for a change of width or stride: 1x1, depthwise 3x3, 1x1."
    )
    _define(top, name, inside, [Inlet("x", targets)], out, exposed, doc)
    return name


def encoder_layer(top: Graph) -> str:
    """torch.nn.TransformerEncoderLayer (post-norm, ReLU, batch first) from attention and an MLP, its layers
    named as torch names them."""
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
        "Transformer encoder layer (nn.TransformerEncoderLayer, batch first): self-attention, then an MLP, "
        "each add & norm."
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
