"""The banner above the canvas that reports an import (calls that did not map, weights not loaded, or why
nothing was imported) and the formats an export could not write."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QStyle, QVBoxLayout, QWidget

from netbuilder.ui.widgets.banner import Banner
from netbuilder.ui.widgets.fonts import code_font


class ImportReport(QWidget):
    """A banner above the canvas that stays until closed: the calls an import could not map (the rest of the
    graph is open below it), or why an import failed and what to do. Never modal, so work goes on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = Banner()
        self.banner.text.setFont(code_font())
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.hide)
        self.banner.layout().addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.show()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.banner)
        self.hide()

    @property
    def text(self) -> str:
        return self.banner.text.text()

    def show_report(self, text: str, *, error: bool) -> None:
        self.banner.text.setText(text)
        self.banner.set_icon(
            QStyle.StandardPixmap.SP_MessageBoxCritical if error else QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        self.show()
