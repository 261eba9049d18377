"""The grid of the Predict tab as a Qt list model: the validation samples shown (all, only the wrong ones, or those of
one confusion-matrix cell), each a thumbnail with what the network predicted as its caption; texts are a list
instead, a line each: the predicted class, then the start of the text."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QWidget

from netbuilder.token_display import joined
from netbuilder.ui.training.prediction_words import predicted_text, verdict_text
from netbuilder.ui.training.sample_painting import SampleStyle, wrong_colour

THUMBNAIL = 40
TEXT_START = 120  # characters of a text in its line of the list (the line elides what does not fit)
TEXT_TIP = 300  # and in its tooltip


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
        text = None
        if self.style.kind == "text":
            starts = predictions.word_starts[sample] if predictions.word_starts is not None else None
            text = joined(predictions.tokens[sample], starts)
        if role == Qt.ItemDataRole.DisplayRole:
            shown = predicted_text(predictions, sample)
            return shown if text is None else f"{shown} · {text[:TEXT_START]}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(sample) if text is None else None
        if role == Qt.ItemDataRole.SizeHintRole and text is not None:  # a line as wide as the list: the rest elides
            return QSize(THUMBNAIL, self.view.fontMetrics().height() + 4)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"Validation sample {sample + 1}: " + verdict_text(predictions, sample)
            return tip if text is None else f"{tip}\n{text[:TEXT_TIP]}" + ("…" if len(text) > TEXT_TIP else "")
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


def shown_samples(predictions: Any, *, wrong_only: bool = False, cell: tuple[int, int] | None = None) -> list[int]:
    """The validation samples the grid shows, in order: all of them; only those whose class was got wrong; or
    those of one confusion-matrix cell, (true class, predicted class)."""
    if cell is not None and predictions.correct is not None:
        true, predicted = cell
        return [int(i) for i in ((predictions.true == true) & (predictions.predicted == predicted)).nonzero()[0]]
    if wrong_only and predictions.correct is not None:
        return [int(i) for i in (~predictions.correct).nonzero()[0]]
    return list(range(len(predictions)))
