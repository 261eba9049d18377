"""A dataset's loader module read as text, never imported: the pure core may not import torch.

The loaders are real modules (netbuilder/data/loaders/<name>.py), linted and imported by the tests. Their
layout (see that package's docstring) lets the catalogue take them apart: the imports, for train.py's one
import block; the names of the settings at the top, whose values the project gives; and the code below them,
which train.py and the app run under those values.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

LOADERS_FOLDER = Path(__file__).resolve().parent.parent / "data" / "loaders"

_GIVEN_BY_TRAIN_SCRIPT = ("from __future__ import annotations", "import torch")


class LoaderLayoutError(ValueError):
    """A loader module is not laid out as docstring, imports, settings, code (a bug in netbuilder)."""


@dataclass(frozen=True)
class LoaderText:
    """One loader module, taken apart: `imports` (without those train.py always has), the `settings` names
    in the order the module sets them, and the `code` after them, as written."""

    imports: tuple[str, ...]
    settings: tuple[str, ...]
    code: str


@functools.cache
def read_loader(name: str) -> LoaderText:
    """The loader module `name` (read once per process)."""
    path = LOADERS_FOLDER / f"{name}.py"
    text = path.read_text(encoding="utf-8")
    body = ast.parse(text, filename=str(path)).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the module's docstring stays in the module
    imports: list[str] = []
    end = 0
    while body and isinstance(body[0], ast.Import | ast.ImportFrom):
        line = ast.unparse(body[0])
        if line not in _GIVEN_BY_TRAIN_SCRIPT:
            imports.append(line)
        end, body = body[0].end_lineno, body[1:]
    settings: list[str] = []
    while body and (names := _setting_names(body[0])):
        settings += names
        end, body = body[0].end_lineno, body[1:]
    if not body:
        raise LoaderLayoutError(f"{path} should hold a docstring, imports, settings in capitals, then code")
    code = "\n".join(text.splitlines()[end:]).strip("\n")
    return LoaderText(tuple(imports), tuple(settings), code + "\n")


def _setting_names(statement: ast.stmt) -> list[str]:
    """The names `statement` sets if it is a setting (`NAME = value` or `A, B = a, b`), else none."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return []
    target = statement.targets[0]
    names = target.elts if isinstance(target, ast.Tuple) else [target]
    if not all(isinstance(name, ast.Name) and name.id.isupper() for name in names):
        return []
    return [name.id for name in names]
