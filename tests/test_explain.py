"""Explanations of a trained network's answers (captum): maps at the input's resolution in [0, 1], and
Grad-CAM that looks where the class is decided."""

from __future__ import annotations

import numpy
import pytest
import torch
from torch import nn

from netbuilder.training.explain import (
    GRADCAM,
    INTEGRATED_GRADIENTS,
    METHODS,
    SALIENCY,
    ClassScores,
    ExplainError,
    cam_layers,
    explain,
)

SIDE = 16


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16, 2)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.conv1(image))
        x = self.relu2(self.conv2(x))
        return self.fc(self.flatten(self.pool(x)))


ATTRIBUTES = {"n1": "conv1", "n2": "relu1", "n3": "conv2", "n4": "relu2", "n5": "pool", "n6": "flatten", "n7": "fc"}


def left_half_images(count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Dim noise all over; images of class 1 hold a bright square somewhere on the left half, those of class
    0 none. The right half is noise of the same kind in both classes: the class depends on the left half
    alone."""
    half = SIDE // 2
    x = 0.3 * torch.rand(count, 1, SIDE, SIDE, generator=generator)
    y = torch.randint(0, 2, (count,), generator=generator)
    for i in range(count):
        r, c = torch.randint(0, half - 3, (2,), generator=generator).tolist()
        r *= 2  # anywhere from top to bottom
        if y[i] == 1:
            x[i, 0, r : r + 3, c : c + 3] = 1.0
    return x, y


@pytest.fixture(scope="module")
def left_half_network() -> tuple[SmallCNN, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    x, y = left_half_images(512, generator)
    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _epoch in range(8):
        for start in range(0, len(x), 64):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x[start : start + 64]), y[start : start + 64])
            loss.backward()
            optimizer.step()
    test_x, test_y = left_half_images(64, torch.Generator().manual_seed(1))
    model.eval()
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    assert accuracy > 0.95, f"the network did not learn the task ({accuracy:.0%})"
    return model, test_x, test_y


def test_grad_cam_looks_at_the_half_that_decides_the_class(left_half_network):
    """The issue's test: Grad-CAM puts more than 80 % of its mass on the left half, where the class is."""
    model, x, y = left_half_network
    shares = []
    for i in (y == 1).nonzero()[:16, 0].tolist():
        heat = explain(model, x[i], 1, GRADCAM)
        assert heat.shape == (SIDE, SIDE)
        shares.append(heat[:, : SIDE // 2].sum() / heat.sum())
    assert numpy.mean(shares) > 0.8, shares


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_a_map_in_zero_to_one_at_the_input_resolution(left_half_network, method):
    model, x, _ = left_half_network
    heat = explain(model, x[0], 1, method)
    assert heat.shape == (SIDE, SIDE) and heat.dtype == numpy.float32
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)


def test_the_convolutions_grad_cam_can_use_are_those_with_a_map_output_in_model_order(left_half_network):
    model, x, _ = left_half_network
    layers = cam_layers(model, ATTRIBUTES, x[0])
    assert [layer.node for layer in layers] == ["n1", "n3"]
    first = explain(model, x[0], 1, GRADCAM, layer=layers[0])
    assert first.shape == (SIDE, SIDE)
    assert not numpy.allclose(first, explain(model, x[0], 1, GRADCAM))  # the default is the last one
    assert cam_layers(model, ATTRIBUTES, torch.zeros(5, 3)) == []  # not an image: nothing to choose


def test_a_sequence_gets_one_value_per_time_step():
    torch.manual_seed(0)

    class Recurrent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(3, 8, batch_first=True)
            self.fc = nn.Linear(8, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.lstm(x)[0][:, -1])

    model = Recurrent()
    sequence = torch.randn(12, 3)
    for method in (SALIENCY, INTEGRATED_GRADIENTS):
        heat = explain(model, sequence, 2, method)
        assert heat.shape == (12,) and heat.max() == pytest.approx(1.0) and heat.min() >= 0
    with pytest.raises(ExplainError, match="Grad-CAM needs an image"):
        explain(model, sequence, 2, GRADCAM)


def test_a_network_without_convolutions_has_no_grad_cam():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    with pytest.raises(ExplainError, match="no convolution"):
        explain(model, torch.rand(1, 4, 4), 0, GRADCAM)


def test_a_single_score_explains_both_classes():
    """A binary head with one logit: class 0's score is its negative, a probability's complement is 1 - p."""
    model = nn.Linear(3, 1)
    x = torch.randn(2, 3)
    logit = model(x)
    assert torch.allclose(ClassScores(model)(x), torch.cat([-logit, logit], 1))
    probability = nn.Sequential(model, nn.Sigmoid())
    p = probability(x)
    assert torch.allclose(ClassScores(probability, single_score_is_probability=True)(x), torch.cat([1 - p, p], 1))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
@pytest.mark.parametrize("method", METHODS)
def test_maps_on_the_gpu_are_those_of_the_cpu(left_half_network, method):
    model, x, _ = left_half_network
    on_cpu = explain(model, x[0], 1, method)
    gpu_model = SmallCNN().cuda()
    gpu_model.load_state_dict(model.state_dict())
    assert numpy.allclose(explain(gpu_model, x[0], 1, method), on_cpu, atol=1e-3)
