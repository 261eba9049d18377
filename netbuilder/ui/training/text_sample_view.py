"""A validation text in the Predict tab: its tokens as the network read them (padding left out, a word outside
the vocabulary shown as <unk> in italics), each on a background coloured by its attribution when an explanation
is shown (token_display's colours: towards the class, against it, or sizes), a tooltip on each with its value,
a line saying how many tokens were read (and that a longer text was cut), and a legend line."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from netbuilder.token_display import (
    UNKNOWN_TOKEN,
    attribution_words,
    legend_hues,
    spaces_before,
    token_background,
)
from netbuilder.ui.icons import palette_is_dark
from netbuilder.ui.training.explanation_controls import DEFAULT_OPACITY
from netbuilder.ui.widgets.text import escape
from netbuilder.ui.widgets.token_flow import TokenFlow

NO_MAP = "Choose Saliency or Integrated gradients below to colour each token by its part in the answer."


class AttributedTokens(TokenFlow):
    """The tokens as running text, each in a box coloured by its attribution."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens: tuple[str, ...] = ()
        self.word_starts: tuple[bool, ...] | None = None  # byte pairs: the pieces of a word are drawn together
        self.heat = None  # one value per position (numpy), or None
        self.signed = False
        self.target = ""  # the explained class, for the tooltips
        self.opacity = 1.0

    def set_tokens(self, tokens: tuple[str, ...], word_starts: tuple[bool, ...] | None = None) -> None:
        self.tokens, self.word_starts = tokens, word_starts
        self.heat = None
        self.relayout()

    def set_heat(self, heat: Any, signed: bool, target: str, opacity: float) -> None:
        """Colour the tokens by `heat`; at the slider's default opacity and above, in full colour (a token's
        word stays readable however strong), below it fainter."""
        self.heat, self.signed, self.target = heat, signed, target
        self.opacity = min(1.0, opacity * 100 / DEFAULT_OPACITY)
        self.update()

    def value(self, index: int) -> float | None:
        """Token `index`'s attribution, or None without a map."""
        heat = self.heat
        return float(heat[index]) if heat is not None and index < len(heat) else None

    def words(self) -> tuple[str, ...]:
        return self.tokens

    def spaces(self) -> list[bool]:
        return spaces_before(self.tokens, self.word_starts)

    def in_italics(self, index: int) -> bool:
        return self.tokens[index] == UNKNOWN_TOKEN

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        dark = palette_is_dark(palette)
        text = palette.color(QPalette.ColorRole.Text)
        faint = palette.color(QPalette.ColorRole.PlaceholderText)
        for i, box in enumerate(self.boxes):
            value = self.value(i)
            if value is not None and value != 0:
                colour = token_background(value, self.signed, base.getRgb()[:3], dark=dark, opacity=self.opacity)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(*colour))
                painter.drawRoundedRect(box, 3, 3)
            unknown = self.in_italics(i)  # a word the vocabulary lacks: outlined, so it is not read as written
            self.draw_word(painter, i, faint if unknown else text, outlined=unknown)

    def tooltip(self, index: int) -> str:
        """What the tooltip of token `index` says: its attribution, or that it is outside the vocabulary."""
        token = self.tokens[index]
        value = self.value(index)
        words = attribution_words(token, value, self.signed, self.target) if value is not None else token
        if token == UNKNOWN_TOKEN:
            words += " · a word outside the run's vocabulary"
        return f"Token {index + 1}: {words}"


class TextSampleView(QWidget):
    """The chosen validation text: how many tokens were read, the tokens, and the legend of their colours."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.length = 0  # the network's max_length: a text of that many tokens may have been cut
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.flow = AttributedTokens()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.flow)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setBackgroundRole(QPalette.ColorRole.Base)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.summary)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.legend)
        self._show_legend()

    def show_sample(self, tokens: tuple[str, ...], length: int, word_starts: tuple[bool, ...] | None = None) -> None:
        """Show this text (its tokens; for byte pairs, which begin a word) of a network that reads `length`
        tokens; any earlier map goes."""
        self.length = length
        self.flow.set_tokens(tokens, word_starts)
        unknown = sum(token == UNKNOWN_TOKEN for token in tokens)
        count = f"{len(tokens):,} token" + ("" if len(tokens) == 1 else "s")
        if len(tokens) >= length:
            count = f"The first {length:,} tokens: the network reads no more (a longer text is cut there)"
        self.summary.setText(count + (f" · {unknown:,} outside the vocabulary (<unk>)" if unknown else ""))
        self.scroll.verticalScrollBar().setValue(0)
        self._show_legend()

    def set_explanation(self, heat: Any, opacity: float, *, signed: bool, target: str) -> None:
        """Colour the tokens by `heat` (one value per position; None: no colours)."""
        self.flow.set_heat(heat, signed, target, opacity)
        self._show_legend()

    def _show_legend(self) -> None:
        flow = self.flow
        if flow.heat is None:
            self.legend.setText(escape(NO_MAP))
            return
        dark = palette_is_dark(self.palette())
        parts = []
        for rgb, meaning in legend_hues(flow.signed, flow.target, dark=dark):
            parts.append(f"<span style='color:rgb{rgb}'>■</span> {escape(meaning)}")
        self.legend.setText(" &nbsp; ".join(parts) + " · deeper: a larger share")

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._show_legend()
