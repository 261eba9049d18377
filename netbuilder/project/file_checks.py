"""The small checks every reader of a netbuilder file makes on parsed JSON, each naming the field it refuses.

A project file, a block file and the definitions inside both are read with these, so one kind of mistake gets one
message wherever it is: `graph.nodes[3].label: expected a non-empty string, got 7`. Values are shown short and by
kind (shown_value), never whole: a damaged file may hold a string of megabytes or lists nested a thousand deep.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable
from typing import Any

from netbuilder.graph.limits import unencodable_char
from netbuilder.project.errors import ProjectError
from netbuilder.quoting import QUOTE_CHARS, shown


def expect_object(value: Any, where: str) -> dict[str, Any]:
    """`value` when it is a JSON object, else ProjectError at `where`."""
    if not isinstance(value, dict):
        raise ProjectError(where, f"expected an object, got {shown_value(value)}")
    return value


def expect_list(value: Any, where: str) -> list[Any]:
    """`value` when it is a JSON list, else ProjectError at `where`."""
    if not isinstance(value, list):
        raise ProjectError(where, f"expected a list, got {shown_value(value)}")
    return value


def expect_text(value: Any, where: str) -> str:
    """`value` when it is a string with more than white space in it, else ProjectError at `where`."""
    if not isinstance(value, str) or not value.strip():
        raise ProjectError(where, f"expected a non-empty string, got {shown_value(value)}")
    return value


def check_keys(obj: dict[str, Any], where: str, allowed: tuple[str, ...], *, required: Iterable[str]) -> None:
    """Refuse a key given twice, an unknown key (a typo, or a newer writer) and a missing required one."""
    refuse_duplicates(obj, where)
    for key in obj:
        if key not in allowed:
            raise ProjectError(
                field_path(where, key),
                f"unknown field (expected {', '.join(allowed)}){did_you_mean(key, allowed)}",
            )
    for key in required:
        if key not in obj:
            raise ProjectError(field_path(where, key), "missing")


def refuse_duplicates(obj: dict[str, Any], where: str) -> None:
    """ProjectError naming the first key `obj` (a parsed JSON object) was given twice, if any."""
    duplicates = getattr(obj, "duplicates", ())
    if duplicates:
        raise ProjectError(field_path(where, duplicates[0]), "given more than once")


def field_path(where: str, key: Any) -> str:
    """The path of `key` inside `where`: `a.b`, or `a["odd key"]` for a key that is not a plain name; a long
    key is cut to its start, and a character no file can hold shows as an escape."""
    key = str(key)[: QUOTE_CHARS + 1]
    if not key.isidentifier():
        shown = json.dumps(key, ensure_ascii=unencodable_char(key) is not None)
        return f"{where}[{shown if len(shown) <= QUOTE_CHARS else shown[: QUOTE_CHARS - 4] + '...' + chr(34)}]"
    return f"{where}.{key if len(key) <= QUOTE_CHARS else key[: QUOTE_CHARS - 3] + '...'}" if where else key


# Longer than any name we suggest (block types, fields, parameters); difflib's time grows with the product of
# the lengths, and a 50 MB block name took 20 s.
_SUGGEST_UP_TO = 64


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the choice closest to a misspelt `word`, or nothing."""
    if len(word) > _SUGGEST_UP_TO:
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def is_int(value: Any) -> bool:
    """Whether `value` is a JSON integer (a bool is not one, though Python counts it as an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """Whether `value` is a JSON number that fits a float and is neither infinite nor NaN."""
    return isinstance(value, int | float) and not isinstance(value, bool) and not _too_big(value)


def _too_big(value: Any) -> bool:
    """Whether a number (or any number in a list) is infinite, NaN, or an integer beyond float range."""
    if isinstance(value, list):
        return any(_too_big(v) for v in value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return not math.isfinite(value)
    except OverflowError:
        return True


def shown_value(value: Any) -> str:
    """A value as a message shows it: short, and by kind for containers a reader should go and look at.

    Never the repr of a whole container (a file may nest lists a thousand deep) nor a whole string or
    number: at most QUOTE_CHARS characters, with escapes for characters a terminal cannot print."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        if len(value) <= 8 and not any(isinstance(v, dict | list) for v in value):
            text = "[" + ", ".join(shown_value(v) for v in value) + "]"
            if len(text) <= 40:
                return text
        return f"a list of {len(value)} items"
    return shown(value)
