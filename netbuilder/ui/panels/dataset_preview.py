"""The Dataset node's preview: sample images, the class balance, the points of a 2-D set, or for texts their
lengths against max_length and examples beside their tokens (text_preview).

Loading a dataset needs torch, so the preview loads on request ("Preview data"), in a BackgroundTask, and
the window never waits for it. What it draws comes from netbuilder.data.preview as plain numpy arrays.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from netbuilder.project.settings import TrainingSettings
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.panels.augmented_view import AugmentedView
from netbuilder.ui.panels.text_preview import TextPreview
from netbuilder.ui.theme import CATEGORY_COLOURS
from netbuilder.ui.widgets.colors import CLASS_COLOURS

Split = tuple[float, int]  # the training settings' val_fraction and seed: the part a vocabulary comes from
DISPLAY_ONLY = frozenset({"max_length"})  # settings a shown preview follows without loading again


def _make_preview(params: dict[str, Any], split: Split) -> Any:
    """netbuilder.data.preview's Preview of the dataset (on the task's thread: torch loads there)."""
    from netbuilder.data.preview import make_preview

    val_fraction, seed = split
    return make_preview(params, seed=seed, val_fraction=val_fraction)


class DatasetPreview(QWidget):
    """A button, then a picture of the data: an image grid or a scatter, and the class counts below; for texts
    the class counts, then the lengths and examples. `settings` gives the project's training settings when the
    preview loads: texts are read through the vocabulary of the training part that their split leaves, as
    training reads them."""

    def __init__(
        self, settings: Callable[[], TrainingSettings] = TrainingSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.shown_split: Split | None = None  # the split of the preview shown
        self.params: dict[str, Any] | None = None
        self.preview = None
        self._task: BackgroundTask | None = None
        self.button = QPushButton("Preview data")
        self.button.setToolTip("Load the dataset and show samples and the class balance (loads torch once)")
        self.button.clicked.connect(self.load)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.canvas = _PreviewCanvas()
        self.text = TextPreview()
        self.text.hide()
        self.augmented = AugmentedView()  # an augmenting image set: its training images as training sees them
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.status)
        layout.addWidget(self.canvas)
        layout.addWidget(self.text)
        layout.addWidget(self.augmented)
        layout.addStretch(1)

    def set_params(self, params: Mapping[str, Any]) -> None:
        """The Dataset node's parameters; a shown preview reloads when they change."""
        params = dict(params)
        if params == self.params:
            return
        before = self.params or {}
        changed = {key for key in params.keys() | before.keys() if params.get(key) != before.get(key)}
        self.params = params
        shown = self.preview if self._task is None else None
        if shown is not None and shown.text_lengths is not None and changed <= DISPLAY_ONLY:
            self.text.set_max_length(self._max_length())  # the texts and their tokens are the same; the cut moves
        elif self.preview is not None or self._task is not None:
            self.load()

    def load(self) -> None:
        if self.params is None:
            return
        self.wait()
        self.status.setText("Loading…")
        self.button.setEnabled(False)
        training = self.settings()
        split = self.shown_split = (training.val_fraction, training.seed)
        self._task = BackgroundTask(functools.partial(_make_preview, self.params, split), "netbuilder data preview")
        self._task.succeeded.connect(self._show)
        self._task.failed.connect(self._fail)
        self._task.start()

    def wait(self) -> None:
        """Join the loading task, dropping what it would show (before a reload, and before the widget goes
        away)."""
        if self._task is not None:
            self._task.join()
            self._task = None

    def _show(self, preview) -> None:
        self._loaded()
        self.preview = preview
        self.canvas.set_preview(preview)
        self.augmented.set_preview(preview, self.params, self.shown_split[1])
        if preview.text_lengths is not None:
            self._show_text()
            return
        self.text.hide()
        what = "images" if preview.images is not None else "points" if preview.points is not None else "samples"
        shape = "×".join(str(d) for d in preview.input_shape)
        self.status.setText(
            f"{preview.samples:,} samples of {shape}; {what} below"
            + (f", {len(preview.class_names)} classes" if preview.class_names else "")
        )

    def _show_text(self) -> None:
        """The status in text words ("2,000 texts, 2 classes, median 87 tokens") and the text view at the node's
        max_length."""
        preview = self.preview
        classes = f"{len(preview.class_names)} classes, " if preview.class_names else ""
        median = statistics.median(preview.text_lengths.tolist()) if len(preview.text_lengths) else 0
        self.status.setText(f"{preview.samples:,} texts, {classes}median {median:,.0f} tokens")
        pieces = self.params.get("tokenizer") == "bpe"
        self.text.set_preview(preview, self._max_length(), self.shown_split, pieces=pieces)
        self.text.show()

    def _max_length(self) -> int:
        return int(self.params.get("max_length", self.preview.input_shape[0]))

    def _fail(self, error: Exception) -> None:
        self._loaded()
        self.preview = None
        self.status.setText(str(error))  # a DataLoadError says what is wrong with the data and what to do
        self.canvas.set_preview(None)
        self.augmented.set_preview(None, {}, 0)
        self.text.hide()

    def _loaded(self) -> None:
        self._task = None  # joined by the task before it reports
        self.button.setEnabled(True)
        self.button.setText("Reload preview")

    def closeEvent(self, event) -> None:
        self.wait()
        self.augmented.wait()
        super().closeEvent(event)


