"""The Dataset preview of a text set: a histogram of the texts' lengths in tokens with max_length marked and how
many texts it cuts, so a person can choose max_length well; the vocabulary the training part gives; and a few
examples, each the text as written above its tokens as the network reads them (a word outside the vocabulary
in dotted italics, as the Predict tab draws <unk>; the tokens after max_length faded behind a cut mark).
What it shows comes from netbuilder.data.preview (plain numpy and tuples)."""

from __future__ import annotations

import math

import numpy
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from netbuilder.token_display import UNKNOWN_TOKEN, spaces_before
from netbuilder.ui.widgets.token_flow import GAP, TokenFlow

BINS = 40  # at most, over the lengths up to the longest 1 in 200
AFTER_CUT = 24  # tokens drawn after the cut, faded, before the rest is only counted
TOKEN_LINES = 9  # the height of the tokens' box, in lines (it scrolls)
TEXT_LINES = 4  # the height of the text as written, in lines (it scrolls)


def length_bins(lengths: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(counts, edges) of the texts' lengths: bins of whole tokens, bin i counting edges[i] <= length <
    edges[i + 1], up to the length that only 1 text in 200 passes; the last bin also counts every longer text,
    so that a few very long texts do not squeeze the rest into a corner."""
    top = max(1, math.ceil(numpy.quantile(lengths, 0.995))) if len(lengths) else 1
    width = max(1, math.ceil((top + 1) / BINS))
    edges = numpy.arange(0, top + width + 1, width)
    counts = numpy.histogram(numpy.minimum(lengths, edges[-1] - 1), bins=edges)[0] if len(lengths) else edges[1:] * 0
    return counts, edges


def cut_words(lengths: numpy.ndarray, max_length: int) -> str:
    """How many texts max_length cuts, in a sentence."""
    cut = int((lengths > max_length).sum())
    if not cut:
        return f"No text is longer than {max_length:,} tokens: none is cut (the longest has {int(lengths.max()):,})."
    share = _share(cut / len(lengths))
    return f"{share} of texts ({cut:,} of {len(lengths):,}) are longer than {max_length:,} tokens and are cut."


class LengthHistogram(QWidget):
    """Bars of how many texts have each length, max_length as a line across them; the bars past it (texts cut)
    in a fainter colour. Each bar's tooltip gives its lengths and count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts = numpy.zeros(0, dtype=numpy.int64)
        self.edges = numpy.zeros(1, dtype=numpy.int64)
        self.max_length = 0
        self.setFixedHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # the inspector's width rules

    def set_lengths(self, lengths: numpy.ndarray, max_length: int) -> None:
        self.counts, self.edges = length_bins(lengths)
        self.set_max_length(max_length)

    def set_max_length(self, max_length: int) -> None:
        self.max_length = max_length
        self.update()

    def plot_area(self) -> QRectF:
        """Where the bars go: room above for the mark's label and below for the axis's numbers."""
        line = QFontMetricsF(self.font()).height()
        return QRectF(1, line + 2, self.width() - 2, self.height() - 2 * line - 6)

    def x_of(self, length: float) -> float:
        """The x at which a length falls (max_length past the last bin sits on the right edge)."""
        area = self.plot_area()
        return area.left() + min(1.0, length / self.edges[-1]) * area.width()

    def mark_x(self) -> float:
        """Where the max_length line goes: between the lengths read whole and those cut (bin [a, b) spans a to b,
        so the line at max_length + 1 has every text of max_length tokens or fewer on its left)."""
        return self.x_of(self.max_length + 1)

    def bin_at(self, x: float) -> int | None:
        area = self.plot_area()
        if not len(self.counts) or not area.left() <= x < area.right():
            return None
        return min(len(self.counts) - 1, int((x - area.left()) / area.width() * len(self.counts)))

    def paintEvent(self, event) -> None:
        if not len(self.counts):
            return
        painter = QPainter(self)
        palette = self.palette()
        area = self.plot_area()
        most = max(1, int(self.counts.max()))
        read = palette.color(QPalette.ColorRole.Highlight)
        cut = QColor(palette.color(QPalette.ColorRole.PlaceholderText))
        cut.setAlpha(150)
        width = area.width() / len(self.counts)
        for i, count in enumerate(self.counts.tolist()):
            height = area.height() * count / most
            bar = QRectF(area.left() + i * width, area.bottom() - height, max(1.0, width - 1), height)
            painter.fillRect(bar, cut if self.edges[i] > self.max_length else read)  # faint: all of them cut
        text = palette.color(QPalette.ColorRole.WindowText)
        faint = palette.color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(QPen(faint, 1))
        painter.drawLine(QPointF(area.left(), area.bottom()), QPointF(area.right(), area.bottom()))
        line = QFontMetricsF(self.font()).height()
        below = QRectF(area.left(), area.bottom() + 2, area.width(), line)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft, "0")
        painter.drawText(below, Qt.AlignmentFlag.AlignRight, f"{int(self.edges[-1]) - 1:,}+ tokens")
        x = self.mark_x()
        painter.setPen(QPen(text, 2))
        painter.drawLine(QPointF(x, area.top() - 2), QPointF(x, area.bottom() + 2))
        label = f"max_length {self.max_length:,}" + (" ▸" if self.max_length + 1 >= self.edges[-1] else "")
        label_width = QFontMetricsF(self.font()).horizontalAdvance(label) + 4
        left = min(max(x - label_width / 2, area.left()), area.right() - label_width)
        painter.drawText(QRectF(left, 0, label_width, line), Qt.AlignmentFlag.AlignCenter, label)
        painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.bin_at(event.pos().x())
            if index is None:
                QToolTip.hideText()
                return True
            low, high = int(self.edges[index]), int(self.edges[index + 1]) - 1
            lengths = (f"{low:,}+" if index == len(self.counts) - 1 else f"{low:,}–{high:,}") + " tokens"
            if low == high and index < len(self.counts) - 1:
                lengths = f"{low:,} tokens"
            count = int(self.counts[index])
            QToolTip.showText(event.globalPos(), f"{lengths}: {count:,} text{'' if count == 1 else 's'}", self)
            return True
        return super().event(event)


