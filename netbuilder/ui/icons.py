"""Block icons: one stroke-drawn SVG per palette category, drawn in that category's colour.

The SVGs use `currentColor`; loading substitutes the category colour (lightened on dark palettes so thin
strokes keep their contrast) and renders pixmaps at several sizes, so the icons stay crisp at any scale.
"""

from __future__ import annotations

import logging
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from netbuilder.blocks import catalogue
from netbuilder.graph import Graph
from netbuilder.ui.theme import CATEGORY_COLOURS

log = logging.getLogger(__name__)

# Pixel sizes rendered into each QIcon: the sizes the palette, popup and drag use at 1x, 1.5x and 2x device
# pixel ratios (QIcon scales the nearest one for anything else).
SIZES = (16, 18, 20, 22, 24, 27, 32, 36, 44, 48, 64)
# Icons on a selected (highlighted) row are drawn in this colour rather than Qt's tint of the normal pixmap,
# which muddies the category colour; highlight colours are saturated mid-tones in every common style.
SELECTED_COLOUR = "#ffffff"
DEFAULT_COLOUR = "#607d8b"
# On a dark background a category colour is tinted towards white until its HSL lightness reaches this.
DARK_MIN_LIGHTNESS = 0.66

# Drawn when a category's SVG is missing (a broken install must not stop the window from opening).
FALLBACK_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" fill="none" '
    'stroke="currentColor" stroke-width="2"><rect x="4" y="4" width="16" height="16" rx="3"/></svg>'
)

_icons: dict[tuple[str, bool], QIcon] = {}
_svg_text: dict[str, str] = {}


def icons_dir() -> Traversable:
    """Where the SVGs live: package data `netbuilder/resources/icons` when installed from a wheel, else the
    checkout's `resources/icons` beside the `netbuilder` folder."""
    packaged = resources.files("netbuilder") / "resources" / "icons"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources" / "icons"


def icon_file_name(category: str) -> str:
    """convolution.svg; this_project.svg for "This project"."""
    return f"{category.lower().replace(' ', '_')}.svg"


def palette_is_dark(palette: QPalette | None = None) -> bool:
    """Whether icons will sit on a dark background (the palette's Base, where lists draw)."""
    if palette is None:
        palette = QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def icon_colour(category: str, dark: bool = False) -> QColor:
    """The category's colour; on dark backgrounds a tint of it, since several category colours are deep
    blue-greys that vanish on a dark list. Tinting (mixing with white) keeps the hue without turning neon."""
    base = QColor(CATEGORY_COLOURS.get(category, DEFAULT_COLOUR))
    if not dark:
        return base
    colour = base
    white = 0.0
    while colour.lightnessF() < DARK_MIN_LIGHTNESS and white < 1.0:
        white += 0.05
        colour = QColor.fromRgbF(*(c + (1.0 - c) * white for c in (base.redF(), base.greenF(), base.blueF())))
    return colour


def _svg_for(category: str) -> str:
    text = _svg_text.get(category)
    if text is None:
        try:
            text = (icons_dir() / icon_file_name(category)).read_text(encoding="utf-8")
        except OSError:
            log.warning("no icon for block category %r in %s", category, icons_dir())
            text = FALLBACK_SVG
        _svg_text[category] = text
    return text


def render_svg(svg: str | QSvgRenderer, size: int) -> QImage:
    """`svg` (text, or a renderer already holding it) drawn into a transparent size x size image."""
    renderer = svg if isinstance(svg, QSvgRenderer) else QSvgRenderer(QByteArray(svg.encode("utf-8")))
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def category_icon(category: str, dark: bool | None = None) -> QIcon:
    """The icon of a palette category in its colour; `dark` defaults to the application palette's."""
    if dark is None:
        dark = palette_is_dark()
    key = (category, dark)
    icon = _icons.get(key)
    if icon is None:
        if not _icons and (app := QCoreApplication.instance()) is not None:
            app.aboutToQuit.connect(clear_cache)  # let the pixmaps go while the application still exists
        svg = _svg_for(category)
        icon = QIcon()
        for mode, colour in (
            (QIcon.Mode.Normal, icon_colour(category, dark).name()),
            (QIcon.Mode.Selected, SELECTED_COLOUR),
        ):
            renderer = QSvgRenderer(QByteArray(svg.replace("currentColor", colour).encode("utf-8")))
            for size in SIZES:
                icon.addPixmap(QPixmap.fromImage(render_svg(renderer, size)), mode)
        _icons[key] = icon
    return icon


def clear_cache() -> None:
    """Forget rendered icons (they are rendered again on next use)."""
    _icons.clear()


def block_icon(block_type: str, dark: bool | None = None, graph: Graph | None = None) -> QIcon:
    """The icon of a block type: its category's (a block of the project's, given the project's `graph`)."""
    spec = graph.block_spec(block_type) if graph is not None else catalogue.get(block_type)
    return category_icon(spec.category, dark)
