"""The chosen validation sample of the Predict tab: drawn large (`SampleView`), and what the network gave
for it (`ProbabilityBars`: a bar per class, or per predicted value beside the true one)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from netbuilder.ui.training.prediction_words import class_name, number_text
from netbuilder.ui.training.sample_painting import (
    SampleStyle,
    finite_range,
    neutral_colour,
    paint_heat,
    paint_heat_strip,
    paint_picture,
    right_colour,
    track_colour,
    wrong_colour,
)
from netbuilder.ui.training.text_sample_view import TextSampleView

MAX_ROWS = 10  # classes (or values) drawn as bars; with more classes, the likeliest ones and the true one
MAX_LABELLED_FEATURES = 16  # a table row of more features is drawn as bars only


class SampleView(QWidget):
    """The chosen sample, large; for a network that gives back its input image, input and output side by
    side. An explanation's map (`set_explanation`) is drawn over an image, or as bands behind a sequence; a
    text is its tokens (`text`, a TextSampleView), each coloured by the map."""

    def __init__(self) -> None:
        super().__init__()
        self.predictions = None
        self.style: SampleStyle | None = None
        self.sample: int | None = None
        self.heat = None  # the explanation's numpy map of this sample, in [0, 1], or None
        self.opacity = 0.6
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(96)
        self.text = TextSampleView(self)
        self.text.hide()

    def show_sample(self, predictions: Any, style: SampleStyle, sample: int | None) -> None:
        self.predictions, self.style, self.sample = predictions, style, sample
        self.heat = None  # another sample's map must not cover this one
        self.text.setVisible(style.kind == "text")
        if style.kind == "text":
            starts = predictions.word_starts[sample] if predictions.word_starts is not None else None
            self.text.show_sample(predictions.tokens[sample], predictions.values.shape[1], starts)
            width = 380
        elif style.kind == "table" and predictions.values.shape[1] <= MAX_LABELLED_FEATURES:
            width = max(340, predictions.values.shape[1] * 30 + 36)  # room to write each value under its bar
        elif predictions.output_images is not None or style.kind in ("table", "sequence", "curve"):
            width = 340
        else:
            width = 190
        self.setFixedWidth(width)
        self.update()

    def set_explanation(self, heat, opacity: float, *, signed: bool | None = None, target: str | None = None) -> None:
        """Draw this map (numpy, (H, W) for an image, (length,) for a sequence or a text's tokens; None for
        none) over the sample, as opaque as `opacity` where it is highest. A text's map is `signed` (towards
        the class `target`, or against it) or sizes; unless given, they stay as the last map's."""
        self.heat, self.opacity = heat, opacity
        if self.style is not None and self.style.kind == "text":
            flow = self.text.flow
            signed = flow.signed if signed is None else signed
            self.text.set_explanation(heat, opacity, signed=signed, target=flow.target if target is None else target)
        self.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.text.setGeometry(self.rect().adjusted(6, 6, -6, -6))

    def paintEvent(self, event) -> None:
        if self.predictions is None or self.sample is None or self.style.kind == "text":
            return  # a text draws itself (TextSampleView)
        painter = QPainter(self)
        palette = self.palette()
        area = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        if self.predictions.output_images is None:
            if self.style.kind in ("table", "sequence", "curve"):
                painter.fillRect(area, palette.color(QPalette.ColorRole.Base))
                area = area.adjusted(6, 8, -6, -8)
            if self.heat is not None and self.style.kind == "sequence":
                paint_heat_strip(painter, area, self.heat, self.opacity)
            self.style.paint(painter, area, self.sample, palette, detailed=True)
            if self.heat is not None and self.style.kind == "image":
                paint_heat(painter, area, self.heat, self.opacity)
            return
        captions = ("input", "output")
        half = (area.width() - 8) / 2
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        for i, picture in enumerate((self.predictions.images, self.predictions.output_images)):
            cell = QRectF(area.left() + i * (half + 8), area.top(), half, area.height() - 16)
            paint_picture(painter, cell, picture[self.sample])
            painter.drawText(
                QRectF(cell.left(), cell.bottom() + 2, half, 14), Qt.AlignmentFlag.AlignHCenter, captions[i]
            )


