"""What maps to what: the tables from torch's modules, functions and tensor methods to catalogue blocks, and the
binding of a call's arguments to a block's parameters.

A submodule goes to the block whose `ModuleCode.cls` names its exact class (or a library class in
`library_modules.BLOCK_CLASSES`), with the constructor attributes read back into the block's ParamSpecs by name (a
few readers cover names that differ); functions and tensor methods go through `FUNCTIONS` and the smaller tables
`call_mapping.Builder` consults. A call that fits no block raises `Unmapped`, saying why.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from netbuilder.blocks import BLOCKS
from netbuilder.blocks.spec import MODEL, BlockSpec
from netbuilder.importers.library_modules import BLOCK_CLASSES, LEAF_CLASSES, library_params, qualified_name
from netbuilder.importers.own_classes import own_block

# Submodule attributes whose names or forms differ from the block's ParamSpecs (or from the keywords of
# `ModuleCode.fixed`, such as an encoder layer's batch_first, which only its attention keeps): block -> name -> reader.
_MODULE_READERS: dict[str, dict[str, Callable[[nn.Module], Any]]] = {
    "LayerNorm": {
        "dims": lambda m: len(m.normalized_shape),
        "bias": lambda m: getattr(m, "bias", None) is not None or not m.elementwise_affine,
    },
    "PReLU": {"per_channel": lambda m: m.num_parameters > 1, "init": lambda m: 0.25},
    "MultiheadAttention": {"bias": lambda m: m.in_proj_bias is not None},
    "PositionalEmbedding": {"max_length": lambda m: m.weight.shape[0]},
    "TransformerEncoderLayer": {
        "nhead": lambda m: m.self_attn.num_heads,
        "dim_feedforward": lambda m: m.linear1.out_features,
        "dropout": lambda m: m.dropout.p,
        "activation": lambda m: {1: "relu", 2: "gelu"}.get(m.activation_relu_or_gelu, "other"),
        "layer_norm_eps": lambda m: m.norm1.eps,
        "bias": lambda m: m.linear1.bias is not None,
        "batch_first": lambda m: m.self_attn.batch_first,
    },
}


@dataclass(frozen=True)
class _Function:
    """A function or tensor method that has a block: which one, and how its arguments after the tensor bind.

    `args` names the positional arguments after the input in the function's own order (None: not a block
    parameter, ignored); `torch_defaults` are the function's defaults where they differ from the block's.
    """

    block: str
    args: tuple[str | None, ...] = ()
    torch_defaults: Mapping[str, Any] = field(default_factory=dict)


_ACTIVATIONS = {
    "ReLU": (F.relu, torch.relu, "relu"),
    "Sigmoid": (F.sigmoid, torch.sigmoid, "sigmoid"),
    "Tanh": (F.tanh, torch.tanh, "tanh"),
    "SiLU": (F.silu,),
    "Mish": (F.mish,),
    "Hardswish": (F.hardswish,),
    "ReLU6": (F.relu6,),
    "Hardsigmoid": (F.hardsigmoid,),
    "SELU": (F.selu, torch.selu),
    "Softsign": (F.softsign,),
    "LogSigmoid": (F.logsigmoid,),
    "Tanhshrink": (F.tanhshrink,),
}
_WINDOW = ("kernel_size", "stride", "padding")

FUNCTIONS: dict[Any, _Function] = {
    **{target: _Function(block) for block, targets in _ACTIVATIONS.items() for target in targets},
    F.gelu: _Function("GELU", ("approximate",)),
    F.leaky_relu: _Function("LeakyReLU", ("negative_slope",)),
    F.elu: _Function("ELU", ("alpha",)),
    F.softmax: _Function("Softmax", ("dim",)),
    torch.softmax: _Function("Softmax", ("dim",)),
    "softmax": _Function("Softmax", ("dim",)),
    F.log_softmax: _Function("LogSoftmax", ("dim",)),
    torch.log_softmax: _Function("LogSoftmax", ("dim",)),
    "log_softmax": _Function("LogSoftmax", ("dim",)),
    F.hardtanh: _Function("Hardtanh", ("min_val", "max_val")),
    F.celu: _Function("CELU", ("alpha",)),
    F.softplus: _Function("Softplus", ("beta", "threshold")),
    F.softshrink: _Function("Softshrink", ("lambd",)),
    F.hardshrink: _Function("Hardshrink", ("lambd",)),
    F.threshold: _Function("Threshold", ("threshold", "value")),
    F.rrelu: _Function("RReLU", ("lower", "upper", None)),
    F.softmin: _Function("Softmin", ("dim",)),
    F.glu: _Function("GLU", ("dim",)),
    torch.unsqueeze: _Function("Unsqueeze", ("dim",)),
    "unsqueeze": _Function("Unsqueeze", ("dim",)),
    F.dropout: _Function("Dropout", ("p", None, None)),
    F.max_pool1d: _Function("MaxPool1d", (*_WINDOW, "dilation", "ceil_mode")),
    F.max_pool2d: _Function("MaxPool2d", (*_WINDOW, "dilation", "ceil_mode")),
    F.avg_pool1d: _Function("AvgPool1d", (*_WINDOW, "ceil_mode", "count_include_pad")),
    F.avg_pool2d: _Function("AvgPool2d", (*_WINDOW, "ceil_mode", "count_include_pad")),
    F.adaptive_avg_pool1d: _Function("AdaptiveAvgPool1d", ("output_size",)),
    F.adaptive_avg_pool2d: _Function("AdaptiveAvgPool2d", ("output_size",)),
    F.adaptive_max_pool2d: _Function("AdaptiveMaxPool2d", ("output_size",)),
    torch.flatten: _Function("Flatten", ("start_dim", "end_dim"), {"start_dim": 0}),
    "flatten": _Function("Flatten", ("start_dim", "end_dim"), {"start_dim": 0}),
}
MERGES = {
    operator.add: "Add",
    operator.iadd: "Add",
    torch.add: "Add",
    "add": "Add",
    operator.mul: "Multiply",
    operator.imul: "Multiply",
    torch.mul: "Multiply",
    "mul": "Multiply",
}
REDUCTIONS = {
    **dict.fromkeys((torch.mean, "mean"), "Mean"),
    **dict.fromkeys((torch.sum, "sum"), "Sum"),
    **dict.fromkeys((torch.amax, "amax"), "Max"),
    **dict.fromkeys((torch.amin, "amin"), "Min"),
}
# max(x, dim) and min(x, dim) give (values, indices): the values are the Max or Min block
EXTREMES = {**dict.fromkeys((torch.max, "max"), "Max"), **dict.fromkeys((torch.min, "min"), "Min")}
RESHAPES = (torch.reshape, "reshape", "view")
PERMUTES = (torch.permute, "permute")
TRANSPOSES = (torch.transpose, "transpose", torch.swapaxes, "swapaxes", torch.swapdims, "swapdims")
PASS_THROUGH = ("contiguous",)  # the same values: the next block reads its input
SPLITS = (torch.chunk, "chunk", torch.split, "split", torch.unbind, "unbind")
STOCHASTIC_DEPTH = "torchvision.ops.stochastic_depth.stochastic_depth"  # named, so torchvision need not load
_IGNORED_KEYWORDS = frozenset({"inplace", "training", "return_indices", "_stacklevel"})

_MODULE_BLOCKS: dict[type, BlockSpec] = {
    getattr(nn, spec.module.cls.removeprefix("nn.")): spec
    for spec in BLOCKS.values()
    if spec.role == MODEL and spec.module is not None and hasattr(nn, spec.module.cls.removeprefix("nn."))
}


class Unmapped(Exception):
    """Why one call has no block (caught per call, so the rest still imports)."""


def block_for(sub: nn.Module) -> tuple[str, dict[str, Any]]:
    """The block a submodule is, with its parameters; Unmapped where no block is it."""
    spec = _MODULE_BLOCKS.get(type(sub)) or BLOCKS.get(BLOCK_CLASSES.get(qualified_name(sub)) or own_block(sub) or "")
    if spec is None and qualified_name(sub) in LEAF_CLASSES:
        params = library_params(sub)
        if params is None:
            raise Unmapped("its constructor arguments cannot be read back from it exactly")
        return "LibraryModule", params
    if spec is None:
        raise Unmapped("no netbuilder block is this module")
    readers = _MODULE_READERS.get(spec.type, {})
    for key, value in spec.module.fixed.items():
        if (readers[key](sub) if key in readers else getattr(sub, key, value)) != value:
            raise Unmapped(f"the {spec.type} block always has {key}={value!r}")
    return spec.type, _module_params(spec, sub)


def _module_params(spec: BlockSpec, sub: nn.Module) -> dict[str, Any]:
    """The block's parameters read from the submodule's attributes; inferred sizes stay auto (they follow
    the incoming tensor, so the imported graph stays editable)."""
    readers = _MODULE_READERS.get(spec.type, {})
    params: dict[str, Any] = {}
    for param in spec.params:
        if param.inferred:
            continue
        if param.name in readers:
            value = readers[param.name](sub)
        elif hasattr(sub, param.name):
            value = getattr(sub, param.name)
        else:
            continue
        params[param.name] = _canonical(param.kind, param.name, value)
    return params


def bind(function: _Function, node: torch.fx.Node) -> dict[str, Any]:
    spec = BLOCKS[function.block]
    names = {p.name: p for p in spec.params}
    values: dict[str, Any] = dict(function.torch_defaults)
    for name, value in zip(function.args, node.args[1:], strict=False):
        if name is not None:
            values[name] = value
    for key, value in node.kwargs.items():
        if key in names:
            values[key] = value
        elif key not in _IGNORED_KEYWORDS and value is not None:
            raise Unmapped(f"the {function.block} block has no {key}")
    return {name: _canonical(names[name].kind, name, value) for name, value in values.items()}


def _canonical(kind: str, name: str, value: Any) -> Any:
    """A torch attribute in the form a ParamSpec takes: a parameter tensor as "has one", (3, 3) as 3."""
    if isinstance(value, torch.Tensor | type(None)) and kind == "bool":
        return value is not None
    if isinstance(value, torch.fx.Node):
        raise Unmapped(f"{name} is computed in forward(), not a constant")
    if kind in ("int", "float") and isinstance(value, tuple | list):
        if len(set(value)) != 1:
            raise Unmapped(f"{name} {tuple(value)} differs between dimensions; the block takes one value")
        value = value[0]
    if kind == "ints" and isinstance(value, int):
        value = (value,)
    return value


def argument(node: torch.fx.Node, position: int, name: str, default: Any = None) -> Any:
    """A call's argument given by position (counting the tensor as 0) or by keyword."""
    return node.args[position] if len(node.args) > position else node.kwargs.get(name, default)


def flat_args(node: torch.fx.Node) -> list[Any]:
    flat: list[Any] = []
    torch.fx.node.map_aggregate((node.args, node.kwargs), flat.append)
    return flat
