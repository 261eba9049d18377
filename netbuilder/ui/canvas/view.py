"""The canvas view: zoom to the cursor, pan with the middle button or Space+drag, rubber-band selection,
framing (and how a graph just opened is first shown), and Tab for a quick-add search at the cursor."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView

from netbuilder.analysis.layout import Orientation
from netbuilder.ui.canvas.refusal_bubble import RefusalBubble
from netbuilder.ui.canvas.scene import GraphScene

MIN_ZOOM, MAX_ZOOM = 0.02, 3.0
FRAME_MARGIN = 40  # pixels of the view kept free around what Frame All and Frame Selection fit
READABLE_ZOOM = 0.75  # every line of a card and each edge's shape can be read: a node found, a graph opened
# A graph just opened is framed whole down to this zoom, where a card's label can still be read; one larger
# than that opens at READABLE_ZOOM at its start, the overview showing the rest.
OPENED_WHOLE_DOWN_TO = 0.25


class GraphView(QGraphicsView):
    """Shows a GraphScene, and says by the pointer why the scene refused a gesture. Everything else but
    navigation is the scene's or the window's business."""

    zoom_changed = Signal(float)  # the new scale factor, 1.0 = 100 %
    quick_add_requested = Signal(QPointF)  # scene point under the cursor where Tab was pressed

    def __init__(self, scene: GraphScene) -> None:
        super().__init__(scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setAcceptDrops(True)
        # the canvas is endless: pan with the middle button or Space+drag, Frame All to come back
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._pan_from: QPoint | None = None
        self._space = False
        self.refusal = RefusalBubble(self.viewport())
        scene.refused.connect(self._say_refusal)

    def _say_refusal(self, point: QPointF, reason: str) -> None:
        self.refusal.show_at(self.mapFromScene(point), reason)

    # ---- zoom ------------------------------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, floor: float = MIN_ZOOM) -> None:
        """Zoom to `factor`, kept between `floor` and MAX_ZOOM."""
        factor = max(floor, min(MAX_ZOOM, factor))
        self.scale(factor / self.zoom, factor / self.zoom)
        self.zoom_changed.emit(self.zoom)

    def zoom_by(self, step: float) -> None:
        # never further out than MIN_ZOOM, or than a frame that had to go further took the view
        self.set_zoom(self.zoom * step, min(MIN_ZOOM, self.zoom))

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.refusal.hide()  # it points at a place that is about to move
        if event.angleDelta().y() == 0:
            super().wheelEvent(event)
            return
        self.zoom_by(1.15 ** (event.angleDelta().y() / 120))

    def frame(self, rect: QRectF) -> None:
        """Fit `rect` (with a margin) in the view, at 100 % at most, as far out as it takes: a large network
        is shown whole, and its nodes keep their labels as long as they can (items.py's level of detail)."""
        if rect.isEmpty():
            return
        fit = self._fit(rect)
        self.set_zoom(min(1.0, fit), floor=min(MIN_ZOOM, fit))
        self.centerOn(rect.center())

    def frame_all(self) -> None:
        self.frame(self.scene().itemsBoundingRect())

    def frame_opened(self, focus: QRectF | None = None) -> None:
        """Show a graph just opened (a project, a block, the level a block was closed back to): whole where it
        fits at OPENED_WHOLE_DOWN_TO or nearer; a larger one at READABLE_ZOOM, centred on `focus` (a card's
        scene rect) or else on its first card along the flow, where the data enters, as far as the graph
        reaches: a long network opens readable where one reads it from, its first card at the view's near
        edge. Frame All (Home) still shows it whole."""
        rect = self.scene().itemsBoundingRect()
        if rect.isEmpty():
            return
        if self._fit(rect) >= OPENED_WHOLE_DOWN_TO:
            self.frame(rect)
            return
        self.set_zoom(READABLE_ZOOM)
        seen = self.mapToScene(self.viewport().rect()).boundingRect()  # the scene's area in view at this zoom
        margin = FRAME_MARGIN / self.zoom
        centre = (focus or self._first_card(rect)).center()
        self.centerOn(
            _within(centre.x(), rect.left() - margin, rect.right() + margin, seen.width()),
            _within(centre.y(), rect.top() - margin, rect.bottom() + margin, seen.height()),
        )

    def _first_card(self, rect: QRectF) -> QRectF:
        """The card where the flow starts: leftmost (then topmost) left to right, topmost top to bottom."""
        cards = [item.card() for item in self.scene().nodes.values()]
        if self.scene().orientation is Orientation.LEFT_TO_RIGHT:
            return min(cards, key=lambda card: (card.left(), card.top()), default=rect)
        return min(cards, key=lambda card: (card.top(), card.left()), default=rect)

    def _fit(self, rect: QRectF) -> float:
        """The zoom at which `rect` fills the view within FRAME_MARGIN."""
        room = self.viewport().rect().adjusted(FRAME_MARGIN, FRAME_MARGIN, -FRAME_MARGIN, -FRAME_MARGIN)
        return min(max(room.width(), 1) / max(rect.width(), 1.0), max(room.height(), 1) / max(rect.height(), 1.0))

    def frame_selection(self) -> None:
        items = self.scene().selectedItems()
        if not items:
            self.frame_all()
            return
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        self.frame(rect)

    # ---- pan -------------------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.refusal.hide()  # read, or no longer wanted: the next gesture starts
        if event.button() == Qt.MouseButton.MiddleButton or (
            self._space and event.button() == Qt.MouseButton.LeftButton
        ):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position().toPoint() - self._pan_from
            self._pan_from = event.position().toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Tab:
            cursor = self.mapFromGlobal(self.cursor().pos())
            inside = self.viewport().rect().contains(cursor)
            point = self.mapToScene(cursor if inside else self.viewport().rect().center())
            self.quick_add_requested.emit(point)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            return
        super().keyReleaseEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        # Tab opens the quick-add search here, instead of moving the focus
        return False


def _within(centre: float, low: float, high: float, span: float) -> float:
    """Where to centre a span `span` long near `centre` so that it stays inside [low, high] as far as it can
    (centred on that range when the span is the longer)."""
    if high - low <= span:
        return (low + high) / 2
    return min(max(centre, low + span / 2), high - span / 2)
