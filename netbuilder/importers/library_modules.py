"""Library modules an import keeps whole, as one LibraryModule node, and their constructor arguments read back.

`LEAF_CLASSES` are the torchvision classes whose forward() would take many blocks that no person would draw, and
that are fully described by their constructor: Swin's shifted-window attention (a window partition, a cyclic
shift with its attention mask, a relative position bias gathered from a table by a buffer of indices, and in
V2 a small network that makes that bias), Swin's patch merging (strided slices of the four quarters of every 2 x
2 patch, concatenated), and MaxViT's relative positional attention (the same bias table). The generated code
imports them from torchvision, so the exported model runs torchvision's own code and takes the original's
state_dict under the same keys.

`library_params(module)` reads an instance's constructor arguments back (its `__init__` signature; attributes of
the same name; `_STORED_ELSEWHERE` for the few kept under another name), and trusts them only when the class
rebuilt from them on the meta device has the original's repr, state_dict keys and shapes, and plain
attributes: otherwise it returns None and the module is not imported this way.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from netbuilder.blocks.errors import ParamError, ShapeError
from netbuilder.blocks.library_module import canonical_args, name_problem, parse_args
from netbuilder.runtime.library_shapes import built

LEAF_CLASSES = frozenset(
    {
        "torchvision.models.swin_transformer.ShiftedWindowAttention",
        "torchvision.models.swin_transformer.ShiftedWindowAttentionV2",
        "torchvision.models.swin_transformer.PatchMerging",
        "torchvision.models.swin_transformer.PatchMergingV2",
        "torchvision.models.maxvit.RelativePositionalMultiHeadAttention",
    }
)
"""The qualified names of the classes an import keeps whole (see the module docstring for why these)."""

BLOCK_CLASSES = {"torchvision.ops.stochastic_depth.StochasticDepth": "StochasticDepth"}
"""Library classes outside torch.nn that are a catalogue block (their attributes its parameters by name): traced
as one call, like torch.nn's own, rather than into their forward()."""

_STORED_ELSEWHERE: dict[str, Callable[[nn.Module], Any]] = {
    "dim": lambda m: m.qkv.in_features,  # ShiftedWindowAttention(V2) keeps its width in its projection only
    "qkv_bias": lambda m: m.qkv.bias is not None,
    "proj_bias": lambda m: m.proj.bias is not None,
    "feat_dim": lambda m: m.to_qkv.in_features,  # RelativePositionalMultiHeadAttention
}
"""Constructor arguments a class does not keep as an attribute of their name, read from what they built. An
argument found nowhere (a norm_layer, a callable) is taken to be its default, which the rebuild then checks."""

_MISSING = object()


def qualified_name(module: nn.Module) -> str:
    """The class of `module` by the name that LibraryModule takes (its module and class name)."""
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


def library_params(module: nn.Module) -> dict[str, str] | None:
    """The LibraryModule values that rebuild `module` ({"cls": qualified name, "args": JSON keyword arguments,
    defaults left out}), or None where its arguments cannot be read back exactly."""
    name = qualified_name(module)
    if name_problem(name) is not None:
        return None
    args = _arguments(module)
    if args is None:
        return None
    try:
        text = json.dumps(args)
        parse_args(text)
        rebuilt = built(name, canonical_args(text))
    except (TypeError, ValueError, ParamError, ShapeError):  # not JSON, or the class refuses what was read
        return None
    if not _same_module(module, rebuilt):
        return None
    return {"cls": name, "args": text}


def _arguments(module: nn.Module) -> dict[str, Any] | None:
    """The constructor's arguments that differ from their defaults, read from `module`; None when a required
    one cannot be found."""
    args: dict[str, Any] = {}
    parameters = list(inspect.signature(type(module).__init__).parameters.values())[1:]  # after self
    for parameter in parameters:
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        value = _read(module, parameter.name)
        if value is _MISSING or callable(value) or isinstance(value, nn.Module | torch.Tensor):
            if parameter.default is inspect.Parameter.empty:
                return None
            continue
        if isinstance(value, tuple):
            value = list(value)
        if parameter.default is not inspect.Parameter.empty and _equal(value, parameter.default):
            continue
        args[parameter.name] = value
    return args


def _read(module: nn.Module, name: str) -> Any:
    if name in vars(module):
        return vars(module)[name]
    reader = _STORED_ELSEWHERE.get(name)
    if reader is None:
        return _MISSING
    try:
        return reader(module)
    except AttributeError:
        return _MISSING


def _equal(value: Any, default: Any) -> bool:
    """Equal and of one type: True is not 1, nor is 1.0 1 (an argument left out must be exactly its default)."""
    if isinstance(default, tuple):
        default = list(default)
    return type(value) is type(default) and value == default


def _same_module(original: nn.Module, rebuilt: nn.Module) -> bool:
    """Whether `rebuilt` is `original` but for its values: the same repr (submodules and their settings), the
    same state_dict keys and shapes, and the same plain attributes (a shift size, a scale)."""
    if repr(original) != repr(rebuilt):
        return False
    if _shapes(original) != _shapes(rebuilt):
        return False
    return _plain(original) == _plain(rebuilt)


def _shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {key: tuple(tensor.shape) for key, tensor in module.state_dict().items()}


def _plain(module: nn.Module) -> dict[str, Any]:
    """The attributes that are plain values (numbers, strings, lists of them), not modules, tensors, nor the
    training flag (the rebuilt module is in eval mode)."""
    return {
        key: value
        for key, value in vars(module).items()
        if not key.startswith("_")
        and key != "training"
        and isinstance(value, bool | int | float | str | list | tuple | type(None))
    }
