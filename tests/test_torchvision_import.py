"""Every classification model torchvision has imports whole: no unmapped call, the original's parameter count,
and, with the original's state_dict loaded under its own key names (strict), the original's outputs within 1e-5.

torchvision is the oracle: each model is built untrained (weights=None, seeded) at the smallest input it takes.
The slowest (the largest, and ViT-L at its fixed 224x224) are marked heavy: `make test-heavy` runs them.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.importers import import_module
from netbuilder.runtime.build import load_module

torchvision = pytest.importorskip("torchvision")

_SIDES = (32, 64, 75, 96, 128, 224)
"""Square input sizes to try, smallest first: most models take 32 pixels, AlexNet 63, Inception v3 75, and ViT
and MaxViT only the size they were built for."""


def _models() -> list:
    names = torchvision.models.list_models(module=torchvision.models)
    return [pytest.param(name, marks=pytest.mark.heavy) if name in _SLOWEST else name for name in names]


# the slowest here, 2.5 to 35 s each on a 2-core machine (ViT-H/14 35 s): the largest members of each family, and
# ViT-L, which only takes 224x224 inputs; left out of make test (each family keeps its smaller members there, so
# every kind of block and call is still imported in it), run by make test-heavy
_SLOWEST = frozenset(
    {
        *("vit_h_14", "vit_l_16", "vit_l_32", "vit_b_16"),
        *("regnet_y_128gf", "regnet_x_32gf", "regnet_y_32gf"),
        *("efficientnet_v2_l", "efficientnet_v2_m", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7"),
        *("convnext_large", "convnext_base"),
        *("vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg16_bn", "vgg19_bn"),
        *("swin_b", "swin_v2_s", "swin_v2_b"),
        *("densenet161", "densenet201"),
        "wide_resnet101_2",
    }
)


def _mild_statistics(model: nn.Module) -> None:
    """BatchNorm statistics and scales away from their identity start, so a norm that did not arrive shows,
    while the outputs keep their scale through a hundred layers."""
    generator = torch.Generator().manual_seed(0)
    for sub in model.modules():
        if isinstance(sub, nn.modules.batchnorm._BatchNorm) and sub.running_mean is not None:
            n = sub.num_features
            sub.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
            sub.running_var.copy_(0.5 + torch.rand(n, generator=generator))
            if sub.weight is not None:
                sub.weight.data.copy_(1 + 0.1 * torch.randn(n, generator=generator))


def _smallest_side(model: nn.Module) -> int:
    for side in _SIDES:
        try:
            with torch.no_grad():
                model(torch.zeros(1, 3, side, side))
        except (RuntimeError, ValueError, AssertionError):  # too small for a window, or not its fixed size
            continue
        return side
    raise AssertionError("no input size in _SIDES fits the model")


@pytest.mark.parametrize("name", _models())
def test_torchvision_classifier_imports_whole_and_computes_the_same(name: str) -> None:
    torch.manual_seed(0)
    original = torchvision.models.get_model(name, weights=None).eval()
    _mild_statistics(original)
    side = _smallest_side(original)
    result = import_module(original, (1, 3, side, side), name)
    assert result.unmapped == (), result.report()
    graph = result.project.graph
    analysis = analyze(graph)
    assert not analysis.errors(training=False)
    code = generate_model(graph, analysis, name=name)
    with torch.device("meta"):  # built without initialising: the original's tensors replace every one
        regenerated = getattr(load_module(code.source), code.class_name)()
    # what forward() never runs in eval mode (GoogLeNet's and Inception's auxiliary heads) is not the network
    assert set(result.untraced) == (
        {"aux1", "aux2"} if name == "googlenet" else {"AuxLogits"} if name == "inception_v3" else set()
    )
    state = {
        k: v for k, v in original.state_dict().items() if not k.startswith(tuple(f"{u}." for u in result.untraced))
    }
    parameters = sum(p.numel() for k, p in original.named_parameters() if k in state)
    assert sum(p.numel() for p in regenerated.parameters()) == parameters
    regenerated.load_state_dict(state, strict=True, assign=True)
    regenerated.eval()
    x = torch.randn(2, 3, side, side)
    with torch.no_grad():
        torch.testing.assert_close(regenerated(x), original(x), atol=1e-5, rtol=1e-5)
