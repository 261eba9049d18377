"""The Predict tab of the Training dock: after a run, the validation samples as a grid (images as images,
tables as a row of feature values, sequences as small lines, 2-D points in their plane), and for the chosen
one the true class, the predicted class and the probability of every class (or the predicted values beside
the true ones, for regression).

The predictions need torch, the run's weights and its data, so they are made on a QThread when the tab is
first looked at after a run (netbuilder.training.predict, imported there), all at once: stepping, picking
at random and showing only the wrong ones are then instant, and the window never waits. They arrive as numpy
arrays; numpy itself is imported only where they are drawn, as it is not yet loaded when the window opens.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSignalBlocker,
    QSize,
    Qt,
    QThread,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QImage, QPainter, QPalette, QPen, QPixmap, QPolygonF, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project import Project
from netbuilder.project.run_history import RunHistory, RunRecord
from netbuilder.ui.dataset_preview import CLASS_COLOURS
from netbuilder.ui.editor.document import Document
from netbuilder.ui.main_thread_gc import main_thread_collector
from netbuilder.ui.theme import DARK, LIGHT
from netbuilder.ui.training_worker import snapshot
from netbuilder.ui.widgets.colors import mix
from netbuilder.ui.widgets.text import escape, sentence

NO_RUN = "Train the network, then pick validation samples here to see what it predicts for each of them."
UNSAVED = (
    "Save the project, then train: a saved project keeps the weights of its runs, and you can look at their "
    "predictions here."
)
RUNNING = "Training… When the run ends, pick validation samples here to see what the network predicts."
LOADING = "Loading the run's weights and its validation samples…"
MAX_ROWS = 10  # classes (or values) drawn as bars; with more classes, the likeliest ones and the true one
THUMBNAIL = 40
MAX_CAPTION_WIDTH = 110  # longer class names are cut short under the thumbnails (whole in the tooltip)
MAX_SEQUENCE_LINES = 4
MAX_LABELLED_FEATURES = 16  # a table row of more features is drawn as bars only


class _LoadThread(QThread):
    """Loads a run's weights and predicts every validation sample, off the window's thread."""

    ready = Signal(object)  # netbuilder.training.predict.Predictions for all validation samples
    failed = Signal(str)  # why there are no predictions, as a sentence that says what to do

    def __init__(self, project: Project, weights: Path, run_id: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("netbuilder predictions")
        self.project = project
        self.weights = weights
        self.run_id = run_id

    def run(self) -> None:
        from netbuilder.training.predict import PredictError, Predictor, device_for  # torch loads here

        try:
            predictor = Predictor.load(self.project, self.weights, device=device_for(self.project.training.device))
            self.ready.emit(predictor.predict(range(len(predictor))))
        except PredictError as err:
            self.failed.emit(sentence(str(err)))
        except Exception as err:  # whatever it is, the tab says so rather than staying empty
            self.failed.emit(sentence(f"the predictions could not be made: {type(err).__name__}: {err}"))


# ---- colours ---------------------------------------------------------------------------------------------


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def right_colour(palette: QPalette) -> QColor:
    """Green for the true class and right answers, readable on the palette's base in both themes."""
    return DARK.port_highlight if _is_dark(palette) else QColor("#2e7d32")


def wrong_colour(palette: QPalette) -> QColor:
    return DARK.error if _is_dark(palette) else LIGHT.error


def _neutral(palette: QPalette) -> QColor:
    return mix(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text), 0.4)


def _track(palette: QPalette) -> QColor:
    return mix(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text), 0.08)


# ---- drawing one sample ----------------------------------------------------------------------------------


def to_qimage(picture: Any) -> QImage:
    """An (H, W, 1) grey or (H, W, 3) RGB uint8 numpy array as a QImage that owns its pixels."""
    height, width, channels = picture.shape
    fmt = QImage.Format.Format_Grayscale8 if channels == 1 else QImage.Format.Format_RGB888
    return QImage(picture.tobytes(), width, height, width * channels, fmt).copy()


def _fit(rect: QRectF, width: float, height: float) -> QRectF:
    """The largest rectangle of this aspect ratio centred in `rect`."""
    scale = min(rect.width() / width, rect.height() / height)
    w, h = width * scale, height * scale
    return QRectF(rect.center().x() - w / 2, rect.center().y() - h / 2, w, h)


