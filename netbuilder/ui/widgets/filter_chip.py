"""A filter in force, shown as a small rounded chip: what it keeps, in words, and a button that clears it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget


class FilterChip(QFrame):
    """Hidden until `show_filter`; its ✕ button (or `clear`) hides it and says so through `cleared`. The outline
    is the palette's highlight, so it reads in any theme."""

    cleared = Signal()  # the person asked for the filter to go

    def __init__(self, clear_tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterChip")
        self.setStyleSheet("QFrame#filterChip { border: 1px solid palette(highlight); border-radius: 9px; }")
        self.text = QLabel()
        self.clear_button = QToolButton()
        self.clear_button.setText("✕")
        self.clear_button.setAutoRaise(True)
        self.clear_button.setToolTip(clear_tip)
        self.clear_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clear_button.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 2, 0)
        layout.setSpacing(2)
        layout.addWidget(self.text)
        layout.addWidget(self.clear_button)
        self.hide()

    def show_filter(self, words: str) -> None:
        self.text.setText(words)
        self.show()

    def clear(self) -> None:
        if self.isHidden():
            return
        self.hide()
        self.cleared.emit()
