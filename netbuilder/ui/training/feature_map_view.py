"""The Predict tab's answer to "what does this node give for this sample?": a node clicked on the canvas shows
its output for the chosen sample, drawn as a grid of channels (an image-like output), a heat strip (a
sequence: steps across, features down) or bars (a vector, the largest named), under a caption with the node's
name and shape.

It asks only while it is in view: a node clicked while the tab is hidden is remembered and its output made when
the tab is looked at. The output is made on a BackgroundTask (feature_map_loading), one at a time: what is asked
for meanwhile waits, and only the latest such request is made. It arrives as numpy; numpy is imported only
where it is drawn.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QHelpEvent, QImage, QPainter, QPalette, QShowEvent
from PySide6.QtWidgets import QCheckBox, QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from netbuilder.project import Project
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.training.feature_map_loading import FeatureMapRequest, capture_run_sample
from netbuilder.ui.training.prediction_words import number_text
from netbuilder.ui.training.sample_painting import finite_range, neutral_colour, track_colour
from netbuilder.ui.widgets.text import escape

HINT = "Click a node on the canvas to see its output for this sample."
SHARED_SCALE_TIP = (
    "Draw every channel on one scale, so their strengths compare; off, each channel spans its own range, which "
    "shows its pattern best"
)
LABEL_HEIGHT = 12  # a channel's number under its picture
GAP = 3
MIN_LABELLED_CELL = 22  # smaller pictures go unnumbered (their number shows in the tooltip)
MIN_NUMBERED_BAR = 14  # narrower bars go unnumbered (their number shows in the tooltip)


@dataclass(frozen=True)
class ChosenNode:
    """A node clicked on the canvas: `path` the node ids from the top graph down (an opened block's
    instances, then the node), `labels` their labels."""

    path: tuple[str, ...]
    labels: tuple[str, ...]


class FeatureMapPicture(QWidget):
    """Draws one FeatureMap (or says `placeholder` when there is none)."""

    def __init__(self) -> None:
        super().__init__()
        self.feature_map = None
        self.shared_scale = False
        self.placeholder = HINT
        self._images: list[QImage] = []
        self._ranges: list[tuple[float, float]] = []  # of each channel (image) or of all values
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 100)  # narrower than the bars: the window must not grow for it

    def show_map(self, feature_map: Any, placeholder: str = "") -> None:
        self.feature_map, self.placeholder = feature_map, placeholder
        self._make_images()
        self.update()

    def set_shared_scale(self, shared: bool) -> None:
        self.shared_scale = shared
        self._make_images()
        self.update()

    def _make_images(self) -> None:
        """Greyscale pictures of the channels (or of the sequence), brighter for larger values."""
        import numpy  # loaded already: the map is a numpy array

        self._images, self._ranges = [], []
        feature_map = self.feature_map
        if feature_map is None or feature_map.kind == "vector":
            if feature_map is not None:
                self._ranges = [finite_range(feature_map.values)]
            return
        values = feature_map.values
        if feature_map.kind == "sequence":
            planes = [values.T]  # features down, steps across
        else:
            planes = list(values)
        whole = finite_range(values)
        for plane in planes:
            low, high = whole if self.shared_scale or feature_map.kind == "sequence" else finite_range(plane)
            scaled = numpy.clip(numpy.nan_to_num((plane - low) / max(high - low, 1e-12)), 0.0, 1.0)
            grey = numpy.ascontiguousarray((scaled * 255).round().astype(numpy.uint8))
            height, width = grey.shape
            self._images.append(QImage(grey.tobytes(), width, height, width, QImage.Format.Format_Grayscale8).copy())
            self._ranges.append((low, high))

    # ---- where things are drawn -------------------------------------------------------------------------

    def cells(self) -> list[QRectF]:
        """The rectangle of each channel's picture, in the grid that makes them largest in the widget."""
        return self._grid()[0]

    def _grid(self) -> tuple[list[QRectF], bool]:
        """`cells`, and whether there is room to number them beneath (pictures under MIN_LABELLED_CELL are not
        numbered, so their grid leaves no room for it)."""
        if not self._images or self.feature_map.kind != "image":
            return [], False
        count = len(self._images)
        height, width = self.feature_map.values.shape[1:]
        area = QRectF(self.rect()).adjusted(GAP, GAP, -GAP, -GAP)
        best = (0.0, 1, 0.0)  # scale, columns, room for the numbers
        for columns in range(1, count + 1):
            rows = math.ceil(count / columns)
            for label in (LABEL_HEIGHT, 0.0):
                scale = min((area.width() / columns - GAP) / width, (area.height() / rows - GAP - label) / height)
                if label and height * scale < MIN_LABELLED_CELL:
                    continue  # too small to number: the grid without room for numbers
                if scale > best[0]:
                    best = (scale, columns, label)
                break
        scale, columns, label = best
        if scale <= 0:
            return [], False
        rows = math.ceil(count / columns)
        side_w, side_h = width * scale, height * scale
        pitch_w, pitch_h = side_w + GAP, side_h + GAP + label
        left = area.left() + (area.width() - columns * pitch_w) / 2
        top = area.top() + max(0.0, (area.height() - rows * pitch_h) / 2)
        cells = [
            QRectF(left + (i % columns) * pitch_w, top + (i // columns) * pitch_h, side_w, side_h) for i in range(count)
        ]
        return cells, label > 0

    def _strip_area(self) -> QRectF:
        return QRectF(self.rect()).adjusted(6, 6, -6, -6)

    def _bars(self) -> tuple[QRectF, float, float, float]:
        """The vector's area, the zero line's y, and the scale (pixels per unit) and width of each bar (with
        room under the bars for their numbers when they are wide enough to have them)."""
        area = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        if area.width() / max(1, len(self.feature_map.values)) >= MIN_NUMBERED_BAR:
            area.setBottom(area.bottom() - LABEL_HEIGHT)
        low, high = self._ranges[0]
        low, high = min(low, 0.0), max(high, 0.0)
        scale = area.height() / max(high - low, 1e-12)
        return area, area.top() + high * scale, scale, area.width() / max(1, len(self.feature_map.values))

    # ---- painting -----------------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        feature_map = self.feature_map
        if feature_map is None:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                QRectF(self.rect()).adjusted(8, 8, -8, -8),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.placeholder,
            )
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # each value its own square
        if feature_map.kind == "image":
            self._paint_channels(painter, palette)
        elif feature_map.kind == "sequence":
            painter.drawImage(self._strip_area(), self._images[0])
        else:
            self._paint_bars(painter, palette)

    def _paint_channels(self, painter: QPainter, palette: QPalette) -> None:
        painter.setFont(self._small_font())
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        cells, numbered = self._grid()
        for index, (cell, image) in enumerate(zip(cells, self._images, strict=True)):
            painter.drawImage(cell, image)
            if numbered:
                painter.drawText(
                    QRectF(cell.left() - GAP, cell.bottom(), cell.width() + 2 * GAP, LABEL_HEIGHT),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    str(index),
                )

    def _paint_bars(self, painter: QPainter, palette: QPalette) -> None:
        values = self.feature_map.values
        area, zero, scale, width = self._bars()
        painter.fillRect(area, track_colour(palette))
        largest = int(values.argmax()) if len(values) else -1
        others, highlight = neutral_colour(palette), palette.color(QPalette.ColorRole.Highlight)
        gap = 1.0 if width >= 4 else 0.0
        for i, value in enumerate(values.tolist()):
            if not math.isfinite(value):
                continue
            top = zero - max(value, 0.0) * scale
            painter.fillRect(
                QRectF(area.left() + i * width, top, max(width - gap, 0.5), abs(value) * scale),
                highlight if i == largest else others,
            )
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawLine(QPointF(area.left(), zero), QPointF(area.right(), zero))
        if width >= MIN_NUMBERED_BAR:
            painter.setFont(self._small_font())
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            for i in range(len(values)):
                painter.drawText(
                    QRectF(area.left() + i * width, area.bottom(), width, LABEL_HEIGHT),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    str(i),
                )

    def _small_font(self) -> QFont:
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.75))
        return small

    # ---- what is under the pointer -------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.words_at(QHelpEvent(event).pos().toPointF()) if self.feature_map is not None else ""
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def words_at(self, point: QPointF) -> str:
        """What the value under `point` is: a channel and its range, a step and feature, or a value."""
        feature_map = self.feature_map
        if feature_map.kind == "image":
            for index, cell in enumerate(self.cells()):
                if cell.contains(point):
                    low, high = self._ranges[index]
                    return f"channel {index}: {number_text(low)} to {number_text(high)}"
            return ""
        if feature_map.kind == "sequence":
            area = self._strip_area()
            if not area.contains(point):
                return ""
            steps, features = feature_map.values.shape
            step = min(steps - 1, int((point.x() - area.left()) / area.width() * steps))
            feature = min(features - 1, int((point.y() - area.top()) / area.height() * features))
            return f"step {step}, feature {feature}: {number_text(float(feature_map.values[step, feature]))}"
        area, _, _, width = self._bars()
        if not area.contains(point):
            return ""
        index = min(len(feature_map.values) - 1, int((point.x() - area.left()) / width))
        return f"value {index}: {number_text(float(feature_map.values[index]))}"