def paint_picture(painter: QPainter, rect: QRectF, picture: Any) -> None:
    """Small images keep their pixels sharp when enlarged (an 8x8 digit is 64 squares, not a blur)."""
    image = to_qimage(picture)
    target = _fit(rect, image.width(), image.height())
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, max(image.width(), image.height()) > 32)
    painter.drawImage(target, image)


class SampleStyle:
    """How the samples of one set of predictions are drawn: the kind of picture and the value ranges shared
    by all samples, so that two samples drawn alike have alike values."""

    def __init__(self, predictions: Any) -> None:
        import numpy  # loaded already: the predictions are numpy arrays

        self.predictions = predictions
        values = predictions.values
        self.kind = _kind(predictions)
        self.low, self.high = _finite_range(values) if values is not None else (0.0, 1.0)
        if self.kind == "table":  # bars around zero, scaled so that a few outliers do not flatten the rest
            magnitudes = numpy.abs(values[numpy.isfinite(values)])
            self.reach = max(float(numpy.percentile(magnitudes, 99)) if magnitudes.size else 0.0, 1e-8)
        if self.kind == "curve":  # the learned function: predictions joined in the order of the input
            self.order = numpy.argsort(values[:, 0], kind="stable")
            true_low, true_high = _finite_range(predictions.true)
            low, high = _finite_range(predictions.predicted)
            self.y_range = (min(low, true_low), max(high, true_high))

    def paint(self, painter: QPainter, rect: QRectF, index: int, palette: QPalette, detailed: bool) -> None:
        if self.kind == "image":
            paint_picture(painter, rect, self.predictions.images[index])
        elif self.kind == "sequence":
            self._paint_sequence(painter, rect, self.predictions.values[index], palette)
        elif self.kind == "point":
            self._paint_point(painter, rect, index, palette, detailed)
        elif self.kind == "curve":
            self._paint_curve(painter, rect, index, palette, detailed)
        else:
            self._paint_table(painter, rect, self.predictions.values[index], palette, detailed)

    def _paint_sequence(self, painter: QPainter, rect: QRectF, values: Any, palette: QPalette) -> None:
        """One line per feature (the first few), over the sequence's steps, on the set's value range."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        span = max(self.high - self.low, 1e-8)
        length = len(values)
        if self.low < 0 < self.high:
            zero = rect.bottom() - (0 - self.low) / span * rect.height()
            painter.setPen(QPen(_track(palette).darker(115) if not _is_dark(palette) else _track(palette), 1))
            painter.drawLine(QPointF(rect.left(), zero), QPointF(rect.right(), zero))
        for feature in range(min(values.shape[1], MAX_SEQUENCE_LINES)):
            line = QPolygonF(
                [
                    QPointF(
                        rect.left() + step / max(1, length - 1) * rect.width(),
                        rect.bottom() - (float(values[step, feature]) - self.low) / span * rect.height(),
                    )
                    for step in range(length)
                ]
            )
            painter.setPen(QPen(CLASS_COLOURS[feature % len(CLASS_COLOURS)], 1.5))
            painter.drawPolyline(line)

    def _paint_table(self, painter: QPainter, rect: QRectF, values: Any, palette: QPalette, detailed: bool) -> None:
        """A compact row of the feature values: a bar up or down from zero for each, numbered when there is
        room (the values are what the network sees, standardised where the dataset is)."""
        count = len(values)
        small = QFont(painter.font())
        small.setPointSizeF(small.pointSizeF() * 0.85)
        painter.setFont(small)
        metrics = painter.fontMetrics()
        fits = rect.width() / max(1, count) >= metrics.horizontalAdvance("−0.0") + 2
        label_height = float(metrics.height()) if detailed and fits else 0.0
        area = rect.adjusted(0, 0, 0, -2 * label_height)
        middle = area.center().y()
        width = area.width() / max(1, count)
        painter.setPen(QPen(_neutral(palette), 1))
        painter.drawLine(QPointF(area.left(), middle), QPointF(area.right(), middle))
        fill = palette.color(QPalette.ColorRole.Highlight)
        text = palette.color(QPalette.ColorRole.Text)
        for i, value in enumerate(values.tolist()):
            share = max(-1.0, min(1.0, value / self.reach)) if math.isfinite(value) else 0.0
            height = share * area.height() / 2
            bar = QRectF(area.left() + i * width + width * 0.15, middle - max(height, 0), width * 0.7, abs(height))
            painter.fillRect(bar, fill)
            if label_height:
                painter.setPen(text)
                cell = QRectF(area.left() + i * width, area.bottom() + 1, width, label_height)
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, f"x{i + 1}")
                painter.drawText(
                    cell.translated(0, label_height), Qt.AlignmentFlag.AlignCenter, f"{value:.1f}".replace("-", "−")
                )

    def _paint_curve(self, painter: QPainter, rect: QRectF, index: int, palette: QPalette, detailed: bool) -> None:
        """One input, one value: the validation samples' true values as faint dots over the input, the
        network's predictions as a line through them, and the chosen sample's true value (a ring in the
        'right' colour) and prediction (a dot) joined by its error."""
        predictions = self.predictions
        x, true, predicted = predictions.values[:, 0], predictions.true[:, 0], predictions.predicted[:, 0]
        x_span = max(self.high - self.low, 1e-8)
        y_low, y_high = self.y_range
        y_span = max(y_high - y_low, 1e-8)
        area = rect.adjusted(4, 4, -4, -4)

        def place(u: float, v: float) -> QPointF:
            return QPointF(
                area.left() + (u - self.low) / x_span * area.width(),
                area.bottom() - (v - y_low) / y_span * area.height(),
            )

        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if detailed:
            faint = _neutral(palette)
            faint.setAlphaF(0.6)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(faint)
            for u, v in zip(x.tolist(), true.tolist(), strict=True):
                painter.drawEllipse(place(u, v), 1.8, 1.8)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(highlight, 1.5 if detailed else 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolyline(QPolygonF([place(float(x[i]), float(predicted[i])) for i in self.order.tolist()]))
        here_true = place(float(x[index]), float(true[index]))
        here_predicted = place(float(x[index]), float(predicted[index]))
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Text), 1))
        painter.drawLine(here_true, here_predicted)
        radius = 4.5 if detailed else 3.0
        painter.setPen(QPen(right_colour(palette), 2))
        painter.drawEllipse(here_true, radius, radius)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(highlight)
        painter.drawEllipse(here_predicted, radius - 1, radius - 1)

    def _paint_point(self, painter: QPainter, rect: QRectF, index: int, palette: QPalette, detailed: bool) -> None:
        """A point of a 2-D set in its plane; in the large view, the other validation points faintly behind,
        coloured by their true class, so that the chosen one is seen where it lies."""
        points = self.predictions.values
        low, high = points.min(axis=0), points.max(axis=0)
        span = (high - low).clip(min=1e-8)
        area = _fit(rect, 1, 1).adjusted(4, 4, -4, -4)

        def place(point: Any) -> QPointF:
            return QPointF(
                area.left() + (point[0] - low[0]) / span[0] * area.width(),
                area.bottom() - (point[1] - low[1]) / span[1] * area.height(),
            )

        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(_neutral(palette), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(area.adjusted(-3, -3, 3, 3))
        classes = self.predictions.true if self.predictions.kind == "classification" else None
        if detailed:
            painter.setPen(Qt.PenStyle.NoPen)
            for point, label in zip(points, classes if classes is not None else [0] * len(points), strict=True):
                colour = QColor(CLASS_COLOURS[int(label) % len(CLASS_COLOURS)])
                colour.setAlphaF(0.35)
                painter.setBrush(colour)
                painter.drawEllipse(place(point), 2.0, 2.0)
        here = place(points[index])
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Text), 2))
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        radius = 5.0 if detailed else 3.5
        painter.drawEllipse(here, radius, radius)


# ---- the grid of samples ---------------------------------------------------------------------------------


class SampleListModel(QAbstractListModel):
    """The validation samples shown in the grid (all, or only the wrong ones): a thumbnail each, and what
    the network predicted as its caption, in the 'wrong' colour when it is wrong."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.view = parent
        self.predictions = None
        self.style: SampleStyle | None = None
        self.rows: list[int] = []  # validation sample numbers, in grid order
        self.correct = None  # numpy bool per sample (classification), computed once
        self._thumbnails: dict[int, QIcon] = {}

    def show(self, predictions: Any, style: SampleStyle | None, rows: list[int]) -> None:
        self.beginResetModel()
        if predictions is not self.predictions:
            self._thumbnails.clear()
            self.correct = predictions.correct if predictions is not None else None
        self.predictions, self.style, self.rows = predictions, style, rows
        self.endResetModel()

    def repaint_all(self) -> None:
        """The palette changed: draw the thumbnails again in its colours."""
        self._thumbnails.clear()
        if self.rows:
            self.dataChanged.emit(self.index(0), self.index(len(self.rows) - 1))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.predictions is None:
            return None
        sample = self.rows[index.row()]
        predictions = self.predictions
        if role == Qt.ItemDataRole.DisplayRole:
            return predicted_text(predictions, sample)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(sample)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Validation sample {sample + 1}: " + verdict_text(predictions, sample)
        if role == Qt.ItemDataRole.ForegroundRole and self.correct is not None and not self.correct[sample]:
            return QBrush(wrong_colour(self.view.palette()))
        return None

    def _thumbnail(self, sample: int) -> QIcon:
        """The sample drawn small; the same picture when selected (the view would tint it otherwise, and a
        tinted image is not the sample)."""
        icon = self._thumbnails.get(sample)
        if icon is None:
            ratio = self.view.devicePixelRatioF()
            pixmap = QPixmap(QSize(THUMBNAIL, THUMBNAIL) * ratio)
            pixmap.setDevicePixelRatio(ratio)
            palette = self.view.palette()
            pixmap.fill(palette.color(QPalette.ColorRole.Base))
            painter = QPainter(pixmap)
            self.style.paint(painter, QRectF(1, 1, THUMBNAIL - 2, THUMBNAIL - 2), sample, palette, detailed=False)
            painter.end()
            icon = QIcon()
            for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
                icon.addPixmap(pixmap, mode)
            self._thumbnails[sample] = icon
        return icon


