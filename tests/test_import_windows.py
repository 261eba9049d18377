"""Importing windows that differ between dimensions (Inception's 1x7 and 7x1 kernels, a pool that halves the
height only): the imported blocks hold one value per dimension, and the regenerated model, given the original
weights, computes what the original computes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.importers import import_module, load_weights
from netbuilder.runtime.build import load_module


class AsymmetricWindows(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.wide = nn.Conv2d(3, 8, (1, 7), padding=(0, 3))
        self.tall = nn.Conv2d(8, 8, kernel_size=(7, 1), padding=(3, 0), dilation=(1, 2))
        self.square = nn.Conv2d(8, 8, (3, 3), stride=(1, 1), padding=(1, 1))
        self.pool = nn.MaxPool2d((2, 3), stride=(2, 1))
        self.up = nn.ConvTranspose2d(8, 4, (2, 1), stride=(2, 1), output_padding=(1, 0))
        self.gap = nn.AdaptiveAvgPool2d((3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.square(self.tall(self.wide(x)))
        x = self.up(self.pool(x))
        x = F.avg_pool2d(x, (1, 2), stride=(1, 2), padding=(0, 1))
        x = F.max_pool2d(x, kernel_size=[3, 1], stride=1)
        return self.gap(x)


class Volume(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv3d(2, 4, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class BasicConv(nn.Module):
    """Inception's BasicConv2d: one class, built with a square kernel in one place and 1x7 in another."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = BasicConv(3, 8, kernel_size=3, padding=1)
        self.wide = BasicConv(8, 8, kernel_size=(1, 7), padding=(0, 3))
        self.tall = BasicConv(8, 8, kernel_size=(7, 1), padding=(3, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tall(self.wide(self.stem(x)))


def _round_trip(original: nn.Module, shape: tuple[int, ...]):
    torch.manual_seed(0)
    result = import_module(original.eval(), shape, type(original).__name__)
    assert result.unmapped == ()
    graph = result.project.graph
    assert not analyze(graph).has_errors(training=False)
    code = generate_model(graph, analyze(graph), name=result.project.name)
    model = getattr(load_module(code.source), code.class_name)()
    model.load_state_dict(load_weights(result, original.state_dict()), strict=True)
    x = torch.randn(3, *shape[1:])  # another batch size than the traced one
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), original(x), atol=1e-5, rtol=1e-5)
    return graph, code.source


def test_windows_per_dimension_import_exactly() -> None:
    graph, source = _round_trip(AsymmetricWindows(), (2, 3, 12, 10))
    wide, tall, square = (graph.by_label(label).params for label in ("wide", "tall", "square"))
    assert (wide["kernel_size"], wide["padding"]) == ((1, 7), (0, 3))
    assert (tall["kernel_size"], tall["padding"], tall["dilation"]) == ((7, 1), (3, 0), (1, 2))
    assert (square["kernel_size"], square["stride"], square["padding"]) == (3, 1, 1)  # one int where all agree
    pool = graph.by_label("pool").params
    assert (pool["kernel_size"], pool["stride"]) == ((2, 3), (2, 1))
    assert graph.by_label("gap").params["output_size"] == (3, 1)
    assert "nn.Conv2d(3, 8, kernel_size=(1, 7), padding=(0, 3))" in source
    assert "nn.MaxPool2d((2, 3), stride=(2, 1))" in source
    assert "nn.Conv2d(8, 8, kernel_size=3, padding=1)" in source


def test_a_volume_window_per_dimension_imports_exactly() -> None:
    _, source = _round_trip(Volume(), (2, 2, 4, 9, 9))
    assert "nn.Conv3d(2, 4, kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))" in source


def test_a_class_built_with_kernels_of_both_forms_takes_either() -> None:
    """The imported class keeps Inception's shape: one BasicConv whose kernel_size is 3 or (1, 7)."""
    _, source = _round_trip(Branches(), (2, 3, 9, 9))
    assert "kernel_size: int | tuple[int, ...] = 3" in source
    assert "BasicConv(8, kernel_size=(1, 7), padding=(0, 3))" in source


class PaddingWords(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.same = nn.Conv1d(2, 4, 4, padding="same", dilation=2, padding_mode="reflect")
        self.valid = nn.Conv1d(4, 4, 3, padding="valid")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.valid(self.same(x))


def test_padding_same_and_valid_import_exactly() -> None:
    graph, source = _round_trip(PaddingWords(), (2, 2, 12))
    assert graph.by_label("same").params["padding"] == "same"
    assert "nn.Conv1d(2, 4, kernel_size=4, padding='same', dilation=2, padding_mode='reflect')" in source
    assert "nn.Conv1d(4, 4, kernel_size=3, padding='valid')" in source