class FeatureMapView(QWidget):
    """What a clicked node gives for the chosen sample. The Predict tab tells it which run is shown
    (`set_run`) and which sample (`show_sample`), the window which node was clicked (`choose_node`); it calls
    `shutdown()` (joins the task) before it goes away."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setToolTip("Click a node on the canvas to see what it gives for the chosen sample")
        self.shared_scale = QCheckBox("Same scale for every channel")
        self.shared_scale.setToolTip(SHARED_SCALE_TIP)
        self.picture = FeatureMapPicture()
        self.shared_scale.toggled.connect(self.picture.set_shared_scale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 6, 6)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.shared_scale)
        self.shared_scale.hide()
        self.caption.hide()

        self.chosen: ChosenNode | None = None
        self.sample: int | None = None
        self.asked: FeatureMapRequest | None = None  # the latest request set going
        self._run: tuple[str, Callable[[], Project], Path | None] | None = None  # id, its project, its weights
        self._maps = None  # the run's network, kept once an output is asked for (a FeatureMaps)
        self._task: BackgroundTask | None = None
        self._shown: FeatureMapRequest | None = None  # what the picture and caption show

    # ---- what the tab and the window tell it --------------------------------------------------------------

    def set_run(self, run_id: str, project: Callable[[], Project], weights: Path | None) -> None:
        """The predictions of this run are shown: outputs come from its weights (`project()` gives the
        project with the run's settings, called only when the network is first needed)."""
        if self._run is not None and self._run[0] == run_id:
            return
        self._run = (run_id, project, weights)
        self._maps = None
        self._shown = self.asked = None
        self._ask()

    def show_sample(self, sample: int | None) -> None:
        self.sample = sample
        self._ask()

    def choose_node(self, path: tuple[str, ...], labels: tuple[str, ...]) -> None:
        """A node was clicked on the canvas (`path`: the opened blocks' instances, then the node)."""
        self.chosen = ChosenNode(path, labels)
        self._ask()

    def shutdown(self) -> None:
        """Join the task (the document is going away)."""
        if self._task is not None:
            self._task.join()
            self._task = None

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._ask()  # a node clicked while the tab was hidden

    # ---- asking -------------------------------------------------------------------------------------------

    def _wanted(self) -> FeatureMapRequest | None:
        """The output to show now: the chosen node's for the chosen sample."""
        if self.chosen is None or self.sample is None or self._run is None:
            return None
        return FeatureMapRequest(self.sample, self.chosen.path)

    def _ask(self) -> None:
        """Ask for the output wanted now, if the view is seen, it is not shown already and no other is being
        made (when that one ends, this is asked again)."""
        request = self._wanted()
        if request is None:
            self._shown = None
            self._say(HINT)
            return
        if request == self._shown:
            return
        if not self.isVisible() or self._task is not None:
            return
        self.asked = request
        run_id, project, weights = self._run
        loading = self._maps is None
        if loading:
            self._say("Loading the run's network…")  # else the last output stays until this one comes
        task = BackgroundTask(
            functools.partial(capture_run_sample, project() if loading else None, weights, self._maps, request),
            "netbuilder feature map",
        )
        task.succeeded.connect(lambda captured: self._captured(run_id, request, captured, ""))
        task.failed.connect(lambda error: self._captured(run_id, request, None, str(error)))
        self._task = task.start()

    def _captured(self, run_id: str, request: FeatureMapRequest, captured: Any, failure: str) -> None:
        """A request's task has ended (joined): show its output if it is still the one wanted, else ask again."""
        self._task = None
        current = self._run is not None and self._run[0] == run_id
        if current and captured is not None:
            self._maps = captured.maps
        if current and request == self._wanted():
            self._shown = request
            if captured is None or captured.feature_map is None:
                self._say("", captured.failure if captured is not None else failure)
            else:
                self.picture.show_map(captured.feature_map)
                self._caption_for(captured.feature_map)
            return
        self._ask()

    # ---- what it says -----------------------------------------------------------------------------------

    def _name(self, depth: int | None = None) -> str:
        """The chosen node's name, with the blocks that hold it (down to `depth` levels)."""
        return " › ".join(self.chosen.labels[:depth]) if self.chosen is not None else ""

    def _say(self, placeholder: str, failure: str = "") -> None:
        """No output drawn: the placeholder in the picture, or why the node has no output in the caption."""
        self.picture.show_map(None, placeholder)
        self.shared_scale.hide()
        if failure:
            self.caption.setText(f"<b>{escape(self._name())}</b>: {escape(failure)}")
        self.caption.setVisible(bool(failure))

    def _caption_for(self, feature_map: Any) -> None:
        if feature_map is None or self.chosen is None:
            return
        shape = "(" + ", ".join(str(d) for d in feature_map.shape) + (",)" if len(feature_map.shape) == 1 else ")")
        name = escape(self._name(len(feature_map.path)))
        words = [f"<b>{name}</b>", f"output {shape}" if feature_map.shape else "a single value"]
        if feature_map.kind == "image":
            shown = len(feature_map.values)
            words.append(
                f"first {shown} of {feature_map.channels} channels"
                if shown < feature_map.channels
                else f"{shown} channel{'s' if shown != 1 else ''}"
            )
        elif feature_map.kind == "sequence":
            words.append("steps across, features down")
        elif len(feature_map.values):
            largest = int(feature_map.values.argmax())
            words.append(f"largest: value {largest} ({escape(number_text(float(feature_map.values[largest])))})")
        if feature_map.outputs > 1:
            words.append(f"the first of its {feature_map.outputs} outputs")
        text = " · ".join(words)
        if len(feature_map.path) < len(self.chosen.path):
            text += (
                f"<br>{name} repeats its block, and each copy gives its own outputs inside: the block's output is shown"
            )
        self.caption.setText(text)
        self.caption.show()
        self.shared_scale.setVisible(feature_map.kind == "image" and len(feature_map.values) > 1)
