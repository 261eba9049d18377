"""What part of an input a trained network's answer rests on: a saliency map, Grad-CAM at a convolution, or
integrated gradients, computed by captum (the maintained attribution library) for one sample and one class.

Every map comes back as a plain numpy array of non-negative values scaled so that the largest is 1, at the
input's own resolution: (H, W) for an image (Grad-CAM's coarse map upsampled bilinearly), (length,) for a
sequence (an attribution per time step, summed over its features), (features,) for a table row. The window
draws it over the sample; `netbuilder explain` writes it as a picture.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy
import torch
from torch import nn

SALIENCY = "saliency"
GRADCAM = "gradcam"
INTEGRATED_GRADIENTS = "ig"
METHODS = (SALIENCY, GRADCAM, INTEGRATED_GRADIENTS)
IG_STEPS = 32  # points on the path from the baseline; captum's default of 50 costs more and changes little


class ExplainError(Exception):
    """The explanation cannot be made for this network or sample; the message says why."""


@dataclass(frozen=True)
class CamLayer:
    """A node of the graph whose output Grad-CAM can look at: a convolution (or a block holding one) whose
    output is still a map over the image. `attribute` is its name in the generated model."""

    node: str
    attribute: str


class ClassScores(nn.Module):
    """The network with its output as one score per class (or per predicted value), so that captum's
    `target` is a class index for every kind of head: a single score (binary, BCE) becomes two, the first
    the negative of the second (a logit) or its complement (a probability), so class 0 is explained too."""

    def __init__(self, model: nn.Module, *, single_score_is_probability: bool = False) -> None:
        super().__init__()
        self.model = model
        self.single_score_is_probability = single_score_is_probability

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.model(x)
        scores = scores.reshape(len(scores), -1).float()
        if scores.shape[1] != 1:
            return scores
        other = 1 - scores if self.single_score_is_probability else -scores
        return torch.cat([other, scores], dim=1)


def cam_layers(model: nn.Module, attributes: Mapping[str, str], sample: torch.Tensor) -> list[CamLayer]:
    """The nodes Grad-CAM can use for this image sample (C, H, W), in the model's order (the last is the default):
    those whose submodule is or holds a convolution and whose output, in one forward pass, is (N, C, H, W).
    Empty for a sample that is not an image."""
    if sample.dim() != 3:
        return []
    candidates = {
        node: module
        for node, attribute in attributes.items()
        if (module := getattr(model, attribute, None)) is not None and _holds_convolution(module)
    }
    dims: dict[str, int] = {}
    hooks = [
        module.register_forward_hook(
            lambda _m, _i, output, node=node: (
                dims.__setitem__(node, output.dim()) if isinstance(output, torch.Tensor) else None
            )
        )
        for node, module in candidates.items()
    ]
    try:
        with torch.no_grad():
            model(sample.unsqueeze(0).to(next(model.parameters(), torch.empty(0)).device))
    finally:
        for hook in hooks:
            hook.remove()
    return [CamLayer(node, attributes[node]) for node in candidates if dims.get(node) == 4]


def explain(
    model: nn.Module,
    sample: torch.Tensor,
    target: int,
    method: str,
    *,
    layer: CamLayer | None = None,
    single_score_is_probability: bool = False,
) -> numpy.ndarray:
    """The attribution map of `method` for one sample (without a batch dimension) and class (or
    output value) `target`, normalised to [0, 1] at the input's resolution (see the module's doc). Grad-CAM
    looks at `layer`, by default the last of `cam_layers`. The model is put in eval mode."""
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Saliency  # loads matplotlib too

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    model.eval()
    device = next(model.parameters(), torch.empty(0)).device
    x = sample.to(device).float().unsqueeze(0).requires_grad_()  # a batch of one
    scores = ClassScores(model, single_score_is_probability=single_score_is_probability)
    with torch.enable_grad():
        if method == GRADCAM:
            if x.dim() != 4:
                raise ExplainError("Grad-CAM needs an image input; use saliency or integrated gradients")
            module = _cam_module(model, layer, x)
            cam = LayerGradCam(scores, module).attribute(x, target=target, relu_attributions=True)
            attribution = LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="bilinear")
        elif method == SALIENCY:
            attribution = Saliency(scores).attribute(x, target=target, abs=True)
        else:
            attribution = IntegratedGradients(scores).attribute(
                x, baselines=torch.zeros_like(x), target=target, n_steps=IG_STEPS
            )
    return _normalised(_per_position(attribution.detach().abs()[0], x.dim()))


def _cam_module(model: nn.Module, layer: CamLayer | None, x: torch.Tensor) -> nn.Module:
    """The submodule Grad-CAM looks at: `layer`'s, or the last convolution's."""
    if layer is None:
        attributes = {name: name for name, _ in model.named_children()}
        layers = cam_layers(model, attributes, x[0])
        if not layers:
            raise ExplainError("this network has no convolution whose output is an image map for Grad-CAM")
        layer = layers[-1]
    module = getattr(model, layer.attribute, None)
    if not isinstance(module, nn.Module):
        raise ExplainError(f"the model has no layer {layer.attribute}; train again")
    return module


def _per_position(attribution: torch.Tensor, batch_dim: int) -> torch.Tensor:
    """One value per pixel (the channels' sum), per time step (the features' sum) or per feature."""
    if batch_dim == 4:  # (C, H, W)
        return attribution.sum(dim=0)
    if batch_dim == 3:  # (length, features)
        return attribution.sum(dim=1)
    return attribution.reshape(-1)


def _normalised(values: torch.Tensor) -> numpy.ndarray:
    """Non-negative values over their largest (all zeros stay zeros), as float32 numpy."""
    values = values.float().clamp_min(0).nan_to_num(0.0).cpu()
    peak = float(values.max()) if values.numel() else 0.0
    return (values / peak if peak > 0 else values).numpy().astype(numpy.float32)


def _holds_convolution(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) for m in module.modules())
