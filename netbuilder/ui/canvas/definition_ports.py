"""An opened block's inlets and outlets, drawn as tags at the border of its inside.

Inside a block of the project, nothing on the canvas would say where the inside's inputs come from or which
output leaves it. Each inlet is a tag left of the inner inputs it feeds, each outlet a tag right of the inner
output it passes out, joined to those ports by dashed lines and saying the shape that arrives or leaves (that of
the instance that was opened). Tags are drawn, not edited: they follow the nodes and the analysis.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from netbuilder.graph.definitions import Definition
from netbuilder.ui.canvas.items import SMALL_FONT, TITLE_FONT, NodeItem, curve
from netbuilder.ui.theme import Theme

GAP = 70.0  # between a tag and the ports it joins
HEIGHT = 24.0
PADDING = 8.0


class PortTagItem(QGraphicsItem):
    """One inlet ('in': feeding `targets`, input ports) or outlet ('out': passing out `targets[0]`'s output)."""

    def __init__(self, side: str, name: str, targets: list[tuple[NodeItem, str]], theme: Theme) -> None:
        super().__init__()
        self.side = side
        self.name = name
        self.targets = targets
        self.theme = theme
        self.shape_text = "?"
        self.node, self.port = targets[0][0].node_id, targets[0][1]  # an outlet's inner output
        self.setZValue(-1)
        self.setToolTip(
            f"Input {name} of this block: what reaches the instance there feeds the ports it is joined to"
            if side == "in"
            else f"Output {name} of this block: what leaves the instance there"
        )
        self._tag = QRectF()
        self._ends: list[QPointF] = []
        self.refresh()

    def _width(self) -> float:
        return (
            QFontMetricsF(TITLE_FONT).horizontalAdvance(self.name)
            + QFontMetricsF(SMALL_FONT).horizontalAdvance(self.shape_text)
            + 4 * PADDING  # both ends, and a gap between the name and the shape
        )

    def refresh(self) -> None:
        """Follow the ports it joins (a node moved) and the width of what it says."""
        self.prepareGeometryChange()
        if self.side == "in":
            ends = [item.input_position(port) for item, port in self.targets]
            anchor = QPointF(min(p.x() for p in ends) - GAP, sum(p.y() for p in ends) / len(ends))
            self._tag = QRectF(anchor.x() - self._width(), anchor.y() - HEIGHT / 2, self._width(), HEIGHT)
        else:
            ends = [self.targets[0][0].output_position(self.targets[0][1])]
            anchor = QPointF(ends[0].x() + GAP, ends[0].y())
            self._tag = QRectF(anchor.x(), anchor.y() - HEIGHT / 2, self._width(), HEIGHT)
        self._ends = ends
        self.update()

    def set_shape(self, text: str) -> None:
        if text != self.shape_text:
            self.shape_text = text
            self.refresh()

    def _lines(self) -> QPainterPath:
        path = QPainterPath()
        for end in self._ends:
            if self.side == "in":
                path.addPath(curve(QPointF(self._tag.right(), self._tag.center().y()), end))
            else:
                path.addPath(curve(end, QPointF(self._tag.left(), self._tag.center().y())))
        return path

    def boundingRect(self) -> QRectF:
        return self._tag.united(self._lines().boundingRect()).adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.selection, 1.4, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._lines())
        painter.setPen(QPen(theme.selection, 1.4))
        painter.setBrush(theme.edge_label_background)
        painter.drawRoundedRect(self._tag, HEIGHT / 2, HEIGHT / 2)
        painter.setFont(TITLE_FONT)
        painter.setPen(theme.text)
        text = self._tag.adjusted(PADDING * 1.2, 0, -PADDING, 0)
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.name)
        painter.setFont(SMALL_FONT)
        painter.setPen(theme.muted)
        painter.drawText(text, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.shape_text)


def port_tags(definition: Definition, nodes: dict[str, NodeItem], theme: Theme) -> list[PortTagItem]:
    """A tag for each inlet and outlet of `definition` whose inner nodes are on the canvas (`nodes`)."""
    tags = []
    for inlet in definition.inlets:
        targets = [(nodes[node_id], port) for node_id, port in inlet.targets if node_id in nodes]
        if targets:
            tags.append(PortTagItem("in", inlet.name, targets, theme))
    for outlet in definition.outlets:
        if outlet.node in nodes:
            tags.append(PortTagItem("out", outlet.name, [(nodes[outlet.node], outlet.port)], theme))
    return tags