def class_name(predictions: Any, index: int) -> str:
    names = predictions.class_names
    return names[index] if 0 <= index < len(names) else str(index)


def _number(value: float) -> str:
    return f"{value:.4g}".replace("-", "−")


def predicted_text(predictions: Any, sample: int) -> str:
    """The grid's caption: the predicted class, or the predicted value."""
    if predictions.kind == "classification":
        return class_name(predictions, int(predictions.predicted[sample]))
    values = predictions.predicted[sample]
    return _number(float(values[0])) if len(values) == 1 else f"#{sample + 1}"


def verdict_text(predictions: Any, sample: int) -> str:
    """In words: true and predicted class with its probability, or predicted and true values."""
    if predictions.kind == "classification":
        true, predicted = int(predictions.true[sample]), int(predictions.predicted[sample])
        probability = float(predictions.probabilities[sample, predicted])
        verdict = "right" if true == predicted else "wrong"
        return (
            f"true {class_name(predictions, true)}, predicted {class_name(predictions, predicted)} "
            f"({probability:.0%}): {verdict}"
        )
    predicted, true = predictions.predicted[sample], predictions.true[sample]
    if len(predicted) == 1:
        return f"predicted {_number(float(predicted[0]))}, true {_number(float(true[0]))}"
    return f"mean absolute error {_number(float(abs(predicted - true).mean()))} over {len(predicted)} values"


