"""Labels become safe, unique Python identifiers; free text becomes safe docstring and comment text.

A label can hold anything a person types (quotes, newlines, keywords, emoji). Generated code only ever
contains identifiers made here, so no label can inject code, shadow a builtin we use, or overwrite an
nn.Module attribute (a submodule named `forward` or `training` would break the model).
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable

# Attributes and methods of torch.nn.Module (torch 2.11 - 2.14): a submodule must not replace any of them.
# tests/test_codegen_identifiers.py checks this list against the installed torch.
MODULE_ATTRIBUTES = frozenset(
    {
        "T_destination",
        "add_module",
        "apply",
        "bfloat16",
        "buffers",
        "call_super_init",
        "children",
        "compile",
        "cpu",
        "cuda",
        "double",
        "dump_patches",
        "eval",
        "extra_repr",
        "float",
        "forward",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "half",
        "ipu",
        "load_state_dict",
        "modules",
        "mtia",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "parameters",
        "register_backward_hook",
        "register_buffer",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_parameter",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "requires_grad_",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "state_dict",
        "to",
        "to_empty",
        "train",
        "training",
        "type",
        "xpu",
        "zero_grad",
    }
)

# Names the generated code itself uses: never a submodule, argument or variable.
GENERATED_NAMES = frozenset(
    {
        "self",
        "torch",
        "nn",
        "F",
        "x",
        "super",
        "model",
        "math",
        "args",
        "main",
        "loss",
        "criterion",
        "optimizer",
        "scheduler",
        "device",
        "Tensor",
    }
)

RESERVED = MODULE_ATTRIBUTES | GENERATED_NAMES | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


def identifier(text: str, fallback: str = "node") -> str:
    """`text` as a snake_case identifier: ASCII letters, digits and underscores, not starting with a digit. A
    label that is one already is kept as written (Mixed_5b, an imported module's attribute, keeps its name, and
    so its state_dict keys)."""
    if text.isascii() and text.isidentifier() and not text.startswith("_"):
        return text
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", ascii_text).lower()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    return name


MAX_CLASS_CHARS = 48
"""The longest class name made from a text: a long project name gives its first words (the docstring keeps the
whole name), so that the scripts' lines that name the class keep within the linter's line length."""


def class_name(text: str, fallback: str = "Model") -> str:
    """`text` as a CamelCase class name, keeping capitals already there ("digits CNN" -> DigitsCNN); of a long
    text, the words that fit in MAX_CLASS_CHARS."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = [w[0].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", ascii_text)]
    name = ""
    for word in words:
        if name and len(name) + len(word) > MAX_CLASS_CHARS:
            break
        name += word
    name = name[:MAX_CLASS_CHARS]
    if not name:
        return fallback
    if name[0].isdigit():
        name = fallback + name
    return name if not keyword.iskeyword(name) else name + "_"


def script_names(model_source: str, scripts: Iterable[str], model_class: str) -> frozenset[str]:
    """Every name the generated model module and `scripts` (train.py, predict.py ...) bind anywhere: imports,
    definitions, assignments, arguments, loop, exception and match targets; and Python's builtins. The model's
    own class is left out (the scripts' imports from model, and its definition). Read from the sources
    themselves, so that a name a script comes to use is never the model's class name (a project named "Image"
    would replace PIL's Image in train.py). Of the model module, only what comes before its class is read:
    the class's own names are made by Namer, all lower case, which a class name never is; a 1,000-layer
    forward() would take longer to parse than to generate."""
    header = model_source[: model_source.index(f"\nclass {model_class}(")]
    return frozenset(set(dir(builtins)) | _bound([header, *scripts]))


def _bound(sources: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                if not (isinstance(node, ast.ImportFrom) and node.module == "model"):
                    names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
                names.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                names.add(node.rest)
    return names


def unused_class_name(model_class: str, taken: frozenset[str]) -> str:
    """`model_class` with "Model" after it (Image -> ImageModel), and a number if that is taken too."""
    name, n = f"{model_class}Model", 2
    while name in taken:
        name, n = f"{model_class}Model{n}", n + 1
    return name


class Namer:
    """Hands out unique identifiers in the order asked: a reserved word gets a trailing underscore
    (forward -> forward_), a repeat gets a number (conv -> conv_2)."""

    def __init__(self, reserved: frozenset[str] = RESERVED) -> None:
        self._reserved = reserved
        self._taken: set[str] = set()

    def take(self, text: str, fallback: str = "node") -> str:
        base = identifier(text, fallback)
        if base in self._reserved:
            base = f"{base}_"
        name, n = base, 2
        while name in self._taken or name in self._reserved:
            name = f"{base.rstrip('_')}_{n}"
            n += 1
        self._taken.add(name)
        return name


def safe_text(text: str, limit: int = 120) -> str:
    """Free text fit for a docstring or a comment: one line, no quotes, backslashes or control characters."""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    cleaned = cleaned.replace("\\", "/").replace('"', "'").replace("'''", "'")
    cleaned = " ".join(cleaned.split())
    return cleaned[:limit]
