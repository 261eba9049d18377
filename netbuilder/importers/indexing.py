"""Indexing as blocks: `x[:, 0]`, `x[..., ::2]` and the pieces of `chunk`, `split` and `unbind` as Slice and Select
blocks, and the tensor whose batch size a size such as `x.shape[0]` is (what Expand takes)."""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.fx

from netbuilder.importers.call_tables import Unmapped, argument
from netbuilder.importers.tracing import shape


def batch_of(size: Any) -> torch.fx.Node | None:
    """The tensor whose batch size `size` is: `x.shape[0]`, `x.size(0)`, `x.size()[0]`; None otherwise."""
    if not isinstance(size, torch.fx.Node):
        return None
    if size.target == "size" and size.args[1:2] == (0,):
        return size.args[0]
    if size.target is operator.getitem and size.args[1] == 0 and isinstance(size.args[0], torch.fx.Node):
        holder = size.args[0]
        whole_shape = holder.target is getattr and holder.args[1] == "shape"
        if whole_shape or (holder.target == "size" and not holder.args[1:]):
            return holder.args[0]
    return None


def piece(split: torch.fx.Node, i: int) -> list[tuple[str, dict[str, Any]]]:
    """Piece `i` of `x.chunk(n, dim)`, `torch.split(x, size or sizes, dim)` or `x.unbind(dim)` as a block."""
    whole = shape(split.args[0])
    kind = split.target if isinstance(split.target, str) else split.target.__name__
    dim = argument(split, 1 if kind == "unbind" else 2, "dim", 0)
    if not isinstance(dim, int) or dim % len(whole) == 0:
        raise Unmapped("it splits the batch dimension" if isinstance(dim, int) else "its dim is computed")
    dim %= len(whole)
    if kind == "unbind":
        return [("Select", {"dim": dim, "index": i})]
    length = whole[dim]
    if kind == "chunk":
        each = -(-length // argument(split, 1, "chunks"))
        starts = list(range(0, length, each))
        bounds = [(start, min(start + each, length)) for start in starts]
    else:
        sizes = argument(split, 1, "split_size_or_sections", argument(split, 1, "split_size"))
        if isinstance(sizes, int):
            bounds = [(start, min(start + sizes, length)) for start in range(0, length, sizes)]
        else:
            ends = [sum(sizes[: k + 1]) for k in range(len(sizes))]
            bounds = list(zip([0, *ends[:-1]], ends, strict=True))
    start, end = bounds[i]
    return [("Slice", {"dim": dim, "start": start, "end": end, "step": 1})]


def subscript_steps(whole: tuple[int, ...], index: Any) -> list[tuple[str, dict[str, Any]]]:
    """`x[index]` as Slice and Select blocks, the last dimension first (so that a Select, which removes its
    dimension, leaves the numbers of those before it as they were)."""
    items = list(index) if isinstance(index, tuple) else [index]
    if any(item is None for item in items):
        raise Unmapped("it adds a dimension (None in the index)")
    if items.count(Ellipsis) > 1 or any(isinstance(item, torch.fx.Node) for item in items):
        raise Unmapped("it indexes with a tensor or a computed number")
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at : at + 1] = [slice(None)] * (len(whole) - len(items) + 1)
    steps: list[tuple[str, dict[str, Any]]] = []
    for dim in reversed(range(len(items))):
        item = items[dim]
        if item == slice(None):
            continue
        if dim == 0:
            raise Unmapped("it indexes the batch dimension")
        if isinstance(item, int):
            steps.append(("Select", {"dim": dim, "index": item}))
        elif isinstance(item, slice) and all(isinstance(v, int | None) for v in (item.start, item.stop, item.step)):
            steps.append(("Slice", {"dim": dim, "start": item.start or 0, "end": item.stop, "step": item.step or 1}))
        else:
            raise Unmapped(f"no block indexes with {item!r}")
    return steps
