"""torch as the shape oracle of LibraryModule: the named class built on the meta device and run there.

netbuilder.blocks has no torch, so the entry points call `install()`, which hands `measure` to the block. torch
itself is imported by the first measurement, not by `install()`: the window appears before torch has loaded,
and only a project holding a LibraryModule waits for it. Built modules and measurements are kept (by class,
arguments and input type), so that re-checking a graph after each edit costs a dictionary look-up.
"""

from __future__ import annotations

import functools
import importlib
import json
import types
from typing import TYPE_CHECKING

from netbuilder.blocks.errors import ShapeError
from netbuilder.blocks.library_module import Measured, install_measure, name_problem
from netbuilder.blocks.tensor_type import BATCH, FLOAT, LONG, TensorType, format_shape

if TYPE_CHECKING:
    from torch import nn

_BATCHES = (2, 3)
"""Two batch sizes: the output's first dimension must follow the input's, and the FLOPs' difference is one
sample's."""


def install() -> None:
    """Make torch the shape oracle of every LibraryModule in this process."""
    install_measure(measure)


def measure(name: str, args: str, x: TensorType) -> Measured:
    """What `name(**args)` gives for input `x`: output type, parameters, MACs per sample (ShapeError in one line
    when torch refuses). `args` is canonical JSON (blocks.library_module.canonical_args)."""
    return _measure(name, args, x)


def resolve(name: str) -> type[nn.Module]:
    """The class `name` names: under torch or torchvision, reached from its package through public attributes
    (nothing else is imported), an nn.Module subclass held by the module its name says, so that `from <module>
    import <class>` finds it."""
    from torch import nn

    problem = name_problem(name)
    if problem:
        raise ShapeError(problem, param="cls")
    parts = name.split(".")
    found: object = importlib.import_module(parts[0])
    holder = found
    for depth, part in enumerate(parts[1:], start=1):
        holder = found
        try:
            found = getattr(found, part)
        except Exception:  # missing, or a lazy attribute that cannot load (an optional dependency): none to use
            found = None
        if found is None:
            raise ShapeError(f"{_short(name)}: {'.'.join(parts[:depth])} has no {part}", param="cls")
    if not (isinstance(found, type) and issubclass(found, nn.Module)):
        raise ShapeError(f"{_short(name)} is not a module class (a subclass of torch.nn.Module)", param="cls")
    if not (isinstance(holder, types.ModuleType) and holder.__name__ == ".".join(parts[:-1])):
        raise ShapeError(
            f"{_short(name)}: name the class under the module that defines or exports it "
            f"({found.__module__}.{found.__name__})",
            param="cls",
        )
    return found


@functools.lru_cache(maxsize=256)
def built(name: str, args: str) -> nn.Module:
    """`name(**args)` on the meta device, in eval mode (kept: one build per class and arguments)."""
    import torch

    cls = resolve(name)
    try:
        with torch.device("meta"):
            module = cls(**json.loads(args))
    except Exception as err:  # torch's refusal of the arguments is the message
        raise ShapeError(f"{cls.__name__}{_call_words(args)} cannot be built: {_one_line(err)}", param="args") from None
    return module.eval()


@functools.lru_cache(maxsize=1024)
def _measure(name: str, args: str, x: TensorType) -> Measured:
    module = built(name, args)
    cls = type(module).__name__
    if not x.shape or x.shape[0] != BATCH:
        raise ShapeError(f"{cls} expects a tensor with a batch dimension first, but receives {x}", port="x")
    shapes, flops = [], []
    for batch in _BATCHES:
        out, counted = _run(module, x, batch)
        shapes.append(tuple(out.shape))
        flops.append(counted)
        dtype = {"torch.float32": FLOAT, "torch.int64": LONG}.get(str(out.dtype))
        if dtype is None:
            raise ShapeError(f"{cls} gives {out.dtype} values, which no block here takes", port="x")
    small, large = shapes
    if len(small) == 0 or small[0] != _BATCHES[0] or large[0] != _BATCHES[1] or small[1:] != large[1:]:
        raise ShapeError(f"{cls} does not keep the batch as the first dimension of its output", port="x")
    params = sum(p.numel() for p in module.parameters())
    return Measured(TensorType((BATCH, *small[1:]), dtype), params, max(0, (flops[1] - flops[0]) // 2))


def _run(module: nn.Module, x: TensorType, batch: int):
    """The module's output for a meta tensor of `x`'s type with `batch` samples, and the FLOPs torch counted."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    shape = tuple(batch if d == BATCH else int(d) for d in x.shape)
    dtype = torch.int64 if x.dtype == LONG else torch.float32
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = module(torch.empty(shape, dtype=dtype, device="meta"))
    except Exception as err:  # torch's refusal of the input is the message
        raise ShapeError(
            f"{type(module).__name__} refuses {format_shape(x.shape)}: {_one_line(err)}", port="x"
        ) from None
    if not isinstance(out, torch.Tensor):
        raise ShapeError(f"{type(module).__name__} returns {type(out).__name__}, not one tensor", port="x")
    return out, counter.get_total_flops()


def _call_words(args: str) -> str:
    words = ", ".join(f"{k}={v!r}" for k, v in json.loads(args).items())
    return _short(f"({words})")


def _one_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
