"""The torch.fx side of an import: trace a module, run the trace once for its shapes, and read back from it.

The module is traced symbolically in the mode asked for and run once on an example input (ShapeProp), so every
call is known with its arguments and the shapes it produced; each call's source line and submodule path, and the
submodules the trace never reaches, are read from the trace.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import traceback
from collections.abc import Iterable, Iterator

import torch
import torch.fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from netbuilder.blocks.tensor_type import LONG
from netbuilder.codegen.identifiers import class_name
from netbuilder.importers.library_modules import BLOCK_CLASSES, LEAF_CLASSES, qualified_name
from netbuilder.importers.own_classes import own_block


class ImportFailure(Exception):
    """The module cannot be imported at all (torch.fx cannot trace it, or the input shape does not fit it)."""


_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def scoped_name(node: torch.fx.Node) -> str:
    """A function call's path: the submodule whose forward() called it, then its own name (layer1.0.add), without
    the number fx adds to tell calls of the whole module apart (add_3): inside its submodule it is an add."""
    stack = node.meta.get("nn_module_stack") or {}
    scope = next(reversed(stack.values()))[0] if stack else ""
    return f"{scope}.{re.sub(r'_[0-9]+$', '', node.name)}" if scope else node.name


def classes(root: nn.Module, paths: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The class of every submodule that holds an imported node, and the name its definition takes, by path."""
    found: dict[str, tuple[str, str]] = {}
    for path in paths:
        parts = path.split(".")[:-1]
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix not in found:
                try:
                    cls = type(root.get_submodule(prefix)).__name__
                except AttributeError:  # a name fx made up, not a submodule
                    cls = "Block"
                # a container says nothing of what it holds: its attribute does (layer1 -> Layer1)
                named = parts[i - 1] if cls in _CONTAINERS and not parts[i - 1].isdigit() else cls
                found[prefix] = (cls, class_name(named, cls))
    return found


class _Tracer(torch.fx.Tracer):
    """fx's tracer, calling the library modules an import keeps whole (LEAF_CLASSES) or maps to a block
    (BLOCK_CLASSES, and the classes model.py defines: own_classes) instead of tracing into them."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        name = qualified_name(m)
        if name in LEAF_CLASSES or name in BLOCK_CLASSES or own_block(m) is not None:
            return True
        return super().is_leaf_module(m, module_qualified_name)


def trace(module: nn.Module) -> torch.fx.GraphModule:
    """`module` traced by torch.fx, keeping each call's stack trace; ImportFailure where fx cannot trace it, in
    one line naming the line of the model's code that stopped it (the traceback stays its __cause__)."""
    tracer = _Tracer()
    tracer.record_stack_traces = True
    try:
        graph = tracer.trace(module)
    except Exception as err:  # fx raises many kinds (TraceError, TypeError on Proxy control flow ...)
        raise ImportFailure(
            f"torch.fx cannot trace {type(module).__name__}: {_first_line(err)}{_raised_at(err)}"
        ) from err
    return torch.fx.GraphModule(tracer.root, graph)


class _ShapeProp(ShapeProp):
    """ShapeProp that remembers the node it runs, so a failure is told at that call's line."""

    running: torch.fx.Node | None = None

    def run_node(self, n: torch.fx.Node) -> object:
        self.running = n
        return super().run_node(n)


def _raised_at(err: BaseException) -> str:
    """'; at file.py:12: code' for the innermost frame of `err`'s traceback outside torch, or ''."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not f.filename.startswith(_TORCH_DIR)]
    return f"; at {frames[-1].filename}:{frames[-1].lineno}: {(frames[-1].line or '').strip()}" if frames else ""


def _first_line(err: BaseException) -> str:
    """The first line of what `err` says (torch's messages run to pages: a node dump, a C++ trace)."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


@contextlib.contextmanager
def mode(module: nn.Module, training: bool) -> Iterator[None]:
    """`module` in training mode or eval mode for the import, then every submodule back in its own mode (a
    model being trained may hold a frozen part in eval mode, which module.train() alone would lose)."""
    modes = [(sub, sub.training) for sub in module.modules()]
    module.train(training)
    try:
        yield
    finally:
        for sub, was_training in modes:
            sub.training = was_training


def untraced(module: nn.Module, traced: torch.fx.GraphModule) -> tuple[str, ...]:
    """The outermost submodules holding parameters or buffers that the trace never reaches: none of their
    descendants or ancestors is called and none of their tensors is read."""
    used = {str(n.target) for n in traced.graph.nodes if n.op in ("call_module", "get_attr")}
    reached = {".".join(parts[:i]) for parts in (u.split(".") for u in used) for i in range(1, len(parts) + 1)}
    found: list[str] = []
    for path, sub in module.named_modules():
        parts = path.split(".")
        inside = {".".join(parts[:i]) for i in range(1, len(parts))} & (used | set(found))  # called whole, or found
        if path and path not in reached and not inside and any(True for _ in (*sub.parameters(), *sub.buffers())):
            found.append(path)
    return tuple(found)


def propagate_shapes(module: nn.Module, traced: torch.fx.GraphModule, shape: tuple[int, ...], dtype: str) -> None:
    """Run once in eval mode, whichever mode was traced (BatchNorm refuses one sample per channel while training,
    and would update its running statistics), to record every shape; the caller restores the modes."""
    example = torch.zeros(shape, dtype=torch.long) if dtype == LONG else torch.randn(shape)
    traced.eval()
    runner = _ShapeProp(traced)
    try:  # ShapeProp prints the traceback itself before it raises: the message below says it in one line
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
            runner.propagate(example)
    except Exception as err:
        cause = err.__cause__ or err  # ShapeProp wraps the error in a dump of the node and its metadata
        node = runner.running
        where = f"; at {location(node)}" if node is not None else ""
        where += f" (self.{node.target})" if node is not None and node.op == "call_module" else ""
        raise ImportFailure(
            f"{type(module).__name__} does not run on an input of shape {shape}: {_first_line(cause)}{where}"
        ) from err


def shape(node: torch.fx.Node) -> tuple[int, ...] | None:
    """The tensor shape `node` produced, or None where it produced something else (an int, a tuple)."""
    meta = node.meta.get("tensor_meta")
    shape = getattr(meta, "shape", None)
    return tuple(shape) if shape is not None else None


_TORCH_DIR = os.path.dirname(torch.__file__)
_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in \S+\n\s*(?P<code>[^\n]*)')


def location(node: torch.fx.Node) -> str:
    """`file.py:12: code` for the line that made this call: the innermost frame outside torch, so a call inside a
    submodule's forward() is told at its own line, not at the line that calls the submodule; the fx node name
    where fx kept no trace, with the submodule it is in."""
    frames = [f for f in _FRAME.finditer(node.stack_trace or "") if not f["file"].startswith(_TORCH_DIR)]
    if frames:
        frame = frames[-1]
        return f"{frame['file']}:{frame['line']}: {frame['code'].strip()}"
    if node.op == "call_module":
        return f"self.{node.target}"
    stack = node.meta.get("nn_module_stack") or {}
    if stack:  # fx keeps no trace for some calls it makes itself (unpacking `b, c = x.shape`): say whose they are
        scope, cls = next(reversed(stack.values()))
        return f"{node.name} in self.{scope} ({getattr(cls, '__name__', cls)})"
    return f"node {node.name}"
