"""A validation text in the Predict tab: its tokens as the network read them (padding left out, a word outside
the vocabulary shown as <unk> in italics), each on a background coloured by its attribution when an explanation
is shown (token_display's colours: towards the class, against it, or sizes), a tooltip on each with its value,
a line saying how many tokens were read (and that a longer text was cut), and a legend line."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPalette, QPen
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QToolTip, QVBoxLayout, QWidget

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

PAD_X, PAD_Y = 2.0, 2.0  # room around a token's word inside its coloured box
GAP = 3.0  # between the boxes of two tokens with a space between them
LINE_GAP = 3.0
NO_MAP = "Choose Saliency or Integrated gradients below to colour each token by its part in the answer."


class TokenFlow(QWidget):
    """The tokens laid out as running text, wrapped to the width, each in a box coloured by its attribution."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens: tuple[str, ...] = ()
        self.word_starts: tuple[bool, ...] | None = None  # byte pairs: the pieces of a word are drawn together
        self.heat = None  # one value per position (numpy), or None
        self.signed = False
        self.target = ""  # the explained class, for the tooltips
        self.opacity = 1.0
        self._boxes: list[QRectF] = []
        self._laid_out_width = -1
        sizes = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        sizes.setHeightForWidth(True)
        self.setSizePolicy(sizes)

    def set_tokens(self, tokens: tuple[str, ...], word_starts: tuple[bool, ...] | None = None) -> None:
        self.tokens, self.word_starts = tokens, word_starts
        self.heat = None
        self._relayout()

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

    def token_at(self, point: QPointF) -> int | None:
        """The token whose box holds `point`."""
        return next((i for i, box in enumerate(self._boxes) if box.contains(point)), None)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return int(self._layout(width)[1]) + 2

    def sizeHint(self) -> QSize:
        return QSize(300, self.heightForWidth(300))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self) -> None:
        self._boxes, _ = self._layout(self.width())
        self._laid_out_width = self.width()
        self.updateGeometry()
        self.update()

    def _layout(self, width: int) -> tuple[list[QRectF], float]:
        """Each token's box at this width, and the height they take."""
        italic = QFont(self.font())
        italic.setItalic(True)
        metrics, italic_metrics = QFontMetricsF(self.font()), QFontMetricsF(italic)
        height = metrics.height() + 2 * PAD_Y
        x = y = 0.0
        boxes = []
        for token, space in zip(self.tokens, spaces_before(self.tokens, self.word_starts), strict=True):
            w = (italic_metrics if token == UNKNOWN_TOKEN else metrics).horizontalAdvance(token) + 2 * PAD_X
            x += GAP if space else 1.0 if x else 0.0
            if x + w > width and x > 0:
                x, y = 0.0, y + height + LINE_GAP
            boxes.append(QRectF(x, y, w, height))
            x += w
        return boxes, (y + height if boxes else 0.0)

    def paintEvent(self, event) -> None:
        if self._laid_out_width != self.width():
            self._boxes, _ = self._layout(self.width())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        dark = palette_is_dark(palette)
        text = palette.color(QPalette.ColorRole.Text)
        faint = palette.color(QPalette.ColorRole.PlaceholderText)
        italic = QFont(self.font())
        italic.setItalic(True)
        for i, (token, box) in enumerate(zip(self.tokens, self._boxes, strict=True)):
            value = self.value(i)
            unknown = token == UNKNOWN_TOKEN
            if value is not None and value != 0:
                colour = token_background(value, self.signed, base.getRgb()[:3], dark=dark, opacity=self.opacity)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(*colour))
                painter.drawRoundedRect(box, 3, 3)
            if unknown:  # a word the vocabulary lacks: outlined, in italics, so it is not read as written
                painter.setPen(QPen(faint, 1, Qt.PenStyle.DotLine))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
            painter.setFont(italic if unknown else self.font())
            painter.setPen(faint if unknown else text)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, token)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.token_at(QPointF(event.pos()))
            if index is None:
                QToolTip.hideText()
                event.ignore()
                return True
            QToolTip.showText(event.globalPos(), self.tooltip(index), self)
            return True
        return super().event(event)

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
        self.flow = TokenFlow()
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
