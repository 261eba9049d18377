"""Long generated lines split as a person (or a formatter) would: a call too long for the line gets one argument
per line, each split again while still too long, with a trailing comma (nn.Sequential of many blocks)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

WIDTH = 120


def docstring_opening(text: str, indent: str = "", width: int = WIDTH) -> str:
    """A docstring's opening quotes and first sentence at `indent`, wrapped at spaces to `width`: a project's name
    or its file's path can be long, and the exported package keeps the linter's line length."""
    lines = textwrap.wrap(
        '"""' + text,
        width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines)


def wrapped(line: str, width: int = WIDTH) -> list[str]:
    """`line` (indented code) as one or more lines no longer than `width` where its calls allow."""
    if len(line) <= width:
        return [line]
    opening = _first_call(line)
    if opening is None:
        return [line]
    closing = _matching(line, opening)
    args = _arguments(line[opening + 1 : closing])
    if not args:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()))
    inner = indent + "    "
    lines = [line[: opening + 1]]
    for arg in args:
        lines += wrapped(f"{inner}{arg},", width)
    lines.append(indent + line[closing:])
    return lines


def _code(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, bracket depth before it) for each character of `text` from `start` that is code, not
    inside a string literal: the one scan the three below share."""
    depth, quote = 0, None
    for i in range(start, len(text)):
        c = text[i]
        if quote:
            quote = None if c == quote and text[i - 1] != "\\" else quote
            continue
        if c in "'\"":
            quote = c
            continue
        yield i, c, depth
        depth += (c in "([{") - (c in ")]}")


def _first_call(line: str) -> int | None:
    """The index of the first "(" that opens a call's arguments (outside strings)."""
    for i, c, _ in _code(line):
        if c == "(" and i and (line[i - 1].isalnum() or line[i - 1] in "_)"):
            return i
    return None


def _matching(line: str, opening: int) -> int:
    """The index of the bracket that closes the one at `opening` (the line's end if none does)."""
    for i, c, depth in _code(line, opening):
        if c in ")]}" and depth == 1:
            return i
    return len(line) - 1


def _arguments(text: str) -> list[str]:
    """The top-level arguments of a call, split at commas outside brackets and strings."""
    cuts = [i for i, c, depth in _code(text) if c == "," and depth == 0]
    parts = [text[a + 1 : b].strip() for a, b in zip([-1, *cuts], [*cuts, len(text)], strict=True)]
    return [part for part in parts if part]
