"""Colours of the canvas in light and dark, and one colour per block category."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

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


def apply_to_application(name: str) -> Theme:
    """Make the whole window light or dark (Fusion with a matching palette), or follow the system; returns
    the canvas theme that goes with it."""
    app = QApplication.instance()
    if app is None:
        return by_name(name)
    wanted = name if name in ("light", "dark") else "system"
    if getattr(app, "_netbuilder_theme", "system") == wanted:
        return by_name(name)  # replacing a style that widgets still use is costly, and was seen to crash
    if not hasattr(app, "_netbuilder_system_style"):  # remembered once, to go back to 'system'
        app._netbuilder_system_style = app.style().name()
        app._netbuilder_system_palette = QPalette(app.palette())
    if wanted == "system":
        app.setStyle(app._netbuilder_system_style)
        app.setPalette(app._netbuilder_system_palette)
    else:
        app.setStyle("Fusion")
        app.setPalette(_palette(LIGHT if wanted == "light" else DARK))
    app._netbuilder_theme = wanted
    return by_name(name)


def _palette(theme: Theme) -> QPalette:
    palette = QPalette()
    dark = theme is DARK
    window = QColor("#25282d") if dark else QColor("#eef0f3")
    base = QColor("#1e2126") if dark else QColor("#ffffff")
    text = theme.text
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, window),
        (roles.WindowText, text),
        (roles.Base, base),
        (roles.AlternateBase, window),
        (roles.Text, text),
        (roles.Button, window),
        (roles.ButtonText, text),
        (roles.ToolTipBase, base),
        (roles.ToolTipText, text),
        (roles.Highlight, theme.selection),
        (roles.HighlightedText, QColor("#0b1520") if dark else QColor("#ffffff")),
        (roles.PlaceholderText, theme.muted),
        (roles.Link, theme.selection),
        (roles.BrightText, theme.error),
        (roles.Light, window.lighter(130)),
        (roles.Midlight, window.lighter(115)),
        (roles.Mid, window.darker(130)),
        (roles.Dark, window.darker(160)),
        (roles.Shadow, QColor("#000000")),
    ):
        palette.setColor(role, colour)
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, theme.muted)
    return palette
