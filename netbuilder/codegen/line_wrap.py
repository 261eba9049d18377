"""Long generated lines split as a person (or a formatter) would: a call too long for the line gets one argument
per line, each split again while still too long, with a trailing comma (nn.Sequential of many blocks)."""

from __future__ import annotations

WIDTH = 120


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


def _first_call(line: str) -> int | None:
    """The index of the first "(" that opens a call's arguments (outside strings)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote and line[i - 1] != "\\" else quote
        elif c in "'\"":
            quote = c
        elif c == "(" and i and (line[i - 1].isalnum() or line[i - 1] in "_)"):
            return i
    return None


def _matching(line: str, opening: int) -> int:
    depth, quote = 0, None
    for i in range(opening, len(line)):
        c = line[i]
        if quote:
            quote = None if c == quote and line[i - 1] != "\\" else quote
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return len(line) - 1


def _arguments(text: str) -> list[str]:
    """The top-level arguments of a call, split at commas outside brackets and strings."""
    args, depth, quote, start = [], 0, None, 0
    for i, c in enumerate(text):
        if quote:
            quote = None if c == quote and text[i - 1] != "\\" else quote
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return [a for a in [*args, last] if a]
