"""The confusion matrix of the Classes tab: a square of cells coloured by count (rows: true class; columns:
predicted), the counts written in them up to 20 classes. A cell says what it counts under the pointer, and a
click on it asks for those samples (`cell_clicked`), which the Predict tab then shows."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from netbuilder.ui.widgets.colors import mix, readable_on

MAX_LABELLED_CLASSES = 20  # above this the matrix shows colours only
MAX_NAMED_FIRST = 10  # classes named on each axis whatever the room; the others are named where they fit


class ConfusionView(pg.PlotWidget):
    """Hidden until `set_matrix`; `set_colours` takes the plots' colours (base, text, train) in any theme."""

    cell_clicked = Signal(int, int)  # (true class, predicted class) of the cell clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = self.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.texts: list[list[pg.TextItem]] = []
        self.matrix: np.ndarray | None = None
        self.class_names: list[str] = []
        self._lut: np.ndarray | None = None  # the colour of each of 256 levels, made again when the colours change
        palette = self.palette()  # until the plots hand over their colours
        self._colours: dict[str, QColor] = {
            "base": palette.color(QPalette.ColorRole.Base),
            "text": palette.color(QPalette.ColorRole.Text),
            "train": palette.color(QPalette.ColorRole.Highlight),
        }
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._hovered)
        self.hide()

    def clear_matrix(self) -> None:
        """A new run: no matrix until it ends."""
        self.matrix = None
        self.hide()

    def set_colours(self, colours: dict[str, QColor]) -> None:
        self._colours = colours
        self._lut = None
        self.setBackground(colours["base"])
        if self.matrix is not None:
            self._paint()

    def set_matrix(self, matrix: Sequence[Sequence[int]], class_names: Sequence[str]) -> None:
        """Show the confusion matrix of the run that just ended (rows: true class; columns: predicted)."""
        counts = np.asarray(matrix, dtype=float)
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.size == 0:
            return
        self.matrix = counts
        classes = counts.shape[0]
        names = list(class_names) if len(class_names) == classes else [str(i) for i in range(classes)]
        fitted = names == self.class_names and self.isVisible()  # the axes and the view hold (each epoch's)
        self.class_names = names
        if not fitted:
            # every few classes named first, the others where there is room (pyqtgraph leaves out a level of
            # tick words that would overlap): 100 class names would be a smudge
            step = math.ceil(classes / MAX_NAMED_FIRST)
            named = [(i + 0.5, name[:8]) for i, name in enumerate(names)]
            ticks = [named[::step], [tick for i, tick in enumerate(named) if i % step]]
            self.plot.getAxis("bottom").setTicks(ticks)
            left = self.plot.getAxis("left")
            left.setTicks(ticks)
            left.setWidth(max(self.fontMetrics().horizontalAdvance(name) for _, name in named) + 14)
        if len(self.texts) != classes:  # made again only when the number of classes changes
            for row in self.texts:
                for text in row:
                    self.plot.removeItem(text)
            self.texts = []
            if classes <= MAX_LABELLED_CLASSES:
                for i in range(classes):
                    row = []
                    for j in range(classes):
                        text = pg.TextItem("", anchor=(0.5, 0.5))
                        text.setPos(j + 0.5, i + 0.5)
                        self.plot.addItem(text, ignoreBounds=True)
                        row.append(text)
                    self.texts.append(row)
        self._paint()
        if not fitted:
            self.show()
            self.plot.enableAutoRange()  # fits the matrix now and whenever the view is resized
            self.plot.autoRange(padding=0)

    def _paint(self) -> None:
        c = self._colours
        counts = self.matrix
        top = max(1.0, float(counts.max()))
        low, high = c["base"], QColor(c["train"])
        if self._lut is None:
            self._lut = np.array(
                [[*(mix(low, high, i / 255).getRgb()[:3]), 255] for i in range(256)],
                dtype=np.ubyte,
            )
        self.image.setImage(counts, levels=(0, top), lut=self._lut)
        self.image.setRect(0, 0, counts.shape[1], counts.shape[0])
        font = self.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() - 1.5))
        for i, row in enumerate(self.texts):
            for j, text in enumerate(row):
                value = counts[i, j]
                words = f"{value:.0f}" if value else ""
                if words != text.toPlainText():
                    text.setText(words)
                if text.textItem.font() != font:
                    text.setFont(font)
                if words:  # an empty cell's colour shows nothing
                    text.setColor(readable_on(mix(low, high, value / top), c["text"], c["base"]))

    # ---- pointing at a cell -----------------------------------------------------------------------------

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (true, predicted) cell under this point of the scene, or None."""
        box = self.plot.vb
        if self.matrix is None or not box.sceneBoundingRect().contains(scene_pos):
            return None
        point = box.mapSceneToView(scene_pos)
        row, column = math.floor(point.y()), math.floor(point.x())
        classes = self.matrix.shape[0]
        return (row, column) if 0 <= row < classes and 0 <= column < classes else None

    def cell_words(self, true: int, predicted: int) -> str:
        """What a cell counts, in words, and what a click on it does."""
        count = int(self.matrix[true, predicted])
        samples = "1 sample" if count == 1 else f"{count:,} samples"
        return (
            f"True {self.class_names[true]}, predicted {self.class_names[predicted]}: {samples}. "
            "Click to see them in the Predict tab."
        )

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            event.accept()
            self.cell_clicked.emit(*cell)

    def _hovered(self, scene_pos: QPointF) -> None:
        """The pointer's cell: a pointing hand, and the image's tooltip says what the cell counts (the scene
        shows an item's tooltip; one given to the view it would hide)."""
        cell = self.cell_at(scene_pos)
        if cell is None:
            self.unsetCursor()
            self.image.setToolTip("")
            return
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.image.setToolTip(self.cell_words(*cell))