class SampleView(QWidget):
    """The chosen sample, large; for a network that gives back its input image, input and output side by
    side."""

    def __init__(self) -> None:
        super().__init__()
        self.predictions = None
        self.style: SampleStyle | None = None
        self.sample: int | None = None
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(96)

    def show_sample(self, predictions: Any, style: SampleStyle, sample: int | None) -> None:
        self.predictions, self.style, self.sample = predictions, style, sample
        if style.kind == "table" and predictions.values.shape[1] <= MAX_LABELLED_FEATURES:
            width = max(340, predictions.values.shape[1] * 30 + 36)  # room to write each value under its bar
        elif predictions.output_images is not None or style.kind in ("table", "sequence", "curve"):
            width = 340
        else:
            width = 190
        self.setFixedWidth(width)
        self.update()

    def paintEvent(self, event) -> None:
        if self.predictions is None or self.sample is None:
            return
        painter = QPainter(self)
        palette = self.palette()
        area = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        if self.predictions.output_images is None:
            if self.style.kind in ("table", "sequence", "curve"):
                painter.fillRect(area, palette.color(QPalette.ColorRole.Base))
                area = area.adjusted(6, 8, -6, -8)
            self.style.paint(painter, area, self.sample, palette, detailed=True)
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
            low, high = _finite_range(predictions.predicted)
            true_low, true_high = _finite_range(predictions.true)
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
            painter.fillRect(QRectF(left, y, span, bar_height), _track(palette))
            colour = (right if true else wrong) if predicted else _neutral(palette)
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
            painter.fillRect(QRectF(left, y, span, bar_height), _track(palette))
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
                f"{_number(float(predicted[i]))} (true {_number(float(true[i]))})",
            )


