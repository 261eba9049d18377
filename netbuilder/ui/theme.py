"""Colours of the canvas in light and dark, and one colour per block category."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

CATEGORY_COLOURS = {
    "Data": "#2e7d32",
    "Core": "#1565c0",
    "Convolution": "#6a1b9a",
    "Pooling": "#00838f",
    "Normalization": "#ef6c00",
    "Activation": "#c62828",
    "Regularization": "#5d4037",
    "Reshape": "#455a64",
    "Recurrent": "#ad1457",
    "Attention": "#4527a0",
    "Merge": "#00695c",
    "Loss": "#b71c1c",
    "Optimizer": "#37474f",
}


@dataclass(frozen=True)
class Theme:
    """The canvas palette. Text colours are chosen for contrast on their backgrounds in both themes."""

    name: str
    background: QColor
    grid: QColor
    node: QColor
    node_border: QColor
    selection: QColor
    text: QColor
    muted: QColor
    edge: QColor
    edge_label_background: QColor
    error: QColor
    warning: QColor
    port: QColor
    port_highlight: QColor

    def category(self, name: str) -> QColor:
        return QColor(CATEGORY_COLOURS.get(name, "#607d8b"))


LIGHT = Theme(
    name="light",
    background=QColor("#f6f7f9"),
    grid=QColor("#e3e6eb"),
    node=QColor("#ffffff"),
    node_border=QColor("#c5cad3"),
    selection=QColor("#1e88e5"),
    text=QColor("#1d232b"),
    muted=QColor("#5f6b7a"),
    edge=QColor("#7b8794"),
    edge_label_background=QColor("#ffffff"),
    error=QColor("#d32f2f"),
    warning=QColor("#f9a825"),
    port=QColor("#90a4ae"),
    port_highlight=QColor("#43a047"),
)

DARK = Theme(
    name="dark",
    background=QColor("#1e2126"),
    grid=QColor("#2a2e35"),
    node=QColor("#2b3038"),
    node_border=QColor("#444b56"),
    selection=QColor("#64b5f6"),
    text=QColor("#e8ebef"),
    muted=QColor("#a3adba"),
    edge=QColor("#8e99a6"),
    edge_label_background=QColor("#262a30"),
    error=QColor("#ef5350"),
    warning=QColor("#fdd835"),
    port=QColor("#78909c"),
    port_highlight=QColor("#66bb6a"),
)


def system_theme() -> Theme:
    """Dark when the system is dark (Qt's colour scheme, or a dark window colour), else light."""
    app = QGuiApplication.instance()
    if app is not None:
        scheme = app.styleHints().colorScheme()
        if scheme == Qt.ColorScheme.Dark:
            return DARK
        if scheme == Qt.ColorScheme.Light:
            return LIGHT
        if app.palette().color(QPalette.ColorRole.Window).lightness() < 128:
            return DARK
    return LIGHT


def by_name(name: str) -> Theme:
    """'light', 'dark', or anything else for the system's."""
    return {"light": LIGHT, "dark": DARK}.get(name) or system_theme()
