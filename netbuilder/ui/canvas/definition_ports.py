"""An opened block's inlets and outlets, drawn as tags at the border of its inside.

Inside a block of the project, nothing on the canvas would say where the inside's inputs come from or which
output leaves it. Each inlet is a tag left of the inner inputs it feeds, each outlet a tag right of the inner
output it passes out (above them and below it, drawn top to bottom), joined to those ports by dashed lines and
saying the shape that arrives or leaves (that of the instance that was opened). They follow the nodes and the
analysis; a double-click on one types its name over (the scene renames the port).
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFocusEvent, QFontMetricsF, QKeyEvent, QPainter, QPainterPath, QPen, QTextCursor
from PySide6.QtWidgets import QGraphicsItem, QGraphicsTextItem, QStyle, QStyleOptionGraphicsItem, QWidget

from netbuilder.graph.definitions import Definition
from netbuilder.ui.canvas.edge_route import curve
from netbuilder.ui.canvas.items import SMALL_FONT, TITLE_FONT, NodeItem, painted
from netbuilder.ui.theme import Theme

GAP = 70.0  # between a tag and the ports it joins
CLEARANCE = 8.0  # between a tag and a node it would otherwise lie on
HEIGHT = 24.0
PADDING = 8.0


class PortTagItem(QGraphicsItem):
    """One inlet ('in': feeding `targets`, input ports) or outlet ('out': passing out `targets[0]`'s output)."""

    def __init__(
        self,
        side: str,
        name: str,
        targets: list[tuple[NodeItem, str]],
        theme: Theme,
        nodes: Mapping[str, NodeItem] | None = None,
    ) -> None:
        super().__init__()
        self.side = side
        self.name = name
        self.targets = targets
        self.nodes = nodes if nodes is not None else {}  # the canvas's nodes, which the tag keeps clear of
        self.theme = theme
        self.shape_text = "?"
        self.node, self.port = targets[0][0].node_id, targets[0][1]  # an outlet's inner output
        self.setZValue(-1)
        self.setToolTip(
            (
                f"Input {name} of this block: what reaches the instance there feeds the ports it is joined to"
                if side == "in"
                else f"Output {name} of this block: what leaves the instance there"
            )
            + ". Double-click to rename it"
        )
        self.editor: PortNameEditor | None = None  # while its name is being typed over
        self._tag = QRectF()
        self._ends: list[QPointF] = []
        self.refresh()

    @property
    def tag_rect(self) -> QRectF:
        """The tag itself, without the lines to the ports (scene coordinates: the item stays at the origin)."""
        return QRectF(self._tag)

    def _width(self) -> float:
        name = self.editor.toPlainText() if self.editor is not None else self.name
        return (
            QFontMetricsF(painted(TITLE_FONT)).horizontalAdvance(name)
            + QFontMetricsF(SMALL_FONT).horizontalAdvance(self.shape_text)
            + 4 * PADDING  # both ends, and a gap between the name and the shape
        )

    def refresh(self) -> None:
        """Follow the ports it joins (a node moved) and the width of what it says."""
        self.prepareGeometryChange()
        width = self._width()
        if self.side == "in":
            ends = [item.input_position(port) for item, port in self.targets]
            if self._vertical:  # above the ports it feeds, as far up as the highest
                centre = sum(p.x() for p in ends) / len(ends)
                self._tag = QRectF(centre - width / 2, min(p.y() for p in ends) - GAP - HEIGHT, width, HEIGHT)
            else:
                anchor = QPointF(min(p.x() for p in ends) - GAP, sum(p.y() for p in ends) / len(ends))
                self._tag = QRectF(anchor.x() - width, anchor.y() - HEIGHT / 2, width, HEIGHT)
        else:
            ends = [self.targets[0][0].output_position(self.targets[0][1])]
            if self._vertical:  # below the output it passes out
                self._tag = QRectF(ends[0].x() - width / 2, ends[0].y() + GAP, width, HEIGHT)
            else:
                self._tag = QRectF(ends[0].x() + GAP, ends[0].y() - HEIGHT / 2, width, HEIGHT)
        self._tag = self._clear_of_nodes(self._tag)
        self._ends = ends
        if self.editor is not None:
            # where the name is drawn: as far in, and centred as tall as its line
            line = self.editor.boundingRect().height()
            self.editor.setPos(self._tag.left() + PADDING * 1.2, self._tag.center().y() - line / 2)
        self.update()

    def _clear_of_nodes(self, tag: QRectF) -> QRectF:
        """`tag` moved across the flow (up, or left when drawn top to bottom) until no node lies under it: the
        column before an inner input may hold another node (a ViT's position embedding, added to the input)."""
        rects = [
            item.sceneBoundingRect().adjusted(-CLEARANCE, -CLEARANCE, CLEARANCE, CLEARANCE)
            for item in self.nodes.values()
        ]
        for _ in range(len(rects)):
            hit = next((rect for rect in rects if rect.intersects(tag)), None)
            if hit is None:
                break
            if self._vertical:
                tag.moveRight(hit.left())
            else:
                tag.moveBottom(hit.top())
        return tag

    def set_shape(self, text: str) -> None:
        if text != self.shape_text:
            self.shape_text = text
            self.refresh()

    @property
    def _vertical(self) -> bool:
        """Drawn top to bottom: the tag sits above the inputs or below the output, its lines vertical."""
        return self.targets[0][0].vertical

    def _lines(self) -> QPainterPath:
        path = QPainterPath()
        vertical = self._vertical
        tag = self._tag
        for end in self._ends:
            if self.side == "in":
                start = QPointF(tag.center().x(), tag.bottom()) if vertical else QPointF(tag.right(), tag.center().y())
                path.addPath(curve(start, end, vertical))
            else:
                finish = QPointF(tag.center().x(), tag.top()) if vertical else QPointF(tag.left(), tag.center().y())
                path.addPath(curve(end, finish, vertical))
        return path

    def boundingRect(self) -> QRectF:
        return self._tag.united(self._lines().boundingRect()).adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.selection, 1.4, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._lines())
        painter.setPen(QPen(theme.selection, 2.4 if self.editor is not None else 1.4))
        painter.setBrush(theme.edge_label_background)
        painter.drawRoundedRect(self._tag, HEIGHT / 2, HEIGHT / 2)
        text = self._tag.adjusted(PADDING * 1.2, 0, -PADDING, 0)
        if self.editor is None:  # else the editor draws what is typed there
            painter.setFont(TITLE_FONT)
            painter.setPen(theme.text)
            painter.drawText(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.name)
        painter.setFont(SMALL_FONT)
        painter.setPen(theme.muted)
        painter.drawText(text, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.shape_text)

    def edit_name(self) -> PortNameEditor:
        """Type over the name, all of it selected: Enter or a click elsewhere ends the typing with the editor's
        `renamed` (when the name differs), Escape keeps the name."""
        if self.editor is None:
            self.editor = PortNameEditor(self)
            self.refresh()
        self.editor.setFocus(Qt.FocusReason.MouseFocusReason)
        return self.editor

    def stop_editing(self) -> None:
        """Draw the name again, the editor gone."""
        editor, self.editor = self.editor, None
        if editor is not None:
            editor.hide()
            editor.deleteLater()  # Qt's to delete, as the tag's child: never while one of its events runs
        self.refresh()