# ---- the panel -------------------------------------------------------------------------------------------


class PredictPanel(QWidget):
    """The Predict tab for one document. The Training panel tells it when a run starts (`set_running`) and
    which run ended (`set_run`), and calls `shutdown()` (joins the loading thread) before it goes away."""

    def __init__(self, document: Document, history: RunHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.history = history
        self.record: RunRecord | None = next((r for r in reversed(history.records) if self._weights(r)), None)
        self.predictions = None
        self.style: SampleStyle | None = None
        self.loaded_run: str | None = None  # the run whose predictions are shown, being made, or failed
        self.failure = ""  # why the loaded run's predictions could not be made
        self.running = False
        self._thread: _LoadThread | None = None
        self._in_view = False
        self._random = random.Random()

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMargin(12)

        self.previous_button = QPushButton("Previous")
        self.previous_button.setToolTip("The sample before this one in the grid")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button = QPushButton("Next")
        self.next_button.setToolTip("The sample after this one in the grid")
        self.next_button.clicked.connect(lambda: self.step(1))
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("A sample picked at random from the grid")
        self.random_button.clicked.connect(self.pick_random)
        self.wrong_only = QCheckBox("Only wrong ones")
        self.wrong_only.setToolTip("Show only the samples whose class the network got wrong")
        self.wrong_only.toggled.connect(self._filter)
        self.position = QLabel()
        self.position.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        tools = QHBoxLayout()
        tools.setContentsMargins(6, 4, 6, 0)
        tools.setSpacing(4)
        for widget in (self.previous_button, self.next_button, self.random_button):
            tools.addWidget(widget)
        tools.addSpacing(8)
        tools.addWidget(self.wrong_only)
        tools.addStretch(1)
        tools.addWidget(self.position)

        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.grid.setGridSize(QSize(THUMBNAIL + 18, THUMBNAIL + 22))
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setWordWrap(False)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.grid.setMinimumWidth(3 * (THUMBNAIL + 18) + 20)
        self.model = SampleListModel(self.grid)
        self.grid.setModel(self.model)
        self.grid.selectionModel().currentChanged.connect(self._current_changed)

        self.sample_view = SampleView()
        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.verdict.setWordWrap(True)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.bars = ProbabilityBars()
        answer = QVBoxLayout()
        answer.setContentsMargins(0, 6, 6, 6)
        answer.setSpacing(4)
        answer.addWidget(self.verdict)
        answer.addWidget(self.bars, 1)

        body = QHBoxLayout()
        body.setContentsMargins(6, 0, 0, 0)
        body.setSpacing(6)
        body.addWidget(self.grid, 3)
        body.addWidget(self.sample_view)
        body.addLayout(answer, 4)

        self.content = QWidget()
        content_layout = QVBoxLayout(self.content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(4)
        content_layout.addLayout(tools)
        content_layout.addLayout(body, 1)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.message)
        self.pages.addWidget(self.content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self._refresh()

    # ---- what the Training panel tells it ----------------------------------------------------------------

    def set_running(self, running: bool) -> None:
        """While a run goes on, the tab says so and waits; once it has ended, the new run's predictions load
        (when the tab is in view)."""
        self.running = running
        if running:
            self._say(RUNNING)
        else:
            self._refresh()

    def set_run(self, record: RunRecord | None) -> None:
        """A run ended: it becomes the run shown, if it kept its weights."""
        if record is not None and self._weights(record) is not None:
            self.record = record
            self._refresh()

    def shutdown(self) -> None:
        """Join the loading thread (the document is going away)."""
        if self._thread is not None:
            self._thread.wait()
            self._thread = None
            main_thread_collector().release()

    # ---- stepping --------------------------------------------------------------------------------------

    @property
    def current_sample(self) -> int | None:
        """The validation sample shown (its number in the validation part), or None."""
        index = self.grid.currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def select(self, sample: int) -> None:
        """Show this validation sample (it must be in the grid)."""
        row = self.model.rows.index(sample)
        index = self.model.index(row)
        self.grid.setCurrentIndex(index)
        self.grid.scrollTo(index)

    def step(self, offset: int) -> None:
        """The next or previous sample of the grid, going round at the ends."""
        rows = self.model.rows
        if not rows:
            return
        current = self.grid.currentIndex()
        row = (current.row() + offset) % len(rows) if current.isValid() else 0
        self.select(rows[row])

    def pick_random(self) -> None:
        rows = self.model.rows
        if not rows:
            return
        others = [s for s in rows if s != self.current_sample] or rows
        self.select(self._random.choice(others))

    # ---- loading ---------------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._in_view = True
        if self.predictions is None and self._thread is None:
            self.loaded_run = None  # what failed before is tried again: the graph or the files may be fixed
        QTimer.singleShot(0, self._refresh)  # a glimpse while the docks are arranged loads nothing

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._in_view = False

    def _weights(self, record: RunRecord) -> Path | None:
        return self.history.file_path(record, record.weights)

    def _refresh(self) -> None:
        """Load the predictions of the run to show, if the tab is in view and they are not there yet."""
        record = self.record
        if self.running or record is None:
            self._say_what_to_do()
            return
        if self.loaded_run == record.run_id:  # shown already, or failed, or loading: say which again
            if self.predictions is not None:
                self.pages.setCurrentWidget(self.content)
            else:
                self._say(self.failure or LOADING)
            return
        self._say(LOADING)
        if not self._in_view or not self.isVisible() or self._thread is not None:
            return  # when the tab is looked at, or when the load under way has ended
        weights = self._weights(record)
        self.loaded_run = record.run_id
        if weights is None:
            self._show_failure("The weights of this run are gone; train again.")
            return
        self.failure = ""
        self.predictions = None  # the earlier run's are not this run's
        self.model.show(None, None, [])
        main_thread_collector().hold()  # no garbage collection on the loading thread (see main_thread_gc)
        self._thread = _LoadThread(self._project_of(record), weights, record.run_id, self)
        self._thread.ready.connect(self._show_predictions)
        self._thread.failed.connect(self._fail)
        self._thread.finished.connect(self._loaded)
        self._thread.start()

    def _project_of(self, record: RunRecord) -> Project:
        """The project as it is now, with the run's split, seed and batch size: its validation part is the
        run's (the network is the one drawn now; the weights tell whether it is still the run's)."""
        project = snapshot(self.document.project)
        kept = {k: record.settings[k] for k in ("val_fraction", "seed", "batch_size", "device") if k in record.settings}
        try:
            settings = replace(project.training, **kept)
        except ValueError:  # a run record from elsewhere with odd settings: the project's own then
            settings = project.training
        return replace(project, training=settings)

    def _loaded(self) -> None:
        self.shutdown()  # finished: join it now
        if self.record is not None and self.loaded_run != self.record.run_id:
            self._refresh()  # a newer run ended while this one loaded

    def _show_predictions(self, predictions: Any) -> None:
        if self.sender() is not self._thread or self.record is None or self._thread.run_id != self.record.run_id:
            return
        if (
            predictions.class_names
            and self.record.class_names
            and list(predictions.class_names) != list(self.record.class_names)
        ):
            self._show_failure("The data changed since this run (its classes are not the run's); train again.")
            return
        self.predictions = predictions
        self.style = SampleStyle(predictions)
        classification = predictions.kind == "classification"
        wrong = int((~predictions.correct).sum()) if classification else 0
        self.wrong_only.setVisible(classification)
        self.wrong_only.setEnabled(wrong > 0)
        self.wrong_only.setText(f"Only wrong ones ({wrong})" if wrong else "None wrong")
        with QSignalBlocker(self.wrong_only):
            self.wrong_only.setChecked(False)
        names = [self.grid.fontMetrics().horizontalAdvance(name) for name in predictions.class_names]
        width = max(THUMBNAIL + 18, min(MAX_CAPTION_WIDTH, max(names, default=0) + 12))
        self.grid.setGridSize(QSize(width, THUMBNAIL + 22))  # class names fit under their samples
        self.model.show(predictions, self.style, list(range(len(predictions))))
        self.pages.setCurrentWidget(self.content)
        self.step(0)

    def _fail(self, message: str) -> None:
        if self.sender() is self._thread and self._thread.run_id == self.loaded_run:
            self._show_failure(message)

    def _show_failure(self, message: str) -> None:
        self.failure = message
        self.predictions = None
        self.model.show(None, None, [])
        self._say(message)

    def _filter(self, wrong_only: bool) -> None:
        predictions = self.predictions
        if predictions is None:
            return
        current = self.current_sample
        if wrong_only and predictions.correct is not None:
            rows = [int(i) for i in (~predictions.correct).nonzero()[0]]
        else:
            rows = list(range(len(predictions)))
        self.model.show(predictions, self.style, rows)
        if rows:
            self.select(current if current in rows else rows[0])

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        predictions = self.predictions
        sample = self.model.rows[current.row()] if current.isValid() and predictions is not None else None
        if sample is None:
            return
        self.sample_view.show_sample(predictions, self.style, sample)
        self.bars.show_sample(predictions, sample)
        self.bars.setVisible(predictions.output_images is None)  # input and output images say it better
        self.verdict.setText(self._verdict_html(sample))
        rows = self.model.rows
        where = f"{rows.index(sample) + 1} of {len(rows)} wrong" if self.wrong_only.isChecked() else ""
        run = self.record
        when = time.strftime("%d %b %H:%M", time.localtime(run.started)) if run and run.started else ""
        first = predictions.part_size > len(predictions)  # a streamed part: its first samples are read
        self.position.setText(
            f"Validation sample {sample + 1:,} of {len(predictions):,}"
            + (f" read from {predictions.part_size:,}" if first else "")
            + (f" ({where})" if where else "")
            + (f" · run of {when}" if when else "")
        )
        for button in (self.previous_button, self.next_button, self.random_button):
            button.setEnabled(len(rows) > 1)

    def _verdict_html(self, sample: int) -> str:
        predictions = self.predictions
        palette = self.palette()
        right, wrong = right_colour(palette).name(), wrong_colour(palette).name()
        if predictions.kind != "classification":
            return escape(sentence(verdict_text(predictions, sample)))
        true, predicted = int(predictions.true[sample]), int(predictions.predicted[sample])
        probability = float(predictions.probabilities[sample, predicted])
        ok = true == predicted
        return (
            f"True class <b style='color:{right}'>{escape(class_name(predictions, true))}</b> · "
            f"predicted <b style='color:{right if ok else wrong}'>{escape(class_name(predictions, predicted))}</b>"
            f" with {probability:.0%}: <b style='color:{right if ok else wrong}'>{'right' if ok else 'wrong'}</b>"
        )

    # ---- what it says ----------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)

    def _say_what_to_do(self) -> None:
        if self.running:
            self._say(RUNNING)
        else:
            self._say(UNSAVED if self.history.folder is None else NO_RUN)

    def outcome_text(self) -> str:
        """What the tab says when it shows no samples (empty when it does)."""
        return self.message.text() if self.pages.currentWidget() is self.message else ""

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and self.predictions is not None:
            self.model.repaint_all()
            sample = self.current_sample
            if sample is not None:
                self.verdict.setText(self._verdict_html(sample))


def _kind(predictions: Any) -> str:
    """How samples are drawn: image, sequence, point (two features), curve (one feature, one value to
    predict) or table."""
    values = predictions.values
    if predictions.images is not None:
        return "image"
    if values.ndim == 3:
        return "sequence"
    if values.shape[1] == 2:
        return "point"
    if values.shape[1] == 1 and predictions.kind == "regression" and predictions.predicted.shape[1] == 1:
        return "curve"
    return "table"


def _finite_range(values: Any) -> tuple[float, float]:
    """The lowest and highest finite value of a numpy array ((0, 1) when it has none)."""
    import numpy  # loaded already: the arrays come from it

    finite = values[numpy.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
