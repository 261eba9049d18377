"""How a message quotes what a person (or a file) gave: never the whole of it, at most a short prefix.

A refusal repeats the value it refuses so a person can find it, but a value may be 10 MB long, hold control
characters or half a UTF-16 pair: every message in netbuilder quotes through these, so none echoes more than
QUOTE_CHARS characters. Standard library only, so every package (the pure ones first) can use it.
"""

from __future__ import annotations

from typing import Any

QUOTE_CHARS = 60  # characters of a value that a message repeats, then "..."


def cut(text: str) -> str:
    """`text` as it is, cut to QUOTE_CHARS characters and "..." (for text that is already printable)."""
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 3] + "..."


def quoted(text: str) -> str:
    """`text` in quotes by its repr (control and lone surrogate characters show as escapes), cut."""
    return cut(repr(text[: QUOTE_CHARS + 1]))


def shown(value: Any) -> str:
    """Any value by its repr on one line, cut (a number of 5,000 digits, a list read from a file)."""
    if isinstance(value, str):
        return quoted(value)
    try:
        return cut(" ".join(repr(value).split()))
    except ValueError:  # an integer of more than 4,300 digits has no repr; its size is what a person needs
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