class TokenStrip(TokenFlow):
    """A text's tokens as running text, wrapped to the width: a word outside the vocabulary in dotted italics;
    after the first `max_length` tokens a cut mark, then the next few faded and the rest counted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens: tuple[str, ...] = ()
        self.unknown: tuple[bool, ...] = ()
        self.word_starts: tuple[bool, ...] = ()
        self.max_length = 0

    def set_tokens(self, tokens, unknown, word_starts, max_length: int) -> None:
        self.tokens, self.unknown, self.word_starts = tuple(tokens), tuple(unknown), tuple(word_starts)
        self.set_max_length(max_length)

    def set_max_length(self, max_length: int) -> None:
        self.max_length = max_length
        self.relayout()

    def shown(self) -> tuple[str, ...]:
        """The words drawn: the tokens up to AFTER_CUT past the cut, then how many more there are, if any."""
        end = self.max_length + AFTER_CUT
        return self.tokens[:end] + ((f"… {len(self.tokens) - end:,} more",) if len(self.tokens) > end else ())

    def words(self) -> tuple[str, ...]:
        return self.shown()

    def spaces(self) -> list[bool]:
        drawn = min(len(self.shown()), len(self.tokens))
        return [*spaces_before(self.tokens[:drawn], self.word_starts[:drawn]), True][: len(self.shown())]

    def in_italics(self, index: int) -> bool:
        return index < len(self.unknown) and self.unknown[index]

    def gap_before(self, index: int) -> float:
        return 2 * GAP if index == self.max_length else 0.0  # room for the cut mark

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        faint = palette.color(QPalette.ColorRole.PlaceholderText)
        mark = palette.color(QPalette.ColorRole.Highlight)
        for i, box in enumerate(self.boxes):
            unknown = self.in_italics(i)
            after_cut = i >= self.max_length
            if i == self.max_length:
                painter.setPen(QPen(mark, 2))
                x = box.left() - GAP - 1
                painter.drawLine(QPointF(x, box.top() - 1), QPointF(x, box.bottom() + 1))
            colour = QColor(faint if unknown or after_cut else text)
            if after_cut:
                colour.setAlphaF(0.55)
            self.draw_word(painter, i, colour, outlined=unknown)  # outlined, as the Predict tab draws <unk>
        painter.end()

    def tooltip(self, index: int) -> str:
        """What token `index`'s tooltip says: its place, whether the network reads it, and as what."""
        if index >= len(self.tokens):
            return "Tokens past these are not read either"
        token = self.tokens[index]
        words = f"Token {index + 1}: {token}"
        if self.unknown[index]:  # a word keeps its spelling; a piece (a character never seen) is <unk> already
            words += " · outside the vocabulary" + (f": read as {UNKNOWN_TOKEN}" if token != UNKNOWN_TOKEN else "")
        if index >= self.max_length:
            words += f" · past max_length ({self.max_length:,}): not read"
        return words


