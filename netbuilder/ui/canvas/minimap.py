"""The overview (minimap): the whole graph in small in the canvas's bottom-right corner, with the part the view
shows marked on it; a click or a drag in it moves the view there.

It stays cheap on 1,000+ nodes by never rendering the scene: each node is one rectangle in its category's
colour, drawn into a cached layer after the graph changes (at most every REDRAW_MS); a pan, a zoom or a new
selection only repaints the small widget: that layer, the selected nodes and the visible-area rectangle.

What a person expects of it: it is there when the graph does not fit the view, the only time it helps; when
the whole graph is in view it hides itself (it would only cover the nodes in that corner), and comes back as
soon as part of the graph is out of sight. View > Overview turns it off altogether.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from netbuilder.analysis.footprint import footprint
from netbuilder.graph.events import EdgeAdded, EdgeRemoved, GraphEvent, NodeRenamed, ParamChanged
from netbuilder.ui.canvas.view import GraphView

MAX_SIZE = QSize(240, 160)  # the largest the overview grows, for a graph of that aspect
MIN_SIZE = QSize(64, 40)  # a long thin graph still gets a frame one can aim a click at
CORNER_MARGIN = 12  # from the viewport's bottom-right corner
PADDING = 6  # between the frame and the drawn graph
MIN_NODE = 2.0  # pixels: a node drawn smaller than this would vanish
MIN_MARK = 6.0  # pixels: the visible-area frame stays findable however far in the view is zoomed
REDRAW_MS = 60  # the node layer is redrawn at most this often while the graph changes
BACKGROUND_ALPHA = 215  # of 255: the canvas shows faintly through the frame
TOOLTIP = "Overview of the whole network: click or drag to move the view there (View > Overview hides it)"


class Overview(QWidget):
    """A small overlay on a GraphView (a child of the view, beside its viewport, so it stays put while the
    canvas scrolls) that draws every node as a rectangle in scene proportion and the visible area as a frame."""

    def __init__(self, view: GraphView) -> None:
        super().__init__(view)
        self.view = view
        self.scene = view.scene()
        self.wanted = True  # View > Overview
        self.bounds = QRectF()  # the scene area shown: every node's rectangle
        self.rects: dict[str, tuple[float, float, float, float]] = {}  # node id -> x, y, width, height in the scene
        self._selected: list[QRectF] | None = None  # the selected nodes as drawn; None: to be worked out again
        self._scale = 1.0
        self._origin = QPointF()  # where bounds' top-left corner is drawn
        self._layer = QPixmap()
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self.refresh)
        self.setToolTip(TOOLTIP)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        unsubscribe = self.scene.graph.subscribe(self._on_graph_event)
        self.destroyed.connect(lambda *_: unsubscribe())
        self.scene.selectionChanged.connect(self._selection_changed)
        view.horizontalScrollBar().valueChanged.connect(self._follow_view)
        view.verticalScrollBar().valueChanged.connect(self._follow_view)
        view.zoom_changed.connect(self._follow_view)
        view.viewport().installEventFilter(self)  # its resizes move the overview to the new corner
        self.refresh()

    # ---- what is shown -----------------------------------------------------------------------------------

    def set_wanted(self, wanted: bool) -> None:
        """Turn the overview on (shown whenever the graph does not fit the view) or off."""
        self.wanted = wanted
        self._follow_view()

    def needed(self) -> bool:
        """Whether part of the graph is out of the view, so an overview has something to show."""
        return not self.bounds.isEmpty() and not self.visible_area().contains(self.bounds)

    def visible_area(self) -> QRectF:
        """The scene area the view shows now."""
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    def refresh(self) -> None:
        """Read every node's rectangle from the graph, fit them into the frame and redraw the node layer."""
        self._redraw.stop()
        graph = self.scene.graph
        self.rects = {}
        for node_id, node in graph.nodes.items():
            self.rects[node_id] = (*node.position, *footprint(graph, node_id))
        if self.rects:
            left = min(r[0] for r in self.rects.values())
            top = min(r[1] for r in self.rects.values())
            right = max(r[0] + r[2] for r in self.rects.values())
            bottom = max(r[1] + r[3] for r in self.rects.values())
            self.bounds = QRectF(left, top, right - left, bottom - top)
        else:
            self.bounds = QRectF()
        self._fit()
        self._draw_layer()
        self._selection_changed()
        self._follow_view()

    def _on_graph_event(self, event: GraphEvent) -> None:
        """Redraw after what moves, adds, removes or resizes a node (a variadic block's port count is its
        height); connections and labels are not drawn here, so they cost nothing."""
        if isinstance(event, EdgeAdded | EdgeRemoved | NodeRenamed):
            return
        if isinstance(event, ParamChanged) and event.name != self.scene.graph.spec(event.node_id).variadic:
            return
        self._schedule()

    def _schedule(self, *_: object) -> None:
        if not self._redraw.isActive():  # not restarted: a steady stream of changes still redraws
            self._redraw.start()

    def _selection_changed(self) -> None:
        self._selected = None  # worked out when next painted: a rubber band changes it at every move
        self.update()

    def _fit(self) -> None:
        """Size the frame to the graph's aspect (within MIN_SIZE..MAX_SIZE) and work out the scale."""
        if self.bounds.isEmpty():
            return
        inner_w, inner_h = MAX_SIZE.width() - 2 * PADDING, MAX_SIZE.height() - 2 * PADDING
        self._scale = min(inner_w / self.bounds.width(), inner_h / self.bounds.height())
        drawn_w, drawn_h = self.bounds.width() * self._scale, self.bounds.height() * self._scale
        width = max(MIN_SIZE.width(), round(drawn_w) + 2 * PADDING)
        height = max(MIN_SIZE.height(), round(drawn_h) + 2 * PADDING)
        self._origin = QPointF((width - drawn_w) / 2, (height - drawn_h) / 2)
        self.resize(width, height)
        self._place()

    def _place(self) -> None:
        viewport = self.view.viewport().geometry()
        self.move(
            viewport.right() + 1 - CORNER_MARGIN - self.width(), viewport.bottom() + 1 - CORNER_MARGIN - self.height()
        )

    def _follow_view(self, *_: object) -> None:
        """The view moved or zoomed: show or hide, and repaint the visible-area frame."""
        show = self.wanted and self.needed()
        if show != self.isVisible():
            self.setVisible(show)
            if show:
                self.raise_()
        if show:
            self.update()

    # ---- coordinates ---------------------------------------------------------------------------------------

    def to_overview(self, rect: QRectF) -> QRectF:
        """A scene rectangle in the overview's coordinates."""
        top_left = (rect.topLeft() - self.bounds.topLeft()) * self._scale + self._origin
        return QRectF(top_left, rect.size() * self._scale)

    def to_scene(self, point: QPointF) -> QPointF:
        """An overview point in scene coordinates."""
        return (point - self._origin) / self._scale + self.bounds.topLeft()

    # ---- drawing -------------------------------------------------------------------------------------------

    def _draw_layer(self) -> None:
        """Every node as a small rectangle in its category's colour, in the graph's order (where nodes overlap at
        this scale, their colours mix as they lie rather than the last category drawn covering the rest)."""
        ratio = self.devicePixelRatioF()
        layer = QPixmap(self.size() * ratio)
        layer.setDevicePixelRatio(ratio)
        layer.fill(Qt.GlobalColor.transparent)
        graph = self.scene.graph
        colours: dict[str, QColor] = {}
        painter = QPainter(layer)
        for node_id in self.rects:
            category = graph.spec(node_id).category
            if category not in colours:
                colours[category] = self.scene.theme.category(category)
            painter.fillRect(self._node_rect(node_id), colours[category])
        painter.end()
        self._layer = layer

    def _node_rect(self, node_id: str) -> QRectF:
        """Where a node is drawn, at least MIN_NODE pixels each way (plain arithmetic: 1,000 of these per redraw)."""
        x, y, width, height = self.rects[node_id]
        scale, origin, corner = self._scale, self._origin, self.bounds.topLeft()
        return QRectF(
            (x - corner.x()) * scale + origin.x(),
            (y - corner.y()) * scale + origin.y(),
            max(MIN_NODE, width * scale),
            max(MIN_NODE, height * scale),
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        theme = self.scene.theme
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        background = QColor(theme.background)
        background.setAlpha(BACKGROUND_ALPHA)
        painter.setPen(QPen(theme.node_border, 1))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
        painter.drawPixmap(0, 0, self._layer)
        if self._selected is None:
            ids = [n for n in self.scene.selected_node_ids() if n in self.rects]
            self._selected = [self._node_rect(n).adjusted(-1, -1, 1, 1) for n in ids]
        if self._selected:  # on top, a little larger, so a found node stands out
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.selection)
            painter.drawRects(self._selected)
        painter.setClipRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        shade = QColor(theme.selection)
        shade.setAlpha(40)
        painter.setPen(QPen(theme.selection, 1.5))
        painter.setBrush(shade)
        marked = self.to_overview(self.visible_area())
        grow_x, grow_y = max(0.0, MIN_MARK - marked.width()) / 2, max(0.0, MIN_MARK - marked.height()) / 2
        painter.drawRect(marked.adjusted(-grow_x, -grow_y, grow_x, grow_y))

    # ---- gestures ------------------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._centre_at(event.position())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._centre_at(event.position())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def _centre_at(self, point: QPointF) -> None:
        if not self.bounds.isEmpty():
            self.view.centerOn(self.to_scene(point))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.view.viewport():
            self._place()
            self._follow_view()
        return super().eventFilter(watched, event)

    def changeEvent(self, event: QEvent) -> None:
        # a theme change comes with a new application palette; the node layer holds the selection colour
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._schedule()
        super().changeEvent(event)
