"""The Training panel's line about the project's starting weights: "Starts from resnet18.weights.safetensors"
(while a run goes, the note of what it loaded), and Forget, to train from the seed instead."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class StartingWeightsLine(QWidget):
    """Shown only while the project has starting weights; `forget_button` is for the panel to connect."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.forget_button = QPushButton("Forget")
        self.forget_button.setToolTip("Train from the seed instead of these weights (Undo brings them back)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.forget_button, 0, Qt.AlignmentFlag.AlignTop)

    def show_weights(self, weights: Path | None, note: str = "") -> None:
        """The weights' file, or `note` (what a run going on loaded, and which layers start from the seed)."""
        self.setVisible(weights is not None)
        if weights is None:
            return
        self.label.setText(note[:1].upper() + note[1:] if note else f"Starts from {weights.name}")
        self.label.setToolTip(
            f"{weights}\nTraining starts from these weights; layers whose shape changed since start from the seed"
        )
