"""Secondary text in the panels: a label whose colour (normal, muted or error) follows the palette it sits on."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from netbuilder.ui.theme import DARK, LIGHT
from netbuilder.ui.widgets.colors import muted_text


def error_colour(palette: QPalette) -> QColor:
    """The theme's error red for the palette's background (light or dark)."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor((DARK if dark else LIGHT).error)


class ToneLabel(QLabel):
    """A word-wrapped label in a secondary tone ("muted" or "error") taken from the palette it sits on."""

    def __init__(self, text: str = "", tone: str = "muted", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.tone = tone
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_tone(self, tone: str) -> None:
        """Switch between "normal", "muted" and "error"; the colour follows the parent's palette."""
        self.tone = tone
        parent = self.parentWidget()
        if parent is not None:
            self.apply_tone(parent.palette())

    def apply_tone(self, palette: QPalette) -> None:
        if self.tone == "normal":
            colour = palette.color(QPalette.ColorRole.WindowText)
        else:
            colour = error_colour(palette) if self.tone == "error" else muted_text(palette)
        own = QPalette(self.palette())
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            own.setColor(group, QPalette.ColorRole.WindowText, colour)  # disabled keeps the palette's grey
        self.setPalette(own)
