"""The bubble by the pointer that says why the canvas refused a gesture (a connection whose kinds do not fit,
one that would close a cycle): where the person is looking, not only in the status bar."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QLabel, QWidget

SHOWN_MS = 6000
MAX_WIDTH = 380
OFFSET = QPoint(14, 18)  # below and to the right of the pointer, clear of the cursor's arrow


class RefusalBubble(QLabel):
    """A tooltip-coloured note over the canvas's viewport, shown at a point for a few seconds or until the next
    click or turn of the wheel. It takes no mouse events, so it never stands in the way of the next gesture."""

    def __init__(self, viewport: QWidget) -> None:
        super().__init__(viewport)
        self.setTextFormat(Qt.TextFormat.PlainText)  # node labels are shown as typed, never read as markup
        self.setWordWrap(True)
        self.setMargin(6)
        self.setFrameShape(QFrame.Shape.Box)
        self.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setAutoFillBackground(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SHOWN_MS)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_at(self, point: QPoint, text: str) -> None:
        """Say `text` beside `point` (viewport coordinates), kept inside the viewport."""
        self.setText(text)
        # one line where it fits, wrapped at MAX_WIDTH otherwise (QLabel's own choice wraps short text early)
        chrome = 2 * (self.margin() + self.frameWidth()) + 2
        width = min(MAX_WIDTH, self.fontMetrics().horizontalAdvance(text) + chrome)
        self.resize(width, self.heightForWidth(width))
        area = self.parentWidget().rect()
        x = min(point.x() + OFFSET.x(), area.right() - self.width())
        y = point.y() + OFFSET.y()
        if y + self.height() > area.bottom():  # no room below: above the pointer
            y = point.y() - OFFSET.y() - self.height()
        self.move(max(0, x), max(0, y))
        self.show()
        self.raise_()
        self._timer.start()