class TextPreview(QWidget):
    """The text part of the Dataset preview: lengths and the cut, the vocabulary, and one example at a time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = None
        self.index = 0
        self.max_length = 0
        self.histogram = LengthHistogram()
        self.cut = _note()
        self.vocabulary = _note(faint=True)
        self.example_title = _note()
        self.previous = _arrow(Qt.ArrowType.LeftArrow, "Previous example")
        self.next = _arrow(Qt.ArrowType.RightArrow, "Next example")
        self.previous.clicked.connect(lambda: self.show_example(self.index - 1))
        self.next.clicked.connect(lambda: self.show_example(self.index + 1))
        self.written = QPlainTextEdit()
        self.written.setReadOnly(True)
        self.written.setToolTip("The text as written")
        line = QFontMetricsF(self.written.font()).lineSpacing()
        margins = 2 * (self.written.frameWidth() + self.written.document().documentMargin())
        self.written.setFixedHeight(math.ceil(TEXT_LINES * line + margins))
        self.strip = TokenStrip()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.strip)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.legend = _note(faint=True)
        title = QHBoxLayout()
        title.setContentsMargins(0, 0, 0, 0)
        title.addWidget(self.example_title, 1)
        title.addWidget(self.previous)
        title.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.lengths_title = _note()
        layout.addWidget(self.lengths_title)
        layout.addWidget(self.histogram)
        layout.addWidget(self.cut)
        layout.addWidget(self.vocabulary)
        layout.addSpacing(4)
        layout.addLayout(title)
        layout.addWidget(self.written)
        layout.addWidget(self.scroll)
        layout.addWidget(self.legend)

    def set_preview(self, preview, max_length: int, split: tuple[float, int], *, pieces: bool = False) -> None:
        """Show a text set's preview whose vocabulary came from the training part that `split` (val_fraction,
        seed) leaves; the network reads `max_length` tokens (byte-pair `pieces` of words, or words)."""
        self.preview, self.index = preview, 0
        self.histogram.set_lengths(preview.text_lengths, max_length)
        tallest = int(self.histogram.counts.max()) if len(self.histogram.counts) else 0
        self.lengths_title.setText(f"Lengths in tokens (the tallest bar: {tallest:,} texts)")
        val_fraction, seed = split
        unit = "pieces (byte pairs)" if pieces else "tokens"
        self.vocabulary.setText(
            f"Vocabulary: {preview.vocabulary_size:,} {unit}, made from the training part ({1 - val_fraction:.0%},"
            f" seed {seed}) as training makes it; {_share(preview.unknown_share)} of all tokens are outside it"
            f" and read as {UNKNOWN_TOKEN}."
        )
        self.set_max_length(max_length)
        self.show_example(0)

    def set_max_length(self, max_length: int) -> None:
        """Move the mark, the cut sentence and the examples' cut to a new max_length (nothing reloads)."""
        self.max_length = max_length
        self.histogram.set_max_length(max_length)
        self.cut.setText(cut_words(self.preview.text_lengths, max_length))
        self.strip.set_max_length(max_length)
        self._fit_tokens()
        self._show_title()

    def show_example(self, index: int) -> None:
        examples = self.preview.text_examples
        self.index = index % len(examples) if examples else 0
        self.previous.setEnabled(len(examples) > 1)
        self.next.setEnabled(len(examples) > 1)
        if not examples:
            self.example_title.setText("No texts to show")
            return
        _, text, _ = examples[self.index]
        read = self.preview.text_read[self.index]
        self.written.setPlainText(text)
        self.strip.set_tokens(read.tokens, read.unknown, read.word_starts, self.max_length)
        self.scroll.verticalScrollBar().setValue(0)
        self._fit_tokens()
        self._show_title()

    def _fit_tokens(self) -> None:
        """The tokens' box as tall as the tokens, up to TOKEN_LINES lines (then it scrolls)."""
        token_line = self.strip.line_pitch()
        frame = 2 * self.scroll.frameWidth()
        needed = self.strip.heightForWidth(self.scroll.width() - frame) + frame
        self.scroll.setFixedHeight(min(needed, math.ceil(TOKEN_LINES * token_line)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.preview is not None:
            self._fit_tokens()

    def _show_title(self) -> None:
        examples = self.preview.text_examples
        if not examples:
            return
        sample, _, _ = examples[self.index]
        read = self.preview.text_read[self.index]
        names = self.preview.class_names
        labels = self.preview.text_labels
        kind = f" · {names[labels[self.index]]}" if names and self.index < len(labels) else ""
        count = len(read.tokens)
        cut = f", cut at {self.max_length:,}" if count > self.max_length else ""
        self.example_title.setText(f"Example {self.index + 1} of {len(examples)}{kind} · {count:,} tokens{cut}")
        self.example_title.setToolTip(f"Sample {sample:,} of the dataset")
        unknown = sum(read.unknown)
        parts = [f"dotted italics: outside the vocabulary ({unknown:,} here)" if unknown else "no token here is <unk>"]
        if count > self.max_length:
            parts.append("after the bar: past max_length, not read")
        self.legend.setText(" · ".join(parts))


def _share(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 or share == 0 else "under 1%"


def _note(text: str = "", *, faint: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    if faint:
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def _arrow(arrow: Qt.ArrowType, tip: str) -> QToolButton:
    button = QToolButton()
    button.setArrowType(arrow)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    return button
