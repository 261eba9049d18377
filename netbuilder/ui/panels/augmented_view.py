"""The Dataset preview's grid of augmented training images (netbuilder.data.augmented_preview): a few training
images in rows, each drawn anew in every column by train.py's own augment() and mix(), and "New samples" to
draw again. Drawing needs torch, so it runs in a BackgroundTask, as the preview's loading does."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from netbuilder.ui.background import BackgroundTask

GRID_HEIGHT = 260


def _draw(params: dict[str, Any], originals: Any, class_names: tuple[str, ...], draw: int, seed: int) -> Any:
    """The next grid (on the task's thread: torch runs there)."""
    from netbuilder.data.augmented_preview import augmented_grid

    return augmented_grid(params, originals, class_names, draw=draw, seed=seed)


class AugmentedView(QWidget):
    """A title, the grid, and a "New samples" button; hidden while the Dataset augments nothing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = None  # the AugmentedGrid shown
        self._inputs: tuple[dict[str, Any], Any, tuple[str, ...], int] | None = None
        self._task: BackgroundTask | None = None
        self.title = QLabel("Augmented, as training sees them (each row one image)")
        self.title.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.button = QPushButton("New samples")
        self.button.setToolTip("Draw the augmentations again: every epoch changes each training image anew")
        self.button.clicked.connect(self.draw_again)
        self.canvas = _GridCanvas()
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas)
        self.hide()

    def set_preview(self, preview: Any, params: Mapping[str, Any], seed: int) -> None:
        """Show the preview's grid (None, or a preview without one, hides the view)."""
        self.wait()
        grid = getattr(preview, "augmented", None)
        self._inputs = (dict(params), preview.originals, preview.class_names, seed) if grid is not None else None
        self._set_grid(grid)

    def draw_again(self) -> None:
        if self._inputs is None or self.grid is None:
            return
        self.wait()
        params, originals, class_names, seed = self._inputs
        work = functools.partial(_draw, params, originals, class_names, self.grid.draw + 1, seed)
        self.button.setEnabled(False)
        self._task = BackgroundTask(work, "netbuilder augmented samples")
        self._task.succeeded.connect(self._drawn)
        self._task.failed.connect(self._failed)
        self._task.start()

    def wait(self) -> None:
        """Join a drawing task, dropping what it would show."""
        if self._task is not None:
            self._task.join()
            self._task = None
            self.button.setEnabled(True)

    def _drawn(self, grid: Any) -> None:
        self._task = None
        self.button.setEnabled(True)
        self._set_grid(grid)

    def _failed(self, error: Exception) -> None:
        self._task = None
        self.button.setEnabled(True)
        self.title.setText(f"Could not augment the samples: {error}")

    def _set_grid(self, grid: Any) -> None:
        self.grid = grid
        self.canvas.set_grid(grid)
        self.setVisible(grid is not None)

    def closeEvent(self, event) -> None:
        self.wait()
        super().closeEvent(event)


class _GridCanvas(QWidget):
    """Paints the grid, each cell with its class (or the two classes it mixes) along its bottom."""

    def __init__(self) -> None:
        super().__init__()
        self.grid = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(GRID_HEIGHT)

    def set_grid(self, grid: Any) -> None:
        self.grid = grid
        self.update()

    def paintEvent(self, event) -> None:
        if self.grid is None:
            return
        images, labels = self.grid.images, self.grid.labels
        columns = round(len(images) ** 0.5)
        cell = min(self.width() / columns, self.height() / columns)
        painter = QPainter(self)
        for i, image in enumerate(images):
            height, width = image.shape[:2]
            qimage = QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
            target = QRectF((i % columns) * cell + 2, (i // columns) * cell + 2, cell - 4, cell - 4)
            painter.drawImage(target, qimage)
            if labels[i]:
                painter.fillRect(QRectF(target.left(), target.bottom() - 14, target.width(), 14), QColor(0, 0, 0, 140))
                painter.setPen(QColor("#ffffff"))
                text = painter.fontMetrics().elidedText(labels[i], Qt.TextElideMode.ElideRight, int(target.width() - 4))
                painter.drawText(target.adjusted(3, 0, -2, -1), Qt.AlignmentFlag.AlignBottom, text)
        painter.end()
