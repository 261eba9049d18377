"""Text as the window shows it: messages made into sentences, and plain text made safe for rich-text labels."""

from __future__ import annotations

import html


def sentence(text: str, capital: bool = True) -> str:
    """`text` as a sentence: trimmed, a capital first letter (unless `capital` is False: the sentence goes on
    after a colon), and a full stop unless it ends in one already (messages from the engine, the importers and
    the exporters are clauses: "there is no file at x")."""
    text = text.strip()
    if capital:
        text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def escape(text: str) -> str:
    """Plain text (a label, a class name, a message) for a rich-text label or tooltip: `<`, `>` and `&`
    shown as themselves rather than read as markup."""
    return html.escape(text, quote=False)
