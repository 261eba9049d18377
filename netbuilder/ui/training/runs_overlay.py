"""The Runs view's Curves tab: the curves of the runs selected in the table, overlaid by epoch (validation
loss, training loss, or any metric their histories hold, chosen above the plot), one colour per run from the
qualitative palette the classes use, and a legend naming each run beside the plot (never over the curves; it
is part of the picture, so an exported PNG or SVG carries it)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from netbuilder.project.run_comparison import metric_choices
from netbuilder.project.run_history import RunRecord
from netbuilder.ui.training.plot_parts import EpochAxis, TickGrid, finite_value
from netbuilder.ui.training.runs_table import metric_words
from netbuilder.ui.widgets.colors import CLASS_COLOURS, mix

LEGEND_ROWS = 16  # runs named in the legend; more are counted in its last line ("+3 more")
LEGEND_COLUMN = 8  # lines in one column of the legend: the Runs dock's first height holds about as many
MAX_TITLE_CHARS = 28  # a run's title in the legend, cut with "…" (the table shows it whole)
SVG_DPI = 96  # as the screen: at the generator's default 72, point-sized text comes out 3/4 the size
EXPORT_SCALE = 2  # a PNG is drawn at twice the size on screen, sharp on a printed page or a high-DPI screen


def run_colour(index: int, dark: bool) -> QColor:
    """The colour of the `index`th run drawn: the class palette (ten colours that read on light and dark
    backgrounds), a little lighter on dark ones."""
    colour = QColor(CLASS_COLOURS[index % len(CLASS_COLOURS)])
    return colour.lighter(125) if dark else colour


class RunsOverlay(QWidget):
    """Call `show_runs(records)` with the selected runs; `png_bytes()` and `svg_bytes()` give the picture."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self.drawn = 0  # how many of the records have the chosen curve, drawn in the first curves
        self.chooser = QComboBox()
        self.chooser.setToolTip("Which curve of each run to draw against its epochs")
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.chooser.currentIndexChanged.connect(self._redraw)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.view = pg.GraphicsLayoutWidget()
        self.view.ci.setContentsMargins(4, 4, 4, 4)
        self.plot = self.view.addPlot(row=0, col=0, axisItems={"bottom": EpochAxis("bottom")})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.getAxis("left").setWidth(48)
        self.plot.setLabel("bottom", "epoch")
        self.grid = TickGrid(self.plot)
        self.plot.addItem(self.grid, ignoreBounds=True)
        self.legend = self.view.addLayout(row=0, col=1)
        self.legend.setContentsMargins(6, 8, 2, 2)
        self.legend.setSpacing(0)
        self.legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)  # the plot takes the rest
        self.view.ci.layout.setColumnStretchFactor(0, 1)
        self.curves: list[pg.PlotDataItem] = []  # made on first need and kept: hidden when fewer runs show
        self.labels: list[pg.LabelItem] = []  # the legend's lines, likewise kept

        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 0)
        top.addWidget(QLabel("Curve:"))
        top.addWidget(self.chooser)
        top.addStretch(1)
        self.hint.setContentsMargins(4, 0, 4, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.view, 1)
        self._apply_palette()
        self.show_runs([])

    @property
    def curve_key(self) -> str:
        return self.chooser.currentData() or "val_loss"

    def show_runs(self, records: Sequence[RunRecord]) -> None:
        """Draw these runs' curves (the table's selection, in its order)."""
        self.records = list(records)
        key = self.curve_key
        choices = metric_choices(self.records) or ["val_loss"]
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for metric in sorted(choices, key=lambda m: (m != "val_loss", m != "train_loss", choices.index(m))):
            self.chooser.addItem(metric_words(metric), metric)
        self.chooser.setCurrentIndex(max(0, self.chooser.findData(key)))
        self.chooser.blockSignals(False)
        self._redraw()

    def _redraw(self, *_: object) -> None:
        key = self.curve_key
        percent = key.endswith("accuracy")
        dark = self._dark()
        drawn = 0
        for record in self.records:
            epochs = [entry.get("epoch") for entry in record.history]
            values = [finite_value(entry, key, 100.0 if percent else 1.0) for entry in record.history]
            if not any(np.isfinite(values)):
                continue
            curve = self._curve(drawn)
            curve.setData(np.asarray(epochs, dtype=float), np.asarray(values, dtype=float))
            colour = run_colour(drawn, dark)
            style = Qt.PenStyle.SolidLine if drawn < len(CLASS_COLOURS) else Qt.PenStyle.DashLine
            curve.setPen(pg.mkPen(colour, width=2, style=style))
            curve.setSymbolPen(pg.mkPen(colour))
            curve.setSymbolBrush(pg.mkBrush(colour))
            curve.setVisible(True)
            curve.opts["name"] = record.title
            drawn += 1
        for curve in self.curves[drawn:]:
            curve.setVisible(False)
        self.drawn = drawn
        self._fill_legend([curve.opts["name"] for curve in self.curves[:drawn]], dark)
        self.plot.setTitle(metric_words(key) + (" %" if percent else ""), size="9pt", color=self._text().name())
        self.plot.enableAutoRange()
        missing = len(self.records) - drawn
        if not self.records:
            self.hint.setText("Select runs in the table to compare their curves (Ctrl or Shift for several)")
        elif missing:
            self.hint.setText(f"{missing} of the selected runs have no {metric_words(key)}")
        self.hint.setVisible(not self.records or missing > 0)

    def _curve(self, index: int) -> pg.PlotDataItem:
        while len(self.curves) <= index:
            self.curves.append(self.plot.plot(connect="finite", symbol="o", symbolSize=4))
        return self.curves[index]

    def _fill_legend(self, titles: list[str], dark: bool) -> None:
        """A line per run, its colour and title: removed from the legend's layout and put back, so lines not
        needed take no room."""
        for label in self.labels:
            if label.scene() is not None:
                self.legend.removeItem(label)
        shown = titles[:LEGEND_ROWS] if len(titles) <= LEGEND_ROWS else titles[: LEGEND_ROWS - 1]
        lines = [
            f"<span style='color:{run_colour(i, dark).name()}'>{'━━' if i < len(CLASS_COLOURS) else '╍╍'}</span>"
            f"&nbsp;{_cut(title)}"
            for i, title in enumerate(shown)
        ]
        if len(titles) > len(shown):
            lines.append(f"+{len(titles) - len(shown)} more")
        text = self._text().name()
        per_column = LEGEND_COLUMN if len(lines) <= LEGEND_COLUMN else -(-len(lines) // 2)  # past 8: two columns
        for index, line in enumerate(lines):
            while len(self.labels) <= index:
                self.labels.append(pg.LabelItem(justify="left"))
                self.labels[-1].setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # lines close
            label = self.labels[index]
            label.setText(line, size="8pt", color=text)
            self.legend.addItem(label, row=index % per_column, col=index // per_column)

    # ---- the picture ---------------------------------------------------------------------------------------

    def png_bytes(self) -> bytes:
        """The plot and its legend as a PNG, at EXPORT_SCALE times its size on screen."""
        exporter = ImageExporter(self.view.ci)
        exporter.parameters()["width"] = max(1, int(self.view.ci.boundingRect().width() * EXPORT_SCALE))
        image = exporter.export(toBytes=True)
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())

    def svg_bytes(self) -> bytes:
        """The plot and its legend as SVG (text and paths), drawn by Qt's SVG generator: pyqtgraph's own
        exporter fails on the paths this Qt writes ("not enough values to unpack")."""
        source = self.view.ci.sceneBoundingRect()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setTitle("Runs compared by " + metric_words(self.curve_key))
        generator.setResolution(SVG_DPI)
        generator.setSize(source.size().toSize())
        generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
        painter = QPainter(generator)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painted = [item for item in self.view.scene().items() if hasattr(item, "setExportMode")]
        for item in painted:  # as pyqtgraph's exporters do: the points drawn as paths, not cached pixmaps
            item.setExportMode(True, {"antialias": True, "painter": painter})
        try:
            self.view.scene().render(painter, QRectF(0, 0, source.width(), source.height()), source)
        finally:
            for item in painted:
                item.setExportMode(False)
            painter.end()
        buffer.close()
        return bytes(data.data())

    # ---- colours from the palette ----------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
            self._redraw()
        super().changeEvent(event)

    def _dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Base).lightness() < 128

    def _text(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Text)

    def _apply_palette(self) -> None:
        base, text = self.palette().color(QPalette.ColorRole.Base), self._text()
        self.view.setBackground(base)
        self.grid.set_colour(mix(text, base, 0.85))
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(mix(text, base, 0.45)))
            axis.setTextPen(pg.mkPen(text))


def _cut(title: str) -> str:
    title = title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"
    return title.replace("&", "&amp;").replace("<", "&lt;")
