"""The overview (minimap): the whole graph in small in the canvas's bottom-right corner, with the part the view
shows marked on it; a click or a drag in it moves the view there.

It stays cheap on 1,000+ nodes by never rendering the scene: each node is one rectangle in its category's
colour, drawn into a cached layer when the graph or the selection changes (at most every REDRAW_MS), and a
pan or a zoom only repaints the small widget with the visible-area rectangle over that layer.

What a person expects of it: it is there when the graph does not fit the view, the only time it helps; when
the whole graph is in view it hides itself (it would only cover the nodes in that corner), and comes back as
soon as part of the graph is out of sight. View > Overview turns it off altogether.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from netbuilder.analysis.footprint import footprint
from netbuilder.ui.canvas.view import GraphView

MAX_SIZE = QSize(240, 160)  # the largest the overview grows, for a graph of that aspect
MIN_SIZE = QSize(64, 40)  # a long thin graph still gets a frame one can aim a click at
CORNER_MARGIN = 12  # from the viewport's bottom-right corner
PADDING = 6  # between the frame and the drawn graph
MIN_NODE = 2.0  # pixels: a node drawn smaller than this would vanish
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
        self.rects: dict[str, QRectF] = {}  # node id -> scene rectangle, as the graph has it
        self._scale = 1.0
        self._origin = QPointF()  # where bounds' top-left corner is drawn
        self._layer = QPixmap()
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self.refresh)
        self.setToolTip(TOOLTIP)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        # every graph change is followed by one fresh analysis, so this is one signal per burst of edits
        self.scene.controller.document.analysis_changed.connect(self._schedule)
        self.scene.selectionChanged.connect(self._schedule)
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
        bounds = QRectF()
        for node_id, node in graph.nodes.items():
            width, height = footprint(graph, node_id)
            rect = QRectF(node.position[0], node.position[1], width, height)
            self.rects[node_id] = rect
            bounds = bounds.united(rect)
        self.bounds = bounds
        self._fit()
        self._draw_layer()
        self._follow_view()
        self.update()

    def _schedule(self, *_: object) -> None:
        if not self._redraw.isActive():  # not restarted: a steady stream of changes still redraws
            self._redraw.start()

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
        """Every node as a small rectangle in its category's colour, selected ones in the selection colour."""
        ratio = self.devicePixelRatioF()
        layer = QPixmap(self.size() * ratio)
        layer.setDevicePixelRatio(ratio)
        layer.fill(Qt.GlobalColor.transparent)
        if self.bounds.isEmpty():
            self._layer = layer
            return
        theme = self.scene.theme
        graph = self.scene.graph
        selected = set(self.scene.selected_node_ids())
        painter = QPainter(layer)
        colours: dict[str, QColor] = {}
        for node_id, rect in self.rects.items():
            if node_id in selected:
                continue
            category = graph.spec(node_id).category
            if category not in colours:
                colours[category] = theme.category(category)
            painter.fillRect(self._node_rect(rect), colours[category])
        for node_id in selected & self.rects.keys():  # on top, and a little larger, so a found node stands out
            painter.fillRect(self._node_rect(self.rects[node_id]).adjusted(-1, -1, 1, 1), theme.selection)
        painter.end()
        self._layer = layer

    def _node_rect(self, rect: QRectF) -> QRectF:
        drawn = self.to_overview(rect)
        drawn.setWidth(max(MIN_NODE, drawn.width()))
        drawn.setHeight(max(MIN_NODE, drawn.height()))
        return drawn

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
        painter.setClipRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        shade = QColor(theme.selection)
        shade.setAlpha(40)
        painter.setPen(QPen(theme.selection, 1.5))
        painter.setBrush(shade)
        painter.drawRect(self.to_overview(self.visible_area()))

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
