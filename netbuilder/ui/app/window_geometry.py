"""The window's size and place from one session to the next, maximised or not, with the size it returns to
when it is restored down."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

SETTLE_MS = 250  # a move or resize counts as the normal geometry once no change of state follows it this soon
_NOT_NORMAL = Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen | Qt.WindowState.WindowMinimized


class WindowGeometry(QObject):
    """Saves and restores a top-level window's geometry (`window/geometry`), whether it was maximised
    (`window/maximized`) and its normal geometry (`window/normal`), which a restored maximised window keeps
    underneath for when it is restored down.

    The normal geometry is tracked here rather than taken from Qt: some X11 window managers (fluxbox) resize
    the window to the whole screen before they say it is maximised, so to Qt that resize looks like a normal
    one and its `normalGeometry()` becomes the maximised size. A move or resize is taken as normal only once
    it has settled without a change of state."""

    def __init__(self, window: QWidget, settings: QSettings) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.normal = QRect()
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._settled)
        window.installEventFilter(self)

    def restore(self) -> None:
        """Before the window is first shown: the last session's geometry, maximised again if it was."""
        window = self.window
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            window.restoreGeometry(geometry)  # also brings back a window left off every screen
        normal = self.settings.value("window/normal")
        if not isinstance(normal, QRect) or not normal.isValid() or QGuiApplication.screenAt(normal.center()) is None:
            normal = window.normalGeometry() if window.isMaximized() else window.geometry()
        if self.settings.value("window/maximized", False, type=bool):
            window.setWindowState(Qt.WindowState.WindowNoState)
            window.setGeometry(normal)
            window.setWindowState(Qt.WindowState.WindowMaximized)  # over `normal`, which Qt keeps for later
        self.normal = normal

    def save(self) -> None:
        """When the window closes."""
        if not self.window.windowState() & _NOT_NORMAL:
            self._settled()
        self.settings.setValue("window/geometry", self.window.saveGeometry())
        self.settings.setValue("window/maximized", self.window.isMaximized())
        if self.normal.isValid():
            self.settings.setValue("window/normal", self.normal)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.Move, QEvent.Type.Resize) and not self.window.windowState() & _NOT_NORMAL:
            self._settle.start()
        elif kind == QEvent.Type.WindowStateChange and self.window.windowState() & _NOT_NORMAL:
            self._settle.stop()  # the move or resize just before was the window manager maximising
        return False

    def _settled(self) -> None:
        self.normal = self.window.geometry()