COUNTS_HEIGHT = 90  # the class counts' bars and names, below any picture


class _PreviewCanvas(QWidget):
    """Paints the preview: a grid of images or a scatter on top, class counts as bars below."""

    def __init__(self) -> None:
        super().__init__()
        self.preview = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(0)

    def set_preview(self, preview) -> None:
        self.preview = preview
        if preview is None:
            self.setFixedHeight(0)
        elif preview.images is not None or preview.points is not None:
            self.setFixedHeight(300)
        else:
            self.setFixedHeight(COUNTS_HEIGHT if preview.counts is not None else 0)
        self.update()

    def paintEvent(self, event) -> None:
        if self.preview is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        top = QRectF(0, 0, self.width(), 200)
        bottom = QRectF(0, self.height() - COUNTS_HEIGHT, self.width(), COUNTS_HEIGHT - 4)
        if self.preview.images is not None:
            self._paint_images(painter, top)
        elif self.preview.points is not None:
            self._paint_points(painter, top)
        if self.preview.counts is not None:
            self._paint_counts(painter, bottom)
        painter.end()

    def _paint_images(self, painter: QPainter, area: QRectF) -> None:
        images = self.preview.images
        columns = 4
        cell = min(area.width() / columns, area.height() / 4)
        for i, image in enumerate(images):
            height, width = image.shape[:2]
            qimage = QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
            target = QRectF((i % columns) * cell + 2, (i // columns) * cell + 2, cell - 4, cell - 4)
            painter.drawImage(target, qimage)
            if self.preview.image_labels and self.preview.class_names:
                name = self.preview.class_names[self.preview.image_labels[i]]
                painter.setPen(QColor("#ffffff"))
                painter.fillRect(QRectF(target.left(), target.bottom() - 14, target.width(), 14), QColor(0, 0, 0, 140))
                painter.drawText(target.adjusted(3, 0, -2, -1), Qt.AlignmentFlag.AlignBottom, name)

    def _paint_points(self, painter: QPainter, area: QRectF) -> None:
        points, labels = self.preview.points, self.preview.point_labels
        low, high = points.min(axis=0), points.max(axis=0)
        span = (high - low).clip(min=1e-9)
        painter.setPen(Qt.PenStyle.NoPen)
        classification = bool(self.preview.class_names)
        for (px, py), label in zip(points, labels, strict=True):
            colour = (
                CLASS_COLOURS[int(label) % len(CLASS_COLOURS)] if classification else QColor(CATEGORY_COLOURS["Core"])
            )
            painter.setBrush(colour)
            x = area.left() + 6 + (px - low[0]) / span[0] * (area.width() - 12)
            y = area.bottom() - 6 - (py - low[1]) / span[1] * (area.height() - 12)
            painter.drawEllipse(QPointF(x, y), 2.2, 2.2)

    def _paint_counts(self, painter: QPainter, area: QRectF) -> None:
        counts = self.preview.counts
        names = self.preview.class_names
        most = max(1, int(counts.max()))
        width = area.width() / len(counts)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        for i, count in enumerate(counts):
            height = (area.height() - 16) * int(count) / most
            bar = QRectF(area.left() + i * width + 1, area.bottom() - 16 - height, max(1.0, width - 2), height)
            painter.fillRect(bar, CLASS_COLOURS[i % len(CLASS_COLOURS)])
            if len(counts) <= 12:
                painter.setPen(text)
                label = names[i] if i < len(names) else str(i)
                label = painter.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight, int(width - 4))
                painter.drawText(
                    QRectF(bar.left(), area.bottom() - 14, width, 14), Qt.AlignmentFlag.AlignHCenter, label
                )
