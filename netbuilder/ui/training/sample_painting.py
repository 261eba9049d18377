"""How a validation sample is drawn in the Predict tab: as its image, its sequence (a few lines), its place
in the plane of a 2-D set, its value on the learned curve, or a row of feature values; and the colours that say
right and wrong in both themes. The predictions are numpy arrays; numpy is imported only where they are drawn,
as it is not yet loaded when the window opens."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPen, QPolygonF

from netbuilder.heat_colours import heat_rgba
from netbuilder.ui.icons import palette_is_dark
from netbuilder.ui.theme import DARK, LIGHT
from netbuilder.ui.widgets.colors import CLASS_COLOURS, mix

MAX_SEQUENCE_LINES = 4

# ---- colours ---------------------------------------------------------------------------------------------


def right_colour(palette: QPalette) -> QColor:
    """Green for the true class and right answers, readable on the palette's base in both themes."""
    return DARK.port_highlight if palette_is_dark(palette) else QColor("#2e7d32")


def wrong_colour(palette: QPalette) -> QColor:
    """The theme's error red, for wrong answers."""
    return DARK.error if palette_is_dark(palette) else LIGHT.error


def neutral_colour(palette: QPalette) -> QColor:
    """Bars and marks that are neither right nor wrong."""
    return mix(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text), 0.4)


def track_colour(palette: QPalette) -> QColor:
    """The faint track behind a bar."""
    return mix(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text), 0.08)


# ---- drawing one sample ----------------------------------------------------------------------------------


def to_qimage(picture: Any) -> QImage:
    """An (H, W, 1) grey or (H, W, 3) RGB uint8 numpy array as a QImage that owns its pixels."""
    height, width, channels = picture.shape
    fmt = QImage.Format.Format_Grayscale8 if channels == 1 else QImage.Format.Format_RGB888
    return QImage(picture.tobytes(), width, height, width * channels, fmt).copy()


def fit(rect: QRectF, width: float, height: float) -> QRectF:
    """The largest rectangle of this aspect ratio centred in `rect`."""
    scale = min(rect.width() / width, rect.height() / height)
    w, h = width * scale, height * scale
    return QRectF(rect.center().x() - w / 2, rect.center().y() - h / 2, w, h)


def paint_picture(painter: QPainter, rect: QRectF, picture: Any) -> None:
    """Small images keep their pixels sharp when enlarged (an 8x8 digit is 64 squares, not a blur)."""
    image = to_qimage(picture)
    target = fit(rect, image.width(), image.height())
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, max(image.width(), image.height()) > 32)
    painter.drawImage(target, image)


class SampleStyle:
    """How the samples of one set of predictions are drawn: the kind of picture and the value ranges shared
    by all samples, so that two samples drawn alike have alike values."""

    def __init__(self, predictions: Any) -> None:
        import numpy  # loaded already: the predictions are numpy arrays

        self.predictions = predictions
        values = predictions.values
        self.kind = sample_kind(predictions)
        self.low, self.high = finite_range(values) if values is not None else (0.0, 1.0)
        if self.kind == "table":  # bars around zero, scaled so that a few outliers do not flatten the rest
            magnitudes = numpy.abs(values[numpy.isfinite(values)])
            self.reach = max(float(numpy.percentile(magnitudes, 99)) if magnitudes.size else 0.0, 1e-8)
        if self.kind == "curve":  # the learned function: predictions joined in the order of the input
            self.order = numpy.argsort(values[:, 0], kind="stable")
            true_low, true_high = finite_range(predictions.true)
            low, high = finite_range(predictions.predicted)
            self.y_range = (min(low, true_low), max(high, true_high))

    def paint(self, painter: QPainter, rect: QRectF, index: int, palette: QPalette, detailed: bool) -> None:
        """Draw sample `index` in `rect` (not a text: the list writes its start, TextSampleView the whole)."""
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
            track = track_colour(palette)
            painter.setPen(QPen(track if palette_is_dark(palette) else track.darker(115), 1))
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
        painter.setPen(QPen(neutral_colour(palette), 1))
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
            faint = neutral_colour(palette)
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
        area = fit(rect, 1, 1).adjusted(4, 4, -4, -4)

        def place(point: Any) -> QPointF:
            return QPointF(
                area.left() + (point[0] - low[0]) / span[0] * area.width(),
                area.bottom() - (point[1] - low[1]) / span[1] * area.height(),
            )

        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(neutral_colour(palette), 1))
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


def sample_kind(predictions: Any) -> str:
    """How samples are drawn: image, text (tokens), sequence, point (two features), curve (one feature, one
    value to predict) or table."""
    values = predictions.values
    if predictions.images is not None:
        return "image"
    if getattr(predictions, "tokens", None) is not None:
        return "text"
    if values.ndim == 3:
        return "sequence"
    if values.shape[1] == 2:
        return "point"
    if values.shape[1] == 1 and predictions.kind == "regression" and predictions.predicted.shape[1] == 1:
        return "curve"
    return "table"


def finite_range(values: Any) -> tuple[float, float]:
    """The lowest and highest finite value of a numpy array ((0, 1) when it has none)."""
    import numpy  # loaded already: the arrays come from it

    finite = values[numpy.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


# ---- what the network looks at ---------------------------------------------------------------------------


def heat_image(heat: Any, opacity: float) -> QImage:
    """An (H, W) map in [0, 1] as a QImage to lay over its sample, in the colours of `heat_rgba`."""
    pixels = heat_rgba(heat, opacity)
    height, width = pixels.shape[:2]
    return QImage(pixels.tobytes(), width, height, width * 4, QImage.Format.Format_RGBA8888).copy()


def paint_heat(painter: QPainter, rect: QRectF, heat: Any, opacity: float) -> None:
    """An image's map over the picture that `paint_picture` drew in the same `rect`."""
    image = heat_image(heat, opacity)
    target = fit(rect, image.width(), image.height())
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, max(image.width(), image.height()) > 32)
    painter.drawImage(target, image)


def paint_heat_strip(painter: QPainter, rect: QRectF, heat: Any, opacity: float) -> None:
    """A sequence's map as a band per time step across `rect`, behind its lines: step i's band is centred
    where `_paint_sequence` puts step i."""
    steps = len(heat)
    width = rect.width() / max(1, steps - 1)
    painter.save()
    painter.setClipRect(rect)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    bands = QRectF(rect.left() - width / 2, rect.top(), width * steps, rect.height())
    painter.drawImage(bands, heat_image(heat.reshape(1, -1), opacity))
    painter.restore()
