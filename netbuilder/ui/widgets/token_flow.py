"""Tokens laid out as running text: each in a box, wrapped to the widget's width, spaced as the text was
(token_display's rule), with a tooltip per token. The Predict tab colours the boxes by attribution; the Dataset
preview marks where max_length cuts. What they draw differs; where the boxes go is this one layout."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

PAD_X, PAD_Y = 2.0, 2.0  # room around a token's word inside its box
GAP = 3.0  # between the boxes of two tokens with a space between them
LINE_GAP = 3.0


class TokenFlow(QWidget):
    """The layout and the tooltips; a subclass says what is drawn (`words`, `spaces`, `in_italics`, `gap_before`,
    `tooltip`) and paints the boxes (`boxes`, one per word, in widget coordinates)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.boxes: list[QRectF] = []
        self._laid_out_width = -1
        sizes = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        sizes.setHeightForWidth(True)
        self.setSizePolicy(sizes)

    # ---- what a subclass says -----------------------------------------------------------------------------

    def words(self) -> Sequence[str]:
        """The strings drawn, one box each."""
        raise NotImplementedError

    def spaces(self) -> Sequence[bool]:
        """Whether a space goes before each word."""
        raise NotImplementedError

    def in_italics(self, index: int) -> bool:
        return False

    def gap_before(self, index: int) -> float:
        """Extra room before word `index` (for a mark drawn there), also at the start of a line."""
        return 0.0

    def tooltip(self, index: int) -> str:
        raise NotImplementedError

    # ---- layout -------------------------------------------------------------------------------------------

    def italic_font(self) -> QFont:
        italic = QFont(self.font())
        italic.setItalic(True)
        return italic

    def line_pitch(self) -> float:
        """From the top of one line of words to the next."""
        return QFontMetricsF(self.font()).height() + 2 * PAD_Y + LINE_GAP

    def layout(self, width: int) -> tuple[list[QRectF], float]:
        """Each word's box at this width, and the height they take."""
        metrics, italic = QFontMetricsF(self.font()), QFontMetricsF(self.italic_font())
        height = metrics.height() + 2 * PAD_Y
        x = y = 0.0
        boxes = []
        for i, (word, space) in enumerate(zip(self.words(), self.spaces(), strict=True)):
            w = (italic if self.in_italics(i) else metrics).horizontalAdvance(word) + 2 * PAD_X
            x += (GAP if space else 1.0 if x else 0.0) + self.gap_before(i)
            if x + w > width and x > 0:
                x, y = self.gap_before(i), y + height + LINE_GAP
            boxes.append(QRectF(x, y, w, height))
            x += w
        return boxes, (y + height if boxes else 0.0)

    def relayout(self) -> None:
        """The words or what they look like changed: place them again."""
        self.boxes, _ = self.layout(self.width())
        self._laid_out_width = self.width()
        self.updateGeometry()
        self.update()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return int(self.layout(width)[1]) + 2

    def sizeHint(self) -> QSize:
        return QSize(300, self.heightForWidth(300))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.relayout()

    def paintEvent(self, event) -> None:
        if self._laid_out_width != self.width():
            self.boxes, _ = self.layout(self.width())
            self._laid_out_width = self.width()

    # ---- drawing and pointing -----------------------------------------------------------------------------

    def draw_word(self, painter: QPainter, index: int, colour: QColor, *, outlined: bool = False) -> None:
        """Word `index` in its box, in `colour`; `outlined`: a dotted frame (a word outside the vocabulary)."""
        box, word = self.boxes[index], self.words()[index]
        if outlined:
            painter.setPen(QPen(colour, 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        painter.setFont(self.italic_font() if self.in_italics(index) else self.font())
        painter.setPen(colour)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, word)

    def token_at(self, point: QPointF) -> int | None:
        """The word whose box holds `point`."""
        return next((i for i, box in enumerate(self.boxes) if box.contains(point)), None)

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