class PortNameEditor(QGraphicsTextItem):
    """A tag's name being typed over, in the tag's own font and place; the tag grows with what is typed."""

    renamed = Signal(str)  # the name typed, when it differs (while the event that ended the typing runs)

    def __init__(self, tag: PortTagItem) -> None:
        # The tag's child, holding nothing of the tag's or the scene's in Python: a reference cycle through the
        # items, collected after Qt deleted them, crashed the interpreter.
        super().__init__(tag.name, tag)
        self._done = False
        self.setFont(painted(TITLE_FONT))
        self.setDefaultTextColor(tag.theme.text)
        self.document().setDocumentMargin(0)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        cursor = self.textCursor()
        cursor.select(QTextCursor.SelectionType.Document)
        self.setTextCursor(cursor)
        self.document().contentsChanged.connect(self._follow_typing)

    def _follow_typing(self) -> None:
        self.parentItem().refresh()  # the tag grows with the name

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        option.state &= ~QStyle.StateFlag.State_HasFocus  # no dashed frame: the tag's thicker border says it
        super().paint(painter, option, widget)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish(keep=True)
        elif event.key() == Qt.Key.Key_Escape:
            self.finish(keep=False)
        else:
            super().keyPressEvent(event)
        event.accept()  # what is typed here is the name's, not the canvas's

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.finish(keep=True)

    def finish(self, *, keep: bool) -> None:
        """End the typing: rename to what was typed (`keep`) or leave the name as it was."""
        if self._done:
            return
        self._done = True
        typed = self.toPlainText().strip()
        self.clearFocus()
        tag = self.parentItem()
        if tag is None:
            return
        name = tag.name
        tag.stop_editing()  # deletes this editor later, once its event is over
        if keep and typed and typed != name:
            self.renamed.emit(typed)


def port_tags(definition: Definition, nodes: dict[str, NodeItem], theme: Theme) -> list[PortTagItem]:
    """A tag for each inlet and outlet of `definition` whose inner nodes are on the canvas (`nodes`)."""
    tags = []
    for inlet in definition.inlets:
        targets = [(nodes[node_id], port) for node_id, port in inlet.targets if node_id in nodes]
        if targets:
            tags.append(PortTagItem("in", inlet.name, targets, theme, nodes))
    for outlet in definition.outlets:
        if outlet.node in nodes:
            tags.append(PortTagItem("out", outlet.name, [(nodes[outlet.node], outlet.port)], theme, nodes))
    return tags
