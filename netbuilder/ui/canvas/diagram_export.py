"""The network diagram as a file: the canvas's own items drawn into SVG or PNG, framed with a margin, on a plain
background in the theme's canvas colour.

Drawing the scene itself (rather than a separate renderer) means the file shows what the window shows: the
same node cards, edge shapes and category colours. The window draws its own scene in its current theme (File >
Export Diagram, and File > Export's diagram boxes); `netbuilder export --format svg,png` has no window, so
`write_diagrams` builds a scene for the project on an offscreen QApplication, in the light theme, with the ports
where the project's layout wants them (`drawn_direction`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsView

from netbuilder.analysis.layout import Orientation
from netbuilder.graph import Graph
from netbuilder.project import Project
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.theme import LIGHT, Theme

MARGIN = 40.0  # scene units of background around the graph
PNG_SCALE = 2  # pixels per scene unit: sharp on high-density screens and in print
MAX_PNG_SIDE = 32_767  # pixels: many viewers refuse a longer picture; a longer diagram is drawn smaller
SVG_DPI = 96  # as QImage and the screen: at the generator's default 72, point-sized text came out 3/4 the size
SUFFIXES = (".svg", ".png")
DIAGRAM_FORMATS = {"svg": "Diagram (SVG)", "png": "Diagram (PNG)"}
"""The diagram formats of File > Export and `netbuilder export --format`, as their failures name them."""
DIAGRAM_STEM = "diagram"  # folder/diagram.svg, folder/diagram.png: fixed, like model.onnx, whatever the project's name


class DiagramExportError(Exception):
    """The diagram cannot be written; the message says why (an unknown suffix, an unwritable place)."""


@dataclass(frozen=True)
class DiagramResult:
    """One diagram format's outcome: the file written, or why there is none ("Diagram (PNG): cannot write ...")."""

    format: str
    path: Path | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.path is not None


def diagram_path(folder: Path, diagram_format: str) -> Path:
    """Where File > Export and `netbuilder export` put the diagram of `diagram_format` ("svg" or "png")."""
    return folder / f"{DIAGRAM_STEM}.{diagram_format}"


