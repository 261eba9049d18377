"""What part of an input a trained network's answer rests on: a saliency map, Grad-CAM at a convolution, or
integrated gradients, computed by captum (the maintained attribution library) for one sample and one class.

Every map comes back as a plain numpy array of non-negative values scaled so that the largest is 1, at the
input's own resolution: (H, W) for an image (Grad-CAM's coarse map upsampled bilinearly), (length,) for a
sequence (an attribution per time step, summed over its features), (features,) for a table row. The window
draws it over the sample; `netbuilder explain` writes it as a picture.

Token indices (an int64 sequence that feeds an Embedding) have no gradient of their own: their attribution is
taken at the output of the Embedding that reads them (captum's layer methods) and summed over the embedding
per token; integrated gradients start from all-padding (index 0). With `signed=True`, integrated gradients keep
their sign, scaled into [-1, 1]: positive where a token pushed towards the class, negative where against it.
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
    signed: bool = False,
) -> numpy.ndarray:
    """The attribution map of `method` for one sample (without a batch dimension) and class (or
    output value) `target`, normalised to [0, 1] at the input's resolution (see the module's doc; token indices
    with `signed` and integrated gradients: [-1, 1]). Grad-CAM looks at `layer`, by default the last of
    `cam_layers`. The model is put in eval mode."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    model.eval()
    scores = ClassScores(model, single_score_is_probability=single_score_is_probability)
    # cuDNN's recurrent layers refuse a backward pass in eval mode; torch's own kernels give the same gradients
    with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
        if sample.is_floating_point():
            return _normalised(_float_attribution(scores, sample, target, method, layer))
        attribution = _token_attribution(scores, sample, target, method)
        return _normalised(attribution, signed=signed and method == INTEGRATED_GRADIENTS)


def _float_attribution(
    scores: ClassScores, sample: torch.Tensor, target: int, method: str, layer: CamLayer | None
) -> torch.Tensor:
    """The attribution of a real-valued input, one value per pixel, time step or feature."""
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Saliency  # loads matplotlib too

    model = scores.model
    device = next(model.parameters(), torch.empty(0)).device
    x = sample.to(device).float().unsqueeze(0).requires_grad_()  # a batch of one
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
    return _per_position(attribution.detach().abs()[0], x.dim())


def _token_attribution(scores: ClassScores, sample: torch.Tensor, target: int, method: str) -> torch.Tensor:
    """Per token of a (length,) index sequence: the attribution at the output of the Embedding that reads it,
    summed over the embedding (integrated gradients, signed) or the gradient's size there (saliency)."""
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    if method == GRADCAM:
        raise ExplainError("Grad-CAM needs an image input; use saliency or integrated gradients for tokens")
    device = next(scores.parameters(), torch.empty(0)).device
    x = sample.to(device).unsqueeze(0)
    embedding = _embedding_reading(scores.model, x)
    if method == SALIENCY:
        gradient = LayerGradientXActivation(scores, embedding, multiply_by_inputs=False)
        return gradient.attribute(x, target=target).detach()[0].abs().sum(dim=-1)
    integrated = LayerIntegratedGradients(scores, embedding)
    attribution = integrated.attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=IG_STEPS)
    return attribution.detach()[0].sum(dim=-1)


def _embedding_reading(model: nn.Module, x: torch.Tensor) -> nn.Module:
    """The first Embedding that, in one forward pass, reads the input's token indices themselves."""
    read: list[nn.Module] = []
    hooks = [
        module.register_forward_hook(
            lambda m, inputs, _output: read.append(m) if inputs and torch.equal(inputs[0], x) else None
        )
        for module in model.modules()
        if isinstance(module, nn.Embedding)
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    if not read:
        raise ExplainError("these token indices feed no Embedding, so no token can be credited; add an Embedding")
    return read[0]


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


def _normalised(values: torch.Tensor, *, signed: bool = False) -> numpy.ndarray:
    """Values over their largest magnitude (all zeros stay zeros), as float32 numpy: non-negative, or with
    `signed` their sign kept, in [-1, 1]."""
    values = values.float().nan_to_num(0.0).cpu()
    values = values if signed else values.clamp_min(0)
    peak = float(values.abs().max()) if values.numel() else 0.0
    return (values / peak if peak > 0 else values).numpy().astype(numpy.float32)


def _holds_convolution(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) for m in module.modules())
