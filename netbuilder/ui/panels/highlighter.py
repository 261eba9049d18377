"""Python syntax colours for the code preview, readable on light and dark backgrounds."""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QFont, QPalette, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from netbuilder.ui.widgets.colors import mix

# (light background, dark background) per kind of token; chosen for contrast on the editor's Base colour.
COLOURS = {
    "keyword": ("#0033b3", "#6cb6ff"),
    "string": ("#a31515", "#e6a07a"),
    "docstring": ("#3f7a3f", "#8fc98f"),
    "comment": ("#6a737d", "#8b96a3"),
    "number": ("#098658", "#b5cea8"),
    "self": ("#8a3ea0", "#d49ee8"),
    "decorator": ("#8a6100", "#e0c46c"),
    "definition": ("#00627a", "#56c8d8"),
}

# block states: inside a triple-quoted string (or docstring) that continues on the next line
OUTSIDE = -1
STATES = {
    ('"""', "string"): 1,
    ("'''", "string"): 2,
    ('"""', "docstring"): 3,
    ("'''", "docstring"): 4,
}
OPEN_STRINGS = {state: key for key, state in STATES.items()}

_PREFIX = r"[rRbBuUfF]{0,2}"
TOKEN = re.compile(
    rf"(?P<triple>{_PREFIX}(?:\"\"\"|'''))"
    rf"|(?P<string>{_PREFIX}(?:\"(?:[^\"\\]|\\.)*\"?|'(?:[^'\\]|\\.)*'?))"
    r"|(?P<comment>#.*)"
    r"|(?P<decorator>@[A-Za-z_][\w.]*)"
    r"|(?P<number>\b(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?j?)|\.\d[\d_]*(?:[eE][+-]?\d+)?)"
    r"|(?P<word>[A-Za-z_]\w*)"
)
KEYWORDS = frozenset(keyword.kwlist)
SELF_WORDS = frozenset({"self", "cls"})


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, strings (triple-quoted ones across lines), comments, numbers, `self`, decorators and the
    names that `def` and `class` introduce. Call `set_palette` when the palette changes and `set_dimmed`
    to fade the whole text (code that no longer matches the graph)."""

    def __init__(self, document: QTextDocument, palette: QPalette) -> None:
        super().__init__(document)
        self._palette = QPalette(palette)
        self._dimmed = False
        self._formats: dict[str, QTextCharFormat] = {}
        self._build_formats()

    @property
    def dimmed(self) -> bool:
        return self._dimmed

    def set_palette(self, palette: QPalette) -> None:
        self._palette = QPalette(palette)
        self._build_formats()
        self.rehighlight()

    def set_dimmed(self, dimmed: bool) -> None:
        if dimmed != self._dimmed:
            self._dimmed = dimmed
            self._build_formats()
            self.rehighlight()

    def format_for(self, kind: str) -> QTextCharFormat:
        """The format used for one kind of token ('keyword', 'string', ..., or 'plain')."""
        return self._formats[kind]

    def _build_formats(self) -> None:
        base = self._palette.color(QPalette.ColorRole.Base)
        dark = base.lightness() < 128
        dim = 0.55 if self._dimmed else 0.0
        colours = {kind: QColor(pair[1] if dark else pair[0]) for kind, pair in COLOURS.items()}
        colours["plain"] = self._palette.color(QPalette.ColorRole.Text)
        self._formats = {}
        for kind, colour in colours.items():
            fmt = QTextCharFormat()
            fmt.setForeground(mix(colour, base, dim))  # stale code is dimmed towards the background
            if kind in ("keyword", "definition"):
                fmt.setFontWeight(QFont.Weight.DemiBold)
            if kind in ("comment", "docstring"):
                fmt.setFontItalic(True)
            self._formats[kind] = fmt

    def highlightBlock(self, text: str) -> None:
        self.setCurrentBlockState(OUTSIDE)
        if self._dimmed:
            self.setFormat(0, len(text), self._formats["plain"])
        pos = 0
        previous = self.previousBlockState()
        if previous in OPEN_STRINGS:
            pos = self._continue_string(text, 0, *OPEN_STRINGS[previous])
            if pos < 0:
                return
        self._scan(text, pos)

    def _scan(self, text: str, pos: int) -> None:
        expect_definition = False
        while pos < len(text):
            match = TOKEN.search(text, pos)
            if match is None:
                return
            kind = match.lastgroup
            start, end = match.span()
            if kind == "triple":
                delimiter = match.group()[-3:]
                # a triple-quoted string that opens a line is (nearly always) a docstring
                role = "docstring" if not text[:start].strip() else "string"
                self.setFormat(start, end - start, self._formats[role])
                pos = self._continue_string(text, end, delimiter, role)
                if pos < 0:
                    return
                continue
            if kind == "decorator" and text[:start].strip():
                kind = None  # the matrix-multiplication operator, not a decorator
            elif kind == "word":
                word = match.group()
                if expect_definition:
                    kind = "definition"
                elif word in KEYWORDS:
                    kind = "keyword"
                elif word in SELF_WORDS:
                    kind = "self"
                else:
                    kind = None
                expect_definition = word in ("def", "class") and kind == "keyword"
            if kind is not None:
                self.setFormat(start, end - start, self._formats[kind])
            pos = max(end, start + 1)

    def _continue_string(self, text: str, start: int, delimiter: str, role: str) -> int:
        """Colour a triple-quoted string from `start` to its closing delimiter; the position after it, or -1
        when it continues on the next line."""
        end = start
        while True:
            end = text.find(delimiter, end)
            if end < 0:
                self.setFormat(start, len(text) - start, self._formats[role])
                self.setCurrentBlockState(STATES[(delimiter, role)])
                return -1
            if _escaped(text, end):
                end += 1
                continue
            end += 3
            self.setFormat(start, end - start, self._formats[role])
            return end


def _escaped(text: str, index: int) -> bool:
    """Whether the character at `index` is escaped by an odd run of backslashes."""
    slashes = 0
    while index - slashes - 1 >= 0 and text[index - slashes - 1] == "\\":
        slashes += 1
    return slashes % 2 == 1
