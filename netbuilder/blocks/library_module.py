"""LibraryModule: a torch or torchvision class named by its qualified name, built with JSON keyword arguments.

For the few library modules that would take many blocks and that no person would draw (torchvision's
shifted-window attention and patch merging in Swin, MaxViT's relative positional attention): the importer keeps
them whole, and the generated code imports the class and calls its constructor, so the exported model is
torchvision's own. Only names under `torch.` or `torchvision.` are taken, each part a public identifier, and the
arguments are JSON literals (numbers, strings, booleans, null, lists), never code: nothing a project file holds
is executed, and both reach the generated code only after these checks, through repr.

The shape, parameter and MAC counts are torch's, on the meta device. This package has no torch, so a torch-side
module (netbuilder.runtime.library_shapes) installs the function that measures (`install_measure`); the
entry points install it, and until then the rule says that this block's shape needs torch.
"""

from __future__ import annotations

import json
import keyword
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from netbuilder.blocks.errors import ParamError, ShapeError
from netbuilder.blocks.spec import MAX_TEXT, BlockSpec, LibraryCall, ModuleCode, ParamSpec, RuleContext
from netbuilder.blocks.tensor_type import TensorType

ROOTS = ("torch", "torchvision")
"""The packages a LibraryModule may name a class of."""

MAX_NESTING = 4
"""How deeply lists may nest in the arguments (torchvision's take lists of numbers at most)."""


@dataclass(frozen=True)
class Measured:
    """What torch found for one class, arguments and input: the output type, parameters, MACs per sample."""

    output: TensorType
    params: int
    macs: int


Measure = Callable[[str, str, TensorType], Measured]
"""measure(qualified name, canonical JSON arguments, input type) -> Measured, or ShapeError in one line."""

_measure: Measure | None = None


def install_measure(measure: Measure) -> None:
    """Make `measure` the shape oracle of every LibraryModule (netbuilder.runtime.library_shapes.install)."""
    global _measure
    _measure = measure


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a LibraryModule's class (None when it can): dotted public identifiers under torch
    or torchvision. Whether it names an nn.Module subclass is torch's to say (the rule asks it)."""
    parts = name.split(".")
    if parts[0] not in ROOTS or len(parts) < 2:
        return f"expected a class of torch or torchvision such as torch.nn.GELU, got {_short(name)}"
    for part in parts:
        if not part.isidentifier() or not part.isascii() or keyword.iskeyword(part) or part.startswith("_"):
            return f"expected dotted public names (letters, digits, _) such as torch.nn.GELU, got {_short(name)}"
    return None


def parse_args(text: str) -> dict[str, Any]:
    """The keyword arguments `text` holds: a JSON object whose keys are argument names and whose values are
    numbers, strings, booleans, null or lists of them. Raises ParamError saying what is wrong."""
    if len(text) > MAX_TEXT:
        raise ParamError(f"expected at most {MAX_TEXT} characters of JSON, got {len(text)}")
    try:
        value = json.loads(text or "{}", parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as err:
        raise ParamError(f'expected a JSON object such as {{"dim": 96}}: {_first_line(err)}') from None
    if not isinstance(value, dict):
        raise ParamError(f'expected a JSON object such as {{"dim": 96}}, got {_short(text)}')
    for key, item in value.items():
        if not key.isidentifier() or not key.isascii() or keyword.iskeyword(key):
            raise ParamError(f"expected argument names, got {_short(key)}")
        _check_value(key, item, 0)
    return value


def canonical_args(text: str) -> str:
    """The arguments in one spelling (sorted keys, no spaces), so that equal ones share torch's measurement."""
    return json.dumps(parse_args(text), sort_keys=True, separators=(",", ":"))


def library_call(p: Mapping[str, Any]) -> LibraryCall:
    """The import and constructor call that build this node (its values already validated)."""
    module, _, name = p["cls"].rpartition(".")
    return LibraryCall(module, name, tuple(parse_args(p["args"]).items()))


def _check_value(key: str, value: Any, depth: int) -> None:
    if isinstance(value, list):
        if depth >= MAX_NESTING:
            raise ParamError(f"{key}: lists nest at most {MAX_NESTING} deep")
        for item in value:
            _check_value(key, item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ParamError(f"{key}: expected a finite number, got {value}")
    elif value is not None and not isinstance(value, bool | int | float | str):
        raise ParamError(f"{key}: expected a number, string, boolean, null or list, got a JSON object")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: JSON readers keep the last of two silently, a call would refuse."""
    found = dict(pairs)
    if len(found) < len(pairs):
        twice = next(key for i, (key, _) in enumerate(pairs) if key in dict(pairs[:i]))
        raise ValueError(f"{_short(twice)} is given twice")
    return found


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _first_line(err: BaseException) -> str:
    return "nested too deeply" if isinstance(err, RecursionError) else str(err).splitlines()[0]


def _short(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _args_problem(text: str) -> str | None:
    try:
        parse_args(text)
    except ParamError as err:
        return str(err)
    return None


def _measured(p: Mapping[str, Any], x: TensorType) -> Measured:
    if _measure is None:
        raise ShapeError(
            f"{p['cls']}: a LibraryModule's shape is found by torch, which has not been loaded here "
            "(the netbuilder command and window load it)",
            param="cls",
        )
    return _measure(p["cls"], canonical_args(p["args"]), x)


def _rule(ctx: RuleContext) -> dict[str, TensorType]:
    return {"y": _measured(ctx.p, ctx.input("x")).output}


def _count(what: str) -> Callable[[Mapping[str, Any], Mapping[str, TensorType], Mapping[str, TensorType]], int]:
    """A counter reading torch's measurement, which the rule has just made (the oracle keeps it)."""

    def count(p: Mapping[str, Any], inputs: Mapping[str, TensorType], outputs: Mapping[str, TensorType]) -> int:
        return getattr(_measured(p, inputs["x"]), what)

    return count


LIBRARY_MODULE = BlockSpec(
    type="LibraryModule",
    category="Core",
    doc="A torch or torchvision module by its qualified name, with JSON constructor arguments.\n"
    "For library layers no one would draw block by block (Swin's shifted-window attention); the code imports "
    "it.",
    params=(
        ParamSpec(
            "cls",
            "text",
            "torch.nn.Identity",
            "The class, by its full name under torch or torchvision "
            "(torchvision.models.swin_transformer.ShiftedWindowAttention).",
            check=name_problem,
        ),
        ParamSpec(
            "args",
            "text",
            "{}",
            'Its constructor\'s keyword arguments as a JSON object: {"dim": 96, "window_size": [7, 7]}.',
            check=_args_problem,
        ),
    ),
    shown_type=lambda p: str(p.get("cls", "")).rpartition(".")[2] or "LibraryModule",
    rule=_rule,
    count_params=_count("params"),
    count_macs=_count("macs"),
    module=ModuleCode("", library=library_call),
    label_prefix="module",
)

SPECS = (LIBRARY_MODULE,)
