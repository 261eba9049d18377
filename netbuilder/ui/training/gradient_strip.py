"""The heat strip of a run's gradients: one row per layer (first layer at the top), one column per sampled
step, coloured by the log of the layer's gradient norm, so a gradient that dies towards the input (dark rows
at the top) or blows up (a bright band to the right) shows at a glance. A cell says its layer, step and
figures under the pointer.

The image item is made once and given new pixels with `setImage`, at most every REFRESH_MS; the columns live
in numpy buffers that grow by doubling up to MAX_COLUMNS, after which every other column is dropped and
only every other new sample kept, so a long run's memory stays bounded. Columns are evenly spaced in steps:
when the engine samples less often (it doubles its interval for quick steps), the earlier columns are thinned
to the new spacing.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QTimer
from PySide6.QtGui import QCursor, QPalette
from PySide6.QtWidgets import QToolTip, QWidget

from netbuilder.project.gradient_samples import GradientReport, GradientSample
from netbuilder.ui.widgets.colors import mix

REFRESH_MS = 100
MAX_COLUMNS = 2048
FIGURES = 3  # gradient norm, weight norm, update-to-weight ratio
NAMED_ALWAYS = 4  # every 4th layer's name is always written; the others where the strip has room


class GradientStrip(pg.PlotWidget):
    """Empty until `add` hears a report; `begin` clears it for a new run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = self.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setLabel("bottom", "step")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(
            colorMap=pg.colormap.get("viridis"), interactive=False, label="log₁₀ norm", width=12
        )
        self.colour_bar.setImageItem(self.image, insert_in=self.plot)
        self.layers: tuple[str, ...] = ()
        self.steps = np.zeros(0, dtype=np.int64)
        self.figures = np.zeros((FIGURES, 0, 0))
        self.columns = 0
        self.spacing = 0  # steps between columns (0 until there are two)
        self._dirty = False
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.scene().sigMouseMoved.connect(self._hovered)
        self._apply_palette()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and "colour_bar" in self.__dict__:  # not while being made
            self._apply_palette()

    def _apply_palette(self) -> None:
        """The window's colours, as the other plots take them, in any theme."""
        palette = self.palette()
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        self.setBackground(base)
        for axis in (self.plot.getAxis("left"), self.plot.getAxis("bottom"), self.colour_bar.axis):
            axis.setPen(pg.mkPen(mix(text, base, 0.45)))
            axis.setTextPen(pg.mkPen(text))

    def begin(self) -> None:
        """A new run: no columns until its first report."""
        self.layers = ()
        self.columns = 0
        self.spacing = 0
        self.image.clear()
        self._dirty = False

    def add(self, report: GradientReport) -> None:
        """Take a report's samples; the strip is painted on the next refresh."""
        if report.layers != self.layers:  # the first report of a run (or another network)
            self.layers = report.layers
            self.columns = 0
            self.steps = np.zeros(64, dtype=np.int64)
            self.figures = np.zeros((FIGURES, len(self.layers), 64))
            ticks = [(i + 0.5, name) for i, name in enumerate(self.layers)]
            always = [tick for i, tick in enumerate(ticks) if i % NAMED_ALWAYS == 0 or i == len(ticks) - 1]
            # pyqtgraph writes a second level's names only where they do not overlap
            self.plot.getAxis("left").setTicks([always, [tick for tick in ticks if tick not in always]])
            self.spacing = 0
        for sample in report.samples:
            self._append(sample)
        self._dirty = True

    def _append(self, sample: GradientSample) -> None:
        if self.columns:
            gap = sample.step - int(self.steps[self.columns - 1])
            if gap <= 0 or gap < self.spacing:  # finer than the strip keeps now
                return
            if gap > self.spacing > 0:  # the engine samples less often: the earlier columns follow
                self._thin(gap, sample.step)
            self.spacing = gap
        if self.columns == MAX_COLUMNS:  # keep every other column, and from now on every other sample
            self._thin(2 * self.spacing, int(self.steps[self.columns - 1]))
            if sample.step - int(self.steps[self.columns - 1]) < self.spacing:
                return
        if self.columns == len(self.steps):  # grow by doubling
            self.steps = np.concatenate([self.steps, np.zeros_like(self.steps)])
            self.figures = np.concatenate([self.figures, np.zeros_like(self.figures)], axis=2)
        column = self.columns
        self.steps[column] = sample.step
        self.figures[:, :, column] = (sample.gradient_norms, sample.weight_norms, sample.update_ratios)
        self.columns += 1

    def _thin(self, spacing: int, anchor: int) -> None:
        """Keep the columns `spacing` steps apart that line up with the step `anchor`."""
        kept = np.flatnonzero((anchor - self.steps[: self.columns]) % spacing == 0)
        self.steps[: len(kept)] = self.steps[kept]
        self.figures[:, :, : len(kept)] = self.figures[:, :, kept]
        self.columns = len(kept)
        self.spacing = spacing

    def refresh(self) -> None:
        """Paint the columns heard since the last refresh (the timer's work; a test may call it)."""
        if not self._dirty or self.columns == 0:
            return
        self._dirty = False
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(self.figures[0, :, : self.columns])
        finite = logs[np.isfinite(logs)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if high - low < 1:
            low, high = low - 0.5, high + 0.5
        # inf and NaN (a gradient that exploded) are drawn at the top colour, 0 (none) at the bottom one
        logs = np.where(np.isnan(logs) | (logs == np.inf), high, np.where(logs == -np.inf, low, logs))
        self.image.setImage(logs, autoLevels=False)
        self.colour_bar.setLevels((low, high))
        first, spacing = self._columns_at()
        self.image.setRect(first - spacing / 2, 0, spacing * self.columns, len(self.layers))
        self.plot.autoRange(padding=0)

    def _columns_at(self) -> tuple[float, float]:
        """The step of the first column and the steps between columns."""
        return float(self.steps[0]), float(max(1, self.spacing))

    # ---- pointing at a cell -----------------------------------------------------------------------------

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (layer, column) under this point of the scene, or None."""
        box = self.plot.vb
        if self.columns == 0 or not box.sceneBoundingRect().contains(scene_pos):
            return None
        point = box.mapSceneToView(scene_pos)
        first, spacing = self._columns_at()
        row, column = math.floor(point.y()), math.floor((point.x() - first + spacing / 2) / spacing)
        return (row, column) if 0 <= row < len(self.layers) and 0 <= column < self.columns else None

    def cell_words(self, row: int, column: int) -> str:
        """A cell's layer, step and figures, in words."""
        gradient, weight, ratio = self.figures[:, row, column]
        return (
            f"{self.layers[row]} at step {int(self.steps[column])}: gradient norm {gradient:.3g}, "
            f"weight norm {weight:.3g}, update/weight {ratio:.2g} (about 0.001 is a healthy pace)"
        )

    def _hovered(self, scene_pos: QPointF) -> None:
        """The cell's words become the image's tooltip, which the scene shows when the pointer rests (the scene
        hides any tooltip its items lack); one already showing follows the pointer."""
        cell = self.cell_at(scene_pos)
        words = self.cell_words(*cell) if cell is not None else ""
        self.image.setToolTip(words)
        if words and QToolTip.isVisible():
            QToolTip.showText(QCursor.pos(), words, self)
