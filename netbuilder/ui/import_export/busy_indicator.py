"""The status bar's busy indicator while an import or an export works off the window's thread."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget


class BusyIndicator(QWidget):
    """What is running, a bar that moves (tracing and the exporters report no progress), and Cancel where
    waiting can stop (`cancel_tip` says what Cancel does; without it there is no button). Hidden while idle."""

    def __init__(self, cancel_tip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: no progress to show
        self.bar.setMaximumWidth(120)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignVCenter)
        self.cancel_button: QPushButton | None = None
        if cancel_tip:
            self.cancel_button = QPushButton("Cancel")
            self.cancel_button.setToolTip(cancel_tip)
            layout.addWidget(self.cancel_button)
        self.hide()

    def set_running(self, running: bool, text: str = "") -> None:
        """Show `text` while something runs; hide when it is done."""
        if running:
            self.label.setText(text)
        self.setVisible(running)
