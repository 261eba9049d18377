"""One node as code: its constructor call and its forward statements.

Every value from a project reaches the code through `literal`, which only writes ints, floats, bools, None,
strings (a block's fixed choices, a LibraryModule's JSON strings), and tuples and lists of those, via repr():
nothing a file holds is pasted in raw. A LibraryModule's class name is written only once the block has checked
it (dotted public identifiers under torch or torchvision).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from netbuilder.blocks.spec import BlockSpec, ForwardContext, LibraryCall, ModuleCode


class Code(str):
    """An identifier codegen made itself (a composite class's constructor argument): written as it is."""


class UnsafeValueError(ValueError):
    """A value that cannot be written as a plain literal (the project file or a block is broken)."""


def literal(value: Any) -> str:
    """`value` as Python source, for the few types a parameter can hold."""
    if isinstance(value, Code):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeValueError(f"{value!r} is not a finite number")
        return repr(value)
    if isinstance(value, list):  # a LibraryModule's JSON list: torchvision's Swin copies its shift_size list
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        return _tuple_literal(value)
    raise UnsafeValueError(f"cannot write {type(value).__name__} {value!r} into code")


def _tuple_literal(values: tuple[Any, ...]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def constructor(spec: BlockSpec, p: Mapping[str, Any], concrete: Mapping[str, Any] | None = None) -> str:
    """The call that builds this block, e.g. `nn.Conv2d(1, 16, kernel_size=3, padding=1)`. In a composite
    class some values are Code (its arguments); `concrete` then holds one use's values, which decide what
    matters (a parameter's `when`)."""
    code = spec.module
    if code is None:
        raise ValueError(f"{spec.type} has no module")
    if code.library is not None:
        return library_constructor(code.library(p))
    args: list[str] = [code.leading] if code.leading else []
    args += [literal(p[name]) for name in code.positional]
    args += [f"{code.rename.get(name, name)}={value}" for name, value in _keywords(spec, code, p, concrete or p)]
    return f"{code.cls}({', '.join(args)})"


def library_constructor(call: LibraryCall, name: str = "") -> str:
    """A library class's constructor call, `ShiftedWindowAttention(dim=96, window_size=[7, 7])`: `name` is what
    the model module imported it as (by default its own name; a torch.nn class is `nn.<name>`)."""
    keywords = ", ".join(f"{key}={literal(value)}" for key, value in call.keywords)
    return f"{name or library_name(call)}({keywords})"


def library_name(call: LibraryCall) -> str:
    """The name a library class has in the generated code where nothing else takes it."""
    return f"nn.{call.name}" if call.module == "torch.nn" else call.name


def import_line(module: str, names: Sequence[str]) -> str:
    """`from <module> import <names>` (each name "Class" or "Class as Alias"), one name per line in parentheses
    past 120 characters, as isort writes it."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 120:
        return line
    return "\n".join([f"from {module} import (", *(f"    {name}," for name in names), ")"])


def constructor_params(spec: BlockSpec) -> frozenset[str]:
    """The parameters a block's constructor call can write (the others shape its forward code or its rule)."""
    code = spec.module
    if code is None:
        return frozenset()
    written = {p.name for p in spec.params} - set(code.omit)
    return frozenset(written | set(code.positional) | set(code.derived))


def _keywords(
    spec: BlockSpec, code: ModuleCode, p: Mapping[str, Any], concrete: Mapping[str, Any]
) -> list[tuple[str, str]]:
    grouped_members = {m for members in code.grouped.values() for m in members}
    skip = set(code.positional) | set(code.omit) | grouped_members
    written: list[tuple[str, str]] = []
    for param in spec.params:
        if param.name in skip or not param.relevant(concrete):
            continue
        value = p[param.name]
        if param.name in code.always or value != param.default:
            written.append((param.name, literal(value)))
    for name, members in code.grouped.items():
        values = tuple(p[m] for m in members)
        if values != tuple(spec.param(m).default for m in members):
            written.append((name, _tuple_literal(values)))
    for name, torch_default in code.derived.items():
        if p[name] != torch_default:
            written.append((name, literal(p[name])))
    written += [(name, literal(value)) for name, value in code.fixed.items()]
    return written


def forward_lines(spec: BlockSpec, ctx: ForwardContext) -> list[str]:
    """The statements of forward() for this node; the last assigns `ctx.out`."""
    if spec.forward is not None:
        return spec.forward(ctx)
    (arg,) = ctx.args.values()
    return [f"{ctx.out} = {ctx.attr}({arg})"]
