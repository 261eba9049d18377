"""A calm, one-line-or-more message above a panel's content: an icon and selectable, wrapping text."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QWidget

from netbuilder.ui.widgets.colors import mix

TINT = 0.14  # how far the background goes from the window's colour towards the highlight


class Banner(QFrame):
    """Hidden until a panel has something to say; the panel sets `text` (and `set_icon` for a warning or an
    error) and shows it. Its background is the window's colour tinted towards the highlight, in any theme."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        self._icon = QStyle.StandardPixmap.SP_MessageBoxInformation
        self._apply_palette()
        self.hide()

    def set_icon(self, icon: QStyle.StandardPixmap) -> None:
        self._icon = icon
        self.icon.setPixmap(self.style().standardIcon(icon).pixmap(16, 16))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._tinting:
            self._apply_palette()

    _tinting = False

    def _apply_palette(self) -> None:
        """Tint the parent's palette (setting our own would otherwise tint it again on each change)."""
        parent = self.parentWidget()
        palette = parent.palette() if parent is not None else self.palette()
        window = palette.color(QPalette.ColorRole.Window)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        tinted = QPalette(palette)
        tinted.setColor(QPalette.ColorRole.Window, mix(window, highlight, TINT))
        self._tinting = True
        try:
            self.setPalette(tinted)
        finally:
            self._tinting = False
        self.set_icon(self._icon)