class ProbabilityBars(QWidget):
    """A horizontal bar per class: its probability for the chosen sample. The predicted class is filled in
    the 'right' or 'wrong' colour, the true class named in bold in the 'right' colour. For regression, a bar
    per value up to the prediction and a mark at the true value."""

    def __init__(self) -> None:
        super().__init__()
        self.predictions = None
        self.sample: int | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 90)
        self._value_range = (0.0, 1.0)

    def show_sample(self, predictions: Any, sample: int | None) -> None:
        if predictions is not self.predictions and predictions.kind != "classification":
            low, high = finite_range(predictions.predicted)
            true_low, true_high = finite_range(predictions.true)
            self._value_range = (min(low, true_low, 0.0), max(high, true_high, 0.0))
        self.predictions, self.sample = predictions, sample
        self.update()

    def rows(self) -> list[tuple[str, float, bool, bool]]:
        """(name, probability, predicted, true) for the classes drawn: all of them in class order, or past
        MAX_ROWS classes, the likeliest ones by probability with the true class always among them."""
        predictions, sample = self.predictions, self.sample
        probabilities = predictions.probabilities[sample]
        true, predicted = int(predictions.true[sample]), int(predictions.predicted[sample])
        classes = list(range(len(probabilities)))
        if len(classes) > MAX_ROWS:
            classes = [int(i) for i in (-probabilities).argsort(kind="stable")[:MAX_ROWS]]
            if true not in classes:
                classes[-1] = true
        return [(class_name(predictions, c), float(probabilities[c]), c == predicted, c == true) for c in classes]

    def paintEvent(self, event) -> None:
        if self.predictions is None or self.sample is None:
            return
        painter = QPainter(self)
        if self.predictions.kind == "classification":
            self._paint_classes(painter)
        else:
            self._paint_values(painter)

    def _layout(self, count: int, names: list[str]) -> tuple[float, float, float]:
        """Row height, name column width, and where the bars begin."""
        metrics = self.fontMetrics()
        height = max(1.0, min(22.0, (self.height() - 4) / max(1, count)))
        name_width = min(120.0, max(metrics.horizontalAdvance(n) for n in names) + 10.0)
        return height, name_width, name_width + 6.0

    def _paint_classes(self, painter: QPainter) -> None:
        palette = self.palette()
        rows = self.rows()
        height, name_width, left = self._layout(len(rows), [r[0] for r in rows])
        percent_width = self.fontMetrics().horizontalAdvance("100%") + 8.0
        span = max(10.0, self.width() - left - percent_width - 4)
        text = palette.color(QPalette.ColorRole.Text)
        right, wrong = right_colour(palette), wrong_colour(palette)
        bold = QFont(self.font())
        bold.setBold(True)
        for i, (name, probability, predicted, true) in enumerate(rows):
            top = 2 + i * height
            bar_height = max(1.0, height * 0.62)
            y = top + (height - bar_height) / 2
            painter.fillRect(QRectF(left, y, span, bar_height), track_colour(palette))
            colour = (right if true else wrong) if predicted else neutral_colour(palette)
            painter.fillRect(QRectF(left, y, span * probability, bar_height), colour)
            if height < 9:
                continue  # too many rows to name: the bars still show where the probability lies
            painter.setFont(bold if true or predicted else self.font())
            painter.setPen(right if true else text)
            elided = self.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, int(name_width))
            painter.drawText(
                QRectF(0, top, name_width, height), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, elided
            )
            painter.setFont(self.font())
            painter.setPen(text)
            painter.drawText(
                QRectF(left + span * probability + 4, top, percent_width, height),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{probability:.0%}" if probability >= 0.005 else "<1%" if probability > 0 else "0%",
            )

    def _paint_values(self, painter: QPainter) -> None:
        palette = self.palette()
        predicted = self.predictions.predicted[self.sample]
        true = self.predictions.true[self.sample]
        count = min(len(predicted), MAX_ROWS)
        names = [f"value {i + 1}" if len(predicted) > 1 else "value" for i in range(count)]
        height, name_width, left = self._layout(count, names)
        number_width = self.fontMetrics().horizontalAdvance("−0.0000 (true −0.0000)") + 8.0
        span = max(10.0, self.width() - left - number_width - 4)
        low, high = self._value_range
        scale = span / max(high - low, 1e-8)
        zero = left + (0 - low) * scale
        text = palette.color(QPalette.ColorRole.Text)
        right = right_colour(palette)
        for i in range(count):
            top = 2 + i * height
            bar_height = max(1.0, height * 0.62)
            y = top + (height - bar_height) / 2
            painter.fillRect(QRectF(left, y, span, bar_height), track_colour(palette))
            end = left + (float(predicted[i]) - low) * scale
            painter.fillRect(
                QRectF(min(zero, end), y, abs(end - zero), bar_height), palette.color(QPalette.ColorRole.Highlight)
            )
            mark = left + (float(true[i]) - low) * scale
            painter.setPen(QPen(right, 3))
            painter.drawLine(QPointF(mark, top + 1), QPointF(mark, top + height - 1))
            if height < 9:
                continue
            painter.setPen(text)
            painter.drawText(
                QRectF(0, top, name_width, height),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                names[i],
            )
            painter.drawText(
                QRectF(left + span + 6, top, number_width, height),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{number_text(float(predicted[i]))} (true {number_text(float(true[i]))})",
            )
