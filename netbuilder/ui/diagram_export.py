"""The network diagram as a file: the canvas's own items drawn into SVG or PNG, framed with a margin.

Drawing the scene itself (rather than a separate renderer) means the file shows what the window shows: the
same node cards, edge shapes and category colours, in the theme the person is working in.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem

from netbuilder.ui.scene import GraphScene

MARGIN = 40.0  # scene units of background around the graph
PNG_SCALE = 2  # pixels per scene unit: sharp on high-density screens and in print
SVG_DPI = 96  # as QImage and the screen: at the generator's default 72, point-sized text came out 3/4 the size
SUFFIXES = (".svg", ".png")


class DiagramExportError(Exception):
    """The diagram cannot be written; the message says why (an unknown suffix, an unwritable place)."""


def diagram_rect(scene: GraphScene) -> QRectF:
    """The part of the canvas to draw: every node and edge, with MARGIN around them."""
    bounds = scene.itemsBoundingRect()
    return bounds.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def export_diagram(scene: GraphScene, path: Path) -> Path:
    """Write the whole graph to `path` as SVG or PNG, chosen by its suffix, and return the path.

    The selection is not drawn (a diagram shows the network, not what was clicked last), and items draw
    themselves rather than their cached pixmaps (so the SVG holds text and paths, and the PNG is sharp at
    PNG_SCALE); both are restored after.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DiagramExportError(f"a diagram is written as .svg or .png, not {path.suffix or 'a file with no suffix'}")
    if not scene.graph.nodes:
        raise DiagramExportError("the graph is empty: add blocks before exporting a diagram")
    selected = scene.selected_node_ids()
    scene.clearSelection()
    cached = {item: item.cacheMode() for item in scene.items()}
    for item in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        if suffix == ".svg":
            _write_svg(scene, path)
        else:
            _write_png(scene, path)
    finally:
        for item, mode in cached.items():
            item.setCacheMode(mode)
        scene.select_nodes(selected)
    return path


def _write_svg(scene: GraphScene, path: Path) -> None:
    source = diagram_rect(scene)
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setTitle(scene.controller.document.title)
    generator.setDescription("Network diagram drawn by netbuilder")
    generator.setResolution(SVG_DPI)
    generator.setSize(source.size().toSize())
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    painter = QPainter()
    if not painter.begin(generator):
        raise DiagramExportError(f"cannot write {path}")
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)
    painter.end()
    if not path.is_file():
        raise DiagramExportError(f"cannot write {path}")


def _write_png(scene: GraphScene, path: Path) -> None:
    source = diagram_rect(scene)
    size = QSize(int(source.width() * PNG_SCALE + 0.5), int(source.height() * PNG_SCALE + 0.5))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(scene.theme.background)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    scene.render(painter, QRectF(0, 0, size.width(), size.height()), source, Qt.AspectRatioMode.IgnoreAspectRatio)
    painter.end()
    if not image.save(str(path), "PNG"):
        raise DiagramExportError(f"cannot write {path}")
