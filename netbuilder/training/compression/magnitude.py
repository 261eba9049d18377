"""Magnitude pruning: the smallest weights of a network set to zero, and kept at zero while it fine-tunes.

Unstructured: the tensors keep their shapes (a sparse file compresses, a sparse kernel could skip the zeros),
unlike channel pruning, which makes the layers smaller. Biases are left: they are few and each one matters."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn
from torch.nn.utils import prune
from torch.utils.hooks import RemovableHandle

PRUNABLE = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.LSTM,
    nn.GRU,
    nn.RNN,
    nn.Embedding,
)
SCOPES = ("global", "layer")


def prunable_weights(model: nn.Module) -> Iterator[tuple[nn.Module, str, str]]:
    """(module, parameter name, state_dict key) of each weight magnitude pruning touches: the weights (not the
    biases) of the PRUNABLE layers, an LSTM's or GRU's weight_ih_l0, weight_hh_l0, ... each; a shared weight once."""
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        if not isinstance(module, PRUNABLE):
            continue
        for name, parameter in module.named_parameters(recurse=False):
            if name.startswith("weight") and id(parameter) not in seen:
                seen.add(id(parameter))
                yield module, name, f"{module_name}.{name}" if module_name else name


def prune_magnitude(model: nn.Module, sparsity: float, *, scope: str = "global") -> dict[str, torch.Tensor]:
    """Set the smallest `sparsity` share of `model`'s prunable weights to zero, in place, and return the keep-masks
    (True where a weight stays) by state_dict key.

    scope "global" ranks all the weights together by magnitude (one threshold, so layers with many small weights
    lose more); "layer" prunes each weight tensor to `sparsity` on its own. The pruning is made permanent: no
    masks or hooks stay on the model and its state_dict keys are unchanged."""
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}: choose from {', '.join(SCOPES)}")
    targets = list(prunable_weights(model))
    if not targets:
        raise ValueError("the network has no layer whose weights magnitude pruning can prune")
    orders = {id(module): [*module._parameters] for module, _, _ in targets}  # prune.remove registers at the end
    if scope == "global":
        prune.global_unstructured(
            [(module, name) for module, name, _ in targets], pruning_method=prune.L1Unstructured, amount=sparsity
        )
    else:
        for module, name, _ in targets:
            prune.l1_unstructured(module, name, amount=sparsity)
    masks = {}
    for module, name, key in targets:
        masks[key] = getattr(module, f"{name}_mask").detach().bool().clone()
        prune.remove(module, name)
    for module, _, _ in targets:
        module._parameters = {name: module._parameters[name] for name in orders[id(module)]}
    return masks


def keep_masks(optimizer: torch.optim.Optimizer, model: nn.Module, masks: dict[str, torch.Tensor]) -> RemovableHandle:
    """Keep `model`'s pruned weights at zero while `optimizer` trains it: after each step the weights are
    multiplied by their masks (in place, so it also runs inside a captured CUDA graph). `masks` as
    prune_magnitude returns them, on the model's device. The returned handle's remove() stops it."""
    parameters = dict(model.named_parameters())
    pairs = []
    for key, mask in masks.items():
        parameter = parameters.get(key, parameters.get(f"_orig_mod.{key}"))  # a torch.compile'd model's names
        if parameter is None:
            raise KeyError(f"the model has no weight {key!r} to keep pruned")
        pairs.append((parameter, mask.to(device=parameter.device, dtype=parameter.dtype)))

    @torch.no_grad()
    def zero_pruned(_optimizer, _args, _kwargs) -> None:
        for parameter, mask in pairs:
            parameter.mul_(mask)

    return optimizer.register_step_post_hook(zero_pruned)


def weight_sparsity(model: nn.Module) -> float:
    """The share of zeros among `model`'s prunable weights (0.0 when it has none)."""
    zeros = total = 0
    for module, name, _ in prunable_weights(model):
        weight = getattr(module, name)
        zeros += int((weight == 0).sum())
        total += weight.numel()
    return zeros / total if total else 0.0