def diagram_rect(scene: GraphScene) -> QRectF:
    """The part of the canvas to draw: every node and edge, with MARGIN around them, on whole scene units (the
    view that draws it takes its source in whole pixels)."""
    bounds = QRectF(scene.itemsBoundingRect().toAlignedRect())
    return bounds.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def export_diagram(scene: GraphScene, path: Path) -> Path:
    """Write the whole graph to `path` as SVG or PNG, chosen by its suffix, and return the path.

    The selection is not drawn (a diagram shows the network, not what was clicked last), and items draw
    themselves rather than their cached pixmaps (so the SVG holds text and paths, and the PNG is sharp at
    PNG_SCALE); both are restored after. The file is drawn beside `path` and renamed into place, so a failure
    never leaves a half-written diagram under the real name.
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
    partial = path.with_name(f".{path.name}.partial")
    try:
        if suffix == ".svg":
            _write_svg(scene, partial)
        else:
            _write_png(scene, partial)
        os.replace(partial, path)
    except OSError as err:
        raise DiagramExportError(f"cannot write {path}: {err.strerror or err}") from err
    finally:
        partial.unlink(missing_ok=True)
        for item, mode in cached.items():
            item.setCacheMode(mode)
        scene.select_nodes(selected)
    return path


def export_diagrams(scene: GraphScene, folder: Path, formats: Iterable[str]) -> dict[str, DiagramResult]:
    """Write folder/diagram.svg and/or .png (`formats`: keys of DIAGRAM_FORMATS) from `scene`, each on its own:
    one that fails is a DiagramResult naming why, and the others are still written."""
    results: dict[str, DiagramResult] = {}
    for name in formats:
        path = diagram_path(folder, name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            results[name] = DiagramResult(name, export_diagram(scene, path))
        except DiagramExportError as err:
            results[name] = DiagramResult(name, error=f"{DIAGRAM_FORMATS[name]}: {err}")
        except OSError as err:
            results[name] = DiagramResult(name, error=f"{DIAGRAM_FORMATS[name]}: cannot write to {folder}: {err}")
    return results


def drawn_direction(graph: Graph) -> Orientation:
    """The direction `graph` is laid out in, read from where its edges go: top to bottom when they run more down
    than across (a project laid out so in the window), else left to right. A project file does not keep the
    window's View > Layout Direction, and ports on the nodes' sides of a column would draw every edge as a Z."""
    down = across = 0.0
    for edge in graph.edges:
        (x0, y0), (x1, y1) = graph.nodes[edge.src].position, graph.nodes[edge.dst].position
        down, across = down + abs(y1 - y0), across + abs(x1 - x0)
    return Orientation.TOP_TO_BOTTOM if down > across else Orientation.LEFT_TO_RIGHT


def write_diagrams(
    project: Project, folder: Path, formats: Iterable[str], theme: Theme = LIGHT
) -> dict[str, DiagramResult]:
    """The diagrams of `project` without a window (`netbuilder export --format svg,png`): the project is laid on
    a scene as the window would show it, in `theme` and the direction it is laid out in, and drawn by
    `export_diagrams`."""
    _application()
    document = Document(project)
    scene = GraphScene(EditorController(document), theme, drawn_direction(project.graph))
    try:
        return export_diagrams(scene, folder, formats)
    finally:
        scene.close()
        document.close()


_headless_app: QApplication | None = None  # kept for the process's life: scenes must not outlive their application


def _application() -> QApplication:
    """The running QApplication, or one made for drawing files: on Linux with no display to connect to, on the
    offscreen platform (a Qt that finds no display would abort the process). QT_QPA_PLATFORM, when set, wins."""
    global _headless_app
    existing = QApplication.instance()
    if existing is not None:
        return existing
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and no_display:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _headless_app = QApplication(["netbuilder"])
    return _headless_app


def _draw(scene: GraphScene, painter: QPainter, target: QRectF) -> None:
    """Draw the diagram's part of the scene into `target` on a plain background in the theme's canvas colour.

    The scene's drawBackground adds the canvas grid, which helps on screen but not in a paper or on a slide; a
    view with a background brush of its own fills with that brush instead of calling it
    (QGraphicsView::drawBackground), so the drawing goes through a view that is never shown.
    """
    source = diagram_rect(scene)
    view = QGraphicsView(scene)
    try:
        view.setBackgroundBrush(scene.theme.background)
        corner = view.mapFromScene(source.topLeft())
        view.render(painter, target, QRect(corner, source.size().toSize()), Qt.AspectRatioMode.IgnoreAspectRatio)
    finally:
        view.setScene(None)


def _begin(painter: QPainter, device: QSvgGenerator | QImage, path: Path) -> None:
    if not painter.begin(device):
        raise DiagramExportError(f"cannot write {path}")
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)


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
    _begin(painter, generator, path)
    _draw(scene, painter, QRectF(0, 0, source.width(), source.height()))
    painter.end()
    if not path.is_file():
        raise DiagramExportError(f"cannot write {path}")


def png_scale(source: QRectF) -> float:
    """Pixels per scene unit of the PNG of `source`: PNG_SCALE, or less for a diagram whose longer side
    would pass MAX_PNG_SIDE (a 1,000-node chain; its SVG keeps every detail)."""
    return min(PNG_SCALE, MAX_PNG_SIDE / max(source.width(), source.height(), 1.0))


def _write_png(scene: GraphScene, path: Path) -> None:
    source = diagram_rect(scene)
    scale = png_scale(source)
    size = QSize(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    if image.isNull():
        raise DiagramExportError(f"a {size.width()}x{size.height()} picture is too large to draw")
    image.fill(scene.theme.background)
    painter = QPainter()
    _begin(painter, image, path)
    _draw(scene, painter, QRectF(0, 0, size.width(), size.height()))
    painter.end()
    if not image.save(str(path), "PNG"):
        raise DiagramExportError(f"cannot write {path}")
