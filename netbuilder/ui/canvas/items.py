"""What the canvas draws: a NodeItem per node (its ports painted, not child items, to keep large graphs light)
and an EdgeItem per edge (a smooth curve labelled with its tensor shape).

Ports follow the direction the network is drawn in (the scene's `orientation`): left to right, inputs down a
node's left side and outputs down its right, one row each; top to bottom, inputs along its top edge and outputs
along its bottom, spread evenly across its width, so an edge leaves downward and arrives from above."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyle, QStyleOptionGraphicsItem, QWidget

from netbuilder.analysis.footprint import HEADER, NODE_WIDTH, node_height
from netbuilder.analysis.footprint import PORT_ROW as ROW
from netbuilder.blocks import catalogue
from netbuilder.blocks.spec import BlockSpec, PortSpec
from netbuilder.graph import Edge, Node
from netbuilder.graph.definitions import Definition
from netbuilder.ui.canvas.edge_label import PADDING, fitted
from netbuilder.ui.canvas.edge_route import routed
from netbuilder.ui.theme import Theme
from netbuilder.ui.widgets.text import escape

PORT_RADIUS = 5.0
PORT_REACH = PORT_RADIUS + 2  # how far a port's dot sticks out of its card (a lit one is larger)
DETAIL_SCALE = 0.45  # below this zoom, nodes and edges are drawn without text but the node's label
LABEL_PIXELS = 12  # further out, the label alone is drawn this many pixels high on screen, cut to fit the card
LEGIBLE_PIXELS = 6  # ... and, on a card too short for that, as small as this before it is left out
NARROWED = 0.6  # a label too long for its card is drawn this much smaller at most before it is cut
SPECK = 8.0  # a node shorter than this many pixels on screen is a box in its colour, an edge a straight line:
# a whole large network framed at once repaints in a fraction of the time, and looks the same
# Top to bottom the input names take a line along the top, so the title and block type move down (as far as
# a one-port card, footprint's height, leaves room for the output names along its bottom).
TOP_NAMES = 12.0  # how far the title and type lines move down
NAME_GAP = 2.0  # between port names side by side along an edge

TITLE_FONT = QFont()
TITLE_FONT.setBold(True)
SMALL_FONT = QFont()
SMALL_FONT.setPointSizeF(max(7.0, SMALL_FONT.pointSizeF() - 1.5))


def painted(font: QFont) -> QFont:
    """`font` as a painter on the canvas draws it, to measure by: what it leaves unset is the application's
    (TITLE_FONT is made when this module is imported, often before the application, so it has no size of its
    own, and measured as it is it would be a few pixels wide)."""
    return font.resolve(QGuiApplication.font())


def compact_count(n: int) -> str:
    """1234 -> 1.2k, 4810000 -> 4.8M: short enough for a badge."""
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= limit:
            value = n / limit
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(n)


class NodeItem(QGraphicsItem):
    """One node: title, block type, category colour, named ports, parameter badge, problem marker. An instance
    of a block of the project (`definition`) has a double border, and its tooltip says what it is made of."""

    def __init__(
        self,
        node: Node,
        theme: Theme,
        spec: BlockSpec | None = None,
        definition: Definition | None = None,
        vertical: bool = False,
    ) -> None:
        super().__init__()
        self.vertical = vertical  # ports on the top and bottom edges (top to bottom), else on the sides
        self.node_id = node.id
        self.node = node
        self.theme = theme
        self.spec = spec or catalogue.get(node.block)
        self.definition = definition
        self.severity: str | None = None
        self.problems: list[str] = []
        self.params = 0
        self.highlighted_ports: set[str] = set()
        self.edges: set[EdgeItem] = set()
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsScenePositionChanges
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.refresh_ports()
        self.setPos(QPointF(*node.position))
        self.refresh_tooltip()

    # ---- geometry ------------------------------------------------------------------------------------------

    def refresh_ports(self) -> None:
        """Recompute ports (a variadic block's change with its parameters) and the node's size."""
        self.prepareGeometryChange()
        self.inputs: tuple[PortSpec, ...] = self.spec.input_ports(self.node.params)
        self.outputs: tuple[PortSpec, ...] = self.spec.outputs
        self.height = node_height(max(len(self.inputs), len(self.outputs)))
        self._place_card()
        for edge in self.edges:
            edge.refresh()

    def set_vertical(self, vertical: bool) -> None:
        """Put the ports on the top and bottom edges (True) or on the sides; the edges follow them."""
        if vertical != self.vertical:
            self.prepareGeometryChange()
            self.vertical = vertical
            for edge in self.edges:
                edge.refresh()
            self.update()

    def card(self) -> QRectF:
        """The card as drawn, in scene coordinates (without the ports' dots)."""
        return QRectF(self.pos(), QSizeF(NODE_WIDTH, self.height))

    def boundingRect(self) -> QRectF:
        # the ports' dots stick out of the card on its sides or on its top and bottom
        return QRectF(-PORT_REACH, -PORT_REACH, NODE_WIDTH + 2 * PORT_REACH, self.height + 2 * PORT_REACH)

    def port_centre(self, side: str, index: int) -> QPointF:
        """Where the dot of input (`side` 'in') or output number `index` is drawn, in item coordinates."""
        if self.vertical:
            count = len(self.inputs if side == "in" else self.outputs)
            return QPointF(NODE_WIDTH * (index + 0.5) / count, 0.0 if side == "in" else self.height)
        return QPointF(0.0 if side == "in" else NODE_WIDTH, HEADER + ROW * index + ROW / 2)

    def _position(self, side: str, port: str) -> QPointF:
        for i, spec in enumerate(self.inputs if side == "in" else self.outputs):
            if spec.name == port:
                return self.mapToScene(self.port_centre(side, i))
        if self.vertical:  # a port it no longer has: the middle of its edge
            return self.mapToScene(QPointF(NODE_WIDTH / 2, 0.0 if side == "in" else self.height))
        return self.mapToScene(QPointF(0.0 if side == "in" else NODE_WIDTH, HEADER / 2))

    def input_position(self, port: str) -> QPointF:
        """Where an edge into `port` ends, in scene coordinates."""
        return self._position("in", port)

    def output_position(self, port: str) -> QPointF:
        """Where an edge from `port` starts, in scene coordinates."""
        return self._position("out", port)

    def port_at(self, scene_point: QPointF) -> tuple[str, str] | None:
        """('in' | 'out', port name) if the point is on a port (generously: 12 px around it; the nearest, where
        ports along an edge are closer than that)."""
        local = self.mapFromScene(scene_point)
        nearest, best = None, 12.0
        for side, ports in (("in", self.inputs), ("out", self.outputs)):
            for i, spec in enumerate(ports):
                distance = (local - self.port_centre(side, i)).manhattanLength()
                if distance <= best:
                    nearest, best = (side, spec.name), distance
        return nearest

    # ---- state from analysis ---------------------------------------------------------------------------

    def set_analysis(self, params: int, severity: str | None, problems: list[str]) -> None:
        if (params, severity, problems) != (self.params, self.severity, self.problems):
            self.params, self.severity, self.problems = params, severity, problems
            self.refresh_tooltip()
            self.update()

    def refresh_tooltip(self) -> None:
        kind = escape(self.spec.type_name(self.node.params))
        lines = [f"<b>{escape(self.node.label)}</b> · {kind}", escape(self.spec.doc).replace("\n", "<br>")]
        if self.definition is not None:
            count = len(self.definition.graph.nodes)
            made_of = f"{count} block{'s' if count != 1 else ''}"
            lines.append(f"A block of this project made of {made_of}: double-click to open it")
        if self.problems:
            lines.append("<br>".join(f"⚠ {escape(p)}" for p in self.problems))
        self.setToolTip("<br><br>".join(lines))

    def set_highlighted_ports(self, ports: set[str]) -> None:
        if ports != self.highlighted_ports:
            self.highlighted_ports = ports
            self.update()

    # ---- painting --------------------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.theme
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        scale = option.levelOfDetailFromTransform(painter.worldTransform())
        detail = scale >= DETAIL_SCALE
        accent = theme.category(self.spec.category)
        body = QRectF(0, 0, NODE_WIDTH, self.height)
        if self.height * scale < SPECK:
            colour = theme.selection if selected else (theme.error if self.severity == "error" else accent)
            painter.setPen(QPen(colour, 0))  # cosmetic: a pixel wide however small the box, so it never vanishes
            painter.setBrush(colour)
            painter.drawRect(body)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, detail)
        border = theme.selection if selected else (theme.error if self.severity == "error" else theme.node_border)
        painter.setPen(QPen(border, 2.0 if selected or self.severity == "error" else 1.0))
        painter.setBrush(theme.node)
        painter.drawRoundedRect(body, 7, 7)
        if self.definition is not None:  # made of blocks: a second border inside the first
            painter.setPen(QPen(accent, 1.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(body.adjusted(3, 3, -3, -3), 5, 5)
        top = TOP_NAMES if self.vertical else 0.0
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, NODE_WIDTH, HEADER + top / 2), 7, 7)
        header.addRect(QRectF(0, HEADER + top / 2 - 8, NODE_WIDTH, 8))
        tint = QColor(accent)
        tint.setAlpha(46 if theme.name == "light" else 80)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(tint)
        painter.drawPath(header.simplified())
        painter.setBrush(accent)
        painter.drawRect(QRectF(0, 8 + top, 4, HEADER - 8 - top / 2))
        if not detail:
            self._paint_label_alone(painter, body, scale)
            return
        self._paint_text(painter)
        self._paint_ports(painter)
        if self.severity:
            colour = theme.error if self.severity == "error" else theme.warning
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(QPointF(NODE_WIDTH - 12, 12 + top), 7, 7)
            painter.setPen(QPen(QColor("#ffffff") if self.severity == "error" else QColor("#1d232b"), 2))
            painter.drawLine(QPointF(NODE_WIDTH - 12, 8 + top), QPointF(NODE_WIDTH - 12, 13 + top))
            painter.drawPoint(QPointF(NODE_WIDTH - 12, 16 + top))

    def _paint_label_alone(self, painter: QPainter, body: QRectF, scale: float) -> None:
        """Zoomed out: the label alone, in a font that keeps its size on screen, so a whole network framed
        at once still says what each node is. Labels keep one size, so a row of them reads evenly; one too long
        for the card is drawn a little smaller, then cut from the left (an imported label's end tells most);
        when even a small line no longer fits the card, none is drawn."""
        room = body.adjusted(10, 4, -6, -4)
        if room.height() * scale < LEGIBLE_PIXELS:
            return  # the card's colour says what it can (known without measuring a font)
        usable = room.width() * 0.9  # text drawn this small on screen comes out wider than measured
        font = QFont(TITLE_FONT)
        size, smallest = LABEL_PIXELS / scale, LEGIBLE_PIXELS / scale
        font.setPixelSize(max(1, int(size)))
        width = QFontMetricsF(font).horizontalAdvance(self.node.label)
        if width > usable:  # a little smaller rather than cut much shorter
            size *= max(NARROWED, usable / width)
        while True:
            font.setPixelSize(max(1, int(size)))
            metrics = QFontMetricsF(font)
            if metrics.height() <= room.height():
                break
            if size <= smallest:
                return
            size = max(smallest, size * min(0.9, room.height() / metrics.height()))
        label = metrics.elidedText(self.node.label, Qt.TextElideMode.ElideLeft, usable)
        painter.setFont(font)
        painter.setPen(self.theme.text)
        baseline = room.center().y() + (metrics.ascent() - metrics.descent()) / 2
        painter.drawText(QPointF(room.left(), baseline), label)

    def _paint_text(self, painter: QPainter) -> None:
        theme = self.theme
        top = TOP_NAMES if self.vertical else 0.0
        painter.setFont(TITLE_FONT)
        painter.setPen(theme.text)
        right = 26 if self.severity else 8
        metrics = QFontMetricsF(painted(TITLE_FONT))
        title = metrics.elidedText(self.node.label, Qt.TextElideMode.ElideRight, NODE_WIDTH - 14 - right)
        painter.drawText(QPointF(12, 18 + top), title)
        painter.setFont(SMALL_FONT)
        painter.setPen(theme.muted)
        small = QFontMetricsF(SMALL_FONT)
        type_line = 36 + top * 0.8  # a little closer under the title: the output names need the room below
        room = NODE_WIDTH - 20  # the type, elided where the parameter count needs the room (ShiftedWindowAttention)
        if self.params:
            badge = compact_count(self.params) + " params"
            width = small.horizontalAdvance(badge)
            painter.drawText(QPointF(NODE_WIDTH - 8 - width, type_line), badge)
            room -= width + 8
        kind = self.spec.type_name(self.node.params)
        painter.drawText(QPointF(12, type_line), small.elidedText(kind, Qt.TextElideMode.ElideRight, room))

    def _paint_ports(self, painter: QPainter) -> None:
        theme = self.theme
        small = QFontMetricsF(SMALL_FONT)
        painter.setFont(SMALL_FONT)
        for side, ports in (("in", self.inputs), ("out", self.outputs)):
            for i, spec in enumerate(ports):
                centre = self.port_centre(side, i)
                lit = side == "in" and spec.name in self.highlighted_ports
                painter.setPen(QPen(theme.node, 1.5))
                painter.setBrush(theme.port_highlight if lit else theme.port)
                painter.drawEllipse(centre, PORT_RADIUS + (1.5 if lit else 0), PORT_RADIUS + (1.5 if lit else 0))
                painter.setPen(theme.muted)
                if self.vertical:
                    self._paint_port_name_across(painter, small, side, len(ports), centre, spec.name)
                else:
                    baseline = centre.y() + small.ascent() / 2 - 1
                    left = 10 if side == "in" else NODE_WIDTH - 10 - small.horizontalAdvance(spec.name)
                    painter.drawText(QPointF(left, baseline), spec.name)

    def _paint_port_name_across(
        self, painter: QPainter, small: QFontMetricsF, side: str, count: int, centre: QPointF, name: str
    ) -> None:
        """Top to bottom: a port's name centred under its dot (an input's) or above it (an output's), cut to its
        share of the card's width; where ports are too close for even a letter and the ellipsis, none is drawn
        (the tooltip of the edge and the inspector still name them)."""
        room = NODE_WIDTH / count - NAME_GAP
        text = small.elidedText(name, Qt.TextElideMode.ElideRight, room)
        if not text or text == "…":
            return
        width = small.horizontalAdvance(text)
        left = min(max(centre.x() - width / 2, 4.0), NODE_WIDTH - 4.0 - width)  # the end ones kept off the corners
        if side == "in":
            baseline = PORT_RADIUS + small.ascent()
        else:
            baseline = self.height - PORT_RADIUS - small.descent() - 1
        painter.drawText(QPointF(left, baseline), text)

    # ---- movement --------------------------------------------------------------------------------------

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.scene() is not None:
            return self.scene().snapped(value)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            self._place_card()
            for edge in self.edges:
                edge.refresh()
        return super().itemChange(change, value)

    def _place_card(self) -> None:
        """Tell the canvas's card grid where the card is now (its edges and others' find their way by it)."""
        if self.scene() is not None and self.node_id in self.scene().nodes:
            self.scene().cards.place(self.node_id, self.card())


class EdgeItem(QGraphicsPathItem):
    """An edge: a cubic curve from an output port to an input port, labelled with the tensor's shape."""

    def __init__(self, edge: Edge, source: NodeItem, target: NodeItem, theme: Theme) -> None:
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.theme = theme
        self.label = ""
        self.wrong = False
        self.shown_label = ""  # the label as drawn: on one line, or broken to fit between the cards
        self.label_box = QRectF()  # where the shape label sits: measured when the curve or the label changes
        self.setZValue(-1)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        source.edges.add(self)
        target.edges.add(self)
        # its path comes with refresh(), once on the canvas, where it can find its way round the cards

    def detach(self) -> None:
        self.source.edges.discard(self)
        self.target.edges.discard(self)

    def refresh(self) -> None:
        """Follow the ports after a node moved, changed its ports or moved them to other edges."""
        start = self.source.output_position(self.edge.src_port)
        end = self.target.input_position(self.edge.dst_port)
        cards = self._cards_in if self.scene() is not None else None
        path = routed(start, end, self.source.vertical, self.source.card(), self.target.card(), cards)
        shown, box = self._measure_label(path, self.label, self.source.vertical)
        self.setPath(path)  # tells the scene the old bounds go, so the old box must last until here
        self.shown_label, self.label_box = shown, box

    def _cards_in(self, rect: QRectF) -> list[QRectF]:
        """The cards on the canvas that `rect` meets, but this edge's own two."""
        return self.scene().cards.meeting(rect, self.source.node_id, self.target.node_id)

    def set_analysis(self, label: str, wrong: bool) -> None:
        if (label, wrong) != (self.label, self.wrong):
            self.prepareGeometryChange()
            self.label, self.wrong = label, wrong
            self.shown_label, self.label_box = self._measure_label(self.path(), label, self.source.vertical)
            self.setToolTip(label)
            self.update()

    @staticmethod
    def _measure_label(path: QPainterPath, label: str, vertical: bool) -> tuple[str, QRectF]:
        """The label as drawn (left to right, broken into lines where it is wider than the gap between the
        ports, edge_label.fitted) and its box at the middle of `path`. Measured once per change, not per frame:
        the view asks every edge's bounds several times a frame, and finding a curve's middle is the costly
        part."""
        if not label:
            return "", QRectF()
        metrics = QFontMetricsF(SMALL_FONT)
        start, end = path.elementAt(0), path.currentPosition()
        room = math.inf if vertical else abs(end.x() - start.x) - 2 * PORT_REACH
        shown = fitted(label, metrics, room)
        lines = shown.split("\n")
        width = max(metrics.horizontalAdvance(line) for line in lines) + PADDING
        height = metrics.lineSpacing() * (len(lines) - 1) + metrics.height() + 4
        middle = path.pointAtPercent(0.5)
        box = QRectF(middle.x() - width / 2, middle.y() - height / 2, width, height)
        # an edge that bows out around the cards it skips carries its label outside the bow, clear of them
        bow = middle - (QPointF(start.x, start.y) + end) / 2
        if vertical and abs(bow.x()) > 1:
            box.translate(math.copysign(width / 2, bow.x()), 0)
        elif not vertical and bow.y() < -1:
            box.translate(0, -height / 2)
        return shown, box

    def boundingRect(self) -> QRectF:
        rect = super().boundingRect().adjusted(-3, -3, 3, 3)
        return rect.united(self.label_box) if self.label else rect

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self.path())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.theme
        scale = option.levelOfDetailFromTransform(painter.worldTransform())
        detail = scale >= DETAIL_SCALE
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        colour = theme.selection if selected else (theme.error if self.wrong else theme.edge)
        if node_height(1) * scale < SPECK:  # as far out as the smallest nodes are boxes
            painter.setPen(QPen(colour, 0))  # cosmetic: one pixel wide at any zoom
            path = self.path()
            start = path.elementAt(0)
            painter.drawLine(QPointF(start.x, start.y), path.currentPosition())
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, detail)
        painter.setPen(QPen(colour, 2.4 if selected or self.wrong else 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        if detail and self.label:
            rect = self.label_box
            painter.setPen(QPen(colour, 1))
            painter.setBrush(QBrush(theme.edge_label_background))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setFont(SMALL_FONT)
            painter.setPen(theme.error if self.wrong else theme.text)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.shown_label)
