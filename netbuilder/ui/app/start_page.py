"""The start page: new project, open, recent files, the sample projects with a line about each, and unsaved
work kept from a session that did not close."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from netbuilder.ui.widgets.banner import Banner

SAMPLES_FOLDER = Path(__file__).resolve().parents[3] / "sample_projects"


def _project_name(path: Path) -> str:
    """The name inside a project file, read cheaply; the file name if it cannot be read."""
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name.strip() else path.stem.replace("_", " ")


SAMPLE_DESCRIPTIONS = {
    "digits_mlp": "A multilayer perceptron on scikit-learn's 8x8 handwritten digits.",
    "digits_cnn": "A small convolutional network on the same digits: the classic first CNN.",
    "spirals_mlp": "Three interleaved spirals: a non-linear boundary, with a cosine schedule.",
    "residual_cnn": "Two residual blocks with Add skips on 3x32x32 colour images.",
    "digits_resnet": "A small ResNet of composite blocks: a basic block repeated twice, then one that downsamples.",
    "lstm_classifier": "An LSTM that reads noisy waves and tells their frequency.",
    "digits_autoencoder": "Squeeze digits into 16 numbers and back again (MSE against the input).",
}


class StartPage(QWidget):
    """Shown when no project is open."""

    new_requested = Signal()  # no payload: start an empty project
    open_requested = Signal()  # no payload: show the open dialog
    path_chosen = Signal(object)  # Path of a recent file or a sample to open
    recover_requested = Signal()  # no payload: list the unsaved work kept from earlier sessions

    def __init__(self, recent: list[Path]) -> None:
        super().__init__()
        title = QLabel("netbuilder")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel("Draw a network, see every shape, export PyTorch you would keep.")
        subtitle.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        subtitle_font = QFont(subtitle.font())
        subtitle_font.setPointSizeF(subtitle_font.pointSizeF() * 1.15)
        subtitle.setFont(subtitle_font)
        new_button = QPushButton("New project")
        new_button.setDefault(True)
        new_button.clicked.connect(self.new_requested)
        open_button = QPushButton("Open…")
        open_button.clicked.connect(self.open_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(new_button)
        buttons.addWidget(open_button)
        buttons.addStretch()

        self.recover_banner = Banner()
        self.recover_button = QPushButton("Recover…")
        self.recover_button.clicked.connect(self.recover_requested)
        self.recover_banner.layout().addWidget(self.recover_button, 0, Qt.AlignmentFlag.AlignVCenter)

        self.recent_list = self._list()
        self.set_recent(recent)
        self.samples_list = self._list()
        for path in sorted(SAMPLES_FOLDER.glob("*.nbproj")):
            description = SAMPLE_DESCRIPTIONS.get(path.stem, "")
            item = QListWidgetItem(f"{_project_name(path)}\n{description}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(str(path))
            self.samples_list.addItem(item)

        columns = QHBoxLayout()
        for heading, widget in (("Recent", self.recent_list), ("Samples", self.samples_list)):
            column = QVBoxLayout()
            label = QLabel(heading)
            label.setStyleSheet("font-weight: bold")
            column.addWidget(label)
            column.addWidget(widget)
            columns.addLayout(column, 1 if heading == "Recent" else 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 40, 48, 40)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addLayout(buttons)
        layout.addWidget(self.recover_banner)
        layout.addSpacing(10)
        layout.addLayout(columns, 1)

    def _list(self) -> QListWidget:
        widget = QListWidget()
        widget.setStyleSheet("QListWidget::item { padding: 6px 8px; }")
        widget.setWordWrap(True)
        widget.itemActivated.connect(self._activated)
        return widget

    def _activated(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if path is not None:
            self.path_chosen.emit(path)

    def set_recent(self, recent: list[Path]) -> None:
        self.recent_list.clear()
        for path in recent:
            item = QListWidgetItem(f"{_project_name(path)}\n{path.parent}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(str(path))
            self.recent_list.addItem(item)
        if not recent:
            placeholder = QListWidgetItem("Projects you open appear here.")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent_list.addItem(placeholder)

    def set_recoverable(self, count: int) -> None:
        """Say that `count` projects' unsaved work was kept from a session that did not close (none: hidden)."""
        projects = "one project" if count == 1 else f"{count} projects"
        self.recover_banner.text.setText(
            f"netbuilder did not close normally, and unsaved work on {projects} was kept. "
            "Open it, or discard it, from the list."
        )
        self.recover_banner.setVisible(count > 0)
