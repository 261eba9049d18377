"""The canvas scene: mirrors the graph through its events and turns gestures into controller calls.

Items never change the graph. A connection drag, a move (reported once, on release) or a drop becomes one
controller call; the graph's events then update the items. A connection the graph refuses is reported with
its point (`refused`), for the view to say why by the pointer.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneDragDropEvent,
    QGraphicsSceneMouseEvent,
)

from netbuilder.analysis import Analysis
from netbuilder.analysis.layout import Orientation
from netbuilder.analysis.node_check import NodeResult
from netbuilder.blocks import catalogue
from netbuilder.blocks.tensor_type import TensorType, format_shape
from netbuilder.graph import Edge
from netbuilder.graph.events import (
    DefinitionExposed,
    DefinitionPortsChanged,
    DefinitionRenamed,
    DefinitionUnexposed,
    EdgeAdded,
    EdgeRemoved,
    GraphEvent,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeRenamed,
    ParamChanged,
)
from netbuilder.project.block_library import SUFFIX
from netbuilder.ui.canvas.card_grid import CardGrid
from netbuilder.ui.canvas.definition_ports import PortTagItem, port_tags
from netbuilder.ui.canvas.edge_route import curve
from netbuilder.ui.canvas.items import EdgeItem, NodeItem
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.theme import Theme

BLOCK_MIME = "application/x-netbuilder-block"
BLOCK_FILE_MIME = "application/x-netbuilder-block-file"  # a block file's path: the drop loads it into the project
GRID = 20.0
CANVAS_EXTENT = 1_000_000.0
REROUTE_ALL_FROM = 64  # places of changed cards from which every edge is routed again, rather than sought


class GraphScene(QGraphicsScene):
    """Items for every node and edge of the graph being edited, kept in step with it: the project's top graph,
    or the inside of an opened block of the project (with its inlets and outlets as tags at its border)."""

    node_activated = Signal(str)  # node id: double-clicked, for the inspector to take focus
    refused = Signal(QPointF, str)  # scene point, reason: a gesture there changed nothing, and why
    context_menu_requested = Signal(QPoint)  # screen point of a right-click (the node under it is selected)

    def __init__(
        self, controller: EditorController, theme: Theme, orientation: Orientation = Orientation.LEFT_TO_RIGHT
    ) -> None:
        super().__init__()
        self.controller = controller
        self.graph = controller.graph
        self.theme = theme
        self.snap_to_grid = False
        self._orientation = orientation
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.cards = CardGrid()  # where the nodes' cards are, for edges to find their way round them
        self._cards_changed: list[QRectF] = []  # where cards came, went or moved since the edges were last routed
        self._reroute_timer = QTimer(self)
        self._reroute_timer.setSingleShot(True)
        self._reroute_timer.timeout.connect(self._reroute)
        self.port_tags: list[PortTagItem] = []  # an opened block's inlets and outlets
        self._drag: _ConnectionDrag | None = None
        self._applied: dict[str, tuple] = {}  # node id -> (result, structural diagnostics, in model) last drawn
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        # A fixed, effectively endless canvas: were it to grow with its items, adding the curve of a
        # connection being drawn would shift the view under the cursor mid-drag.
        self.setSceneRect(-CANVAS_EXTENT, -CANVAS_EXTENT, 2 * CANVAS_EXTENT, 2 * CANVAS_EXTENT)
        self.setBackgroundBrush(theme.background)
        self._unsubscribe = lambda: None
        self._show_level()
        controller.level_changed.connect(self._show_level)
        self._unsubscribe_top = controller.top.subscribe(self._on_top_event)
        controller.document.analysis_changed.connect(self.apply_analysis)

    def close(self) -> None:
        self._unsubscribe()
        self._unsubscribe_top()
        self.controller.level_changed.disconnect(self._show_level)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackgroundBrush(theme.background)
        for item in [*self.nodes.values(), *self.edges.values(), *self.port_tags]:
            item.theme = theme
            item.update()

    @property
    def orientation(self) -> Orientation:
        """The direction the network is drawn in (View > Layout Direction): left to right, the nodes' ports are
        on their sides; top to bottom, inputs along their top edge and outputs along their bottom."""
        return self._orientation

    @orientation.setter
    def orientation(self, orientation: Orientation) -> None:
        if orientation is self._orientation:
            return
        self._orientation = orientation
        for item in self.nodes.values():
            item.set_vertical(self._vertical)  # its edges follow its ports
        for tag in self.port_tags:
            tag.refresh()

    @property
    def _vertical(self) -> bool:
        return self._orientation is Orientation.TOP_TO_BOTTOM

    def _show_level(self) -> None:
        """Mirror the graph the controller edits now (a block opened or closed): its items replace the others."""
        self._unsubscribe()
        self._drag = None
        self.clearSelection()
        for item in [*self.port_tags, *self.edges.values(), *self.nodes.values()]:
            self.removeItem(item)
        self.nodes, self.edges, self.port_tags, self._applied = {}, {}, [], {}
        self.cards, self._cards_changed = CardGrid(), []
        self.graph = self.controller.graph
        for node in self.graph.nodes.values():
            self._add_node(node)
        for edge in self.graph.edges:
            self._add_edge(edge)
        self._unsubscribe = self.graph.subscribe(self._on_event)
        self._show_port_tags()
        self.apply_analysis(self.controller.document.analysis)

    def _show_port_tags(self) -> None:
        for tag in self.port_tags:
            self.removeItem(tag)
        definition = self.graph.definitions.get(self.graph.owner) if self.graph.owner else None
        self.port_tags = port_tags(definition, self.nodes, self.theme) if definition is not None else []
        for tag in self.port_tags:
            self.addItem(tag)

    # ---- mirroring the graph ---------------------------------------------------------------------------

    def _on_event(self, event: GraphEvent) -> None:
        match event:
            case NodeAdded(node):
                self._add_node(node)
                self._card_changed(self.nodes[node.id].card())
                self._show_port_tags()
            case NodeRemoved(node):
                item = self.nodes.pop(node.id)
                self._applied.pop(node.id, None)
                self.cards.remove(node.id)
                self._card_changed(item.card())
                self.removeItem(item)
                self._show_port_tags()
            case EdgeAdded(edge):
                self._add_edge(edge)
                self._applied.pop(edge.dst, None)  # its ports' state is redrawn with the next analysis
            case EdgeRemoved(edge):
                item = self.edges.pop(edge)
                item.detach()
                self.removeItem(item)
            case NodeMoved(node_id, old, new):
                item = self.nodes[node_id]
                self._card_changed(item.card().translated(QPointF(*old) - item.pos()))
                if item.pos() != QPointF(*new):
                    item.setPos(QPointF(*new))
                self._card_changed(item.card())
                for tag in self.port_tags:
                    tag.refresh()
            case NodeRenamed(node_id, _, _):
                self.nodes[node_id].refresh_tooltip()
                self.nodes[node_id].update()
            case ParamChanged(node_id, name, _, _):
                item = self.nodes[node_id]
                if name == item.spec.variadic:
                    before = item.card()
                    item.refresh_ports()
                    self._card_changed(before.united(item.card()))  # a taller or shorter card
                item.update()

    def _card_changed(self, card: QRectF) -> None:
        """A card came, went or moved there: edges near it are routed again once the change is done (an edge
        follows its own cards at once; this is for the edges passing by)."""
        self._cards_changed.append(card)
        self._reroute_timer.start(0)

    def _reroute(self) -> None:
        """Route again the edges that pass where cards changed: each one whose path's bounds meet such a place
        (a card that came into its way, or left the way it went round); all of them after a larger change
        (an auto layout, an undo of one)."""
        changed, self._cards_changed = self._cards_changed, []
        if len(changed) > REROUTE_ALL_FROM:
            for edge in self.edges.values():
                edge.refresh()
            return
        for edge in self.edges.values():
            bounds = edge.sceneBoundingRect()
            if any(bounds.intersects(card) for card in changed):
                edge.refresh()

    def _on_top_event(self, event: GraphEvent) -> None:
        """A block of the project changed what its instances look like (its name, ports or parameters): their
        items take its spec again, and the opened block's tags follow its ports."""
        if isinstance(event, DefinitionRenamed | DefinitionPortsChanged | DefinitionExposed | DefinitionUnexposed):
            for node_id, item in self.nodes.items():
                if item.definition is not None:
                    item.spec = self.graph.spec(node_id)
                    item.refresh_ports()
                    item.refresh_tooltip()
                    item.update()
                    self._applied.pop(node_id, None)
            self._show_port_tags()

    def _add_node(self, node) -> None:
        item = NodeItem(
            node, self.theme, self.graph.spec(node.id), self.graph.definition_of(node.id), vertical=self._vertical
        )
        self.nodes[node.id] = item
        self.addItem(item)
        self.cards.place(node.id, item.card())

    def _add_edge(self, edge: Edge) -> None:
        item = EdgeItem(edge, self.nodes[edge.src], self.nodes[edge.dst], self.theme)
        self.edges[edge] = item
        self.addItem(item)
        item.refresh()  # its path, on the canvas now: round the cards in its way

    def apply_analysis(self, analysis: Analysis) -> None:
        """Shapes on edges, badges and problem markers on nodes. Only nodes whose result changed (analysis
        keeps an unchanged node's NodeResult object) and the edges touching them are touched. Inside an opened
        block they are those of the instance that was opened."""
        results = self.controller.level_results(analysis)
        structural: dict[str, tuple] = {}
        if not self.controller.path:  # the whole graph's own problems are the top graph's
            for diagnostic in analysis.structural:
                if diagnostic.node is not None:
                    structural[diagnostic.node] = (*structural.get(diagnostic.node, ()), diagnostic)
        model = set(analysis.model_nodes) if not self.controller.path else set(self.graph.nodes)
        changed: set[str] = set()
        for node_id, item in self.nodes.items():
            result = results.get(node_id)
            seen = (result, structural.get(node_id, ()), node_id in model)
            previous = self._applied.get(node_id)
            if previous is not None and previous[0] is result and previous[1:] == seen[1:]:
                continue
            self._applied[node_id] = seen
            changed.add(node_id)
            found = [*(result.diagnostics if result else ()), *seen[1]]
            severity = "error" if any(d.is_error for d in found) else ("warning" if found else None)
            item.set_analysis(result.params if result and seen[2] else 0, severity, [d.message for d in found])
        for edge, item in self.edges.items():
            if edge.src in changed or edge.dst in changed or item.label == "":
                self._label_edge(results, structural, edge, item)
        if self.port_tags:
            self._label_port_tags(analysis, results)

    def _label_edge(
        self, results: dict[str, NodeResult], structural: dict[str, tuple], edge: Edge, item: EdgeItem
    ) -> None:
        source = results.get(edge.src)
        t = source.outputs.get(edge.src_port) if source is not None else None
        target = results.get(edge.dst)
        found = [*(target.diagnostics if target is not None else ()), *structural.get(edge.dst, ())]
        wrong = any(d.is_error and d.port == edge.dst_port for d in found)
        item.set_analysis(format_shape(t.shape) if t is not None else "?", wrong)

    def _label_port_tags(self, analysis: Analysis, results: dict[str, NodeResult]) -> None:
        """Each inlet's tag says what arrives at the opened instance there, each outlet's what leaves."""
        instance = self.controller.path[-1]
        parent = self.controller.graph_at(len(self.controller.path) - 1)
        arriving: dict[str, TensorType | None] = {}
        outer = self.controller.level_results(analysis, depth=len(self.controller.path) - 1)
        for port, edge in parent.inputs_of(instance).items():
            source = outer.get(edge.src)
            arriving[port] = source.outputs.get(edge.src_port) if source is not None else None
        for tag in self.port_tags:
            if tag.side == "in":
                t = arriving.get(tag.name)
            else:
                produced = results.get(tag.node)
                t = produced.outputs.get(tag.port) if produced is not None else None
            tag.set_shape(format_shape(t.shape) if t is not None else "?")

    # ---- helpers for the view and the window -----------------------------------------------------------

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    def snapped(self, point: QPointF) -> QPointF:
        if not self.snap_to_grid:
            return point
        return QPointF(round(point.x() / GRID) * GRID, round(point.y() / GRID) * GRID)

    def node_at(self, point: QPointF) -> NodeItem | None:
        for item in self.items(point):
            if isinstance(item, NodeItem):
                return item
        return None

    def port_at(self, point: QPointF) -> tuple[NodeItem, str, str] | None:
        """(node item, 'in' | 'out', port) under a scene point, looking a little around it."""
        area = QRectF(point.x() - 12, point.y() - 12, 24, 24)
        for item in self.items(area):
            if isinstance(item, NodeItem):
                hit = item.port_at(point)
                if hit is not None:
                    return item, hit[0], hit[1]
        return None

    def edge_at(self, point: QPointF) -> EdgeItem | None:
        for item in self.items(point):
            if isinstance(item, EdgeItem):
                return item
        return None

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, self.theme.background)
        if painter.worldTransform().m11() < 0.5:
            return
        step = GRID * 2
        painter.setPen(QPen(self.theme.grid, 1))
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        x = left
        while x < rect.right():
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += step

    # ---- gestures --------------------------------------------------------------------------------------

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self.port_at(event.scenePos())
            if hit is not None:
                item, side, port = hit
                self._start_drag(item, side, port, event.scenePos())
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is not None:
            self._drag.follow(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is not None:
            self._finish_drag(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        moved = {i.node_id: (i.pos().x(), i.pos().y()) for i in self.selectedItems() if isinstance(i, NodeItem)}
        moved = {n: p for n, p in moved.items() if self.graph.nodes[n].position != p}
        if moved:
            self.controller.move_nodes(moved)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        item = self.node_at(event.scenePos())
        if item is not None:
            if item.definition is not None:
                self.controller.open_instance(item.node_id)  # a block of this project: its inside
            else:
                self.node_activated.emit(item.node_id)
            event.accept()
            return
        tag = next((t for t in self.port_tags if t.tag_rect.contains(event.scenePos())), None)
        if tag is not None:
            self.edit_port_name(tag)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def edit_port_name(self, tag: PortTagItem) -> None:
        """Type over an opened block's input or output name on its tag: what is typed renames the port (every
        instance keeps its connections); a refusal is said by the tag."""
        if tag.editor is not None:
            tag.editor.setFocus()
            return
        owner, old, point = self.graph.owner, tag.name, tag.tag_rect.center()

        def rename(new: str) -> None:
            reason = self.controller.attempt(lambda: self.controller.rename_port(owner, old, new))
            if reason is not None:
                self.refused.emit(point, reason)

        # after the editor's event that ended the typing: the rename builds the tags again, its tag with them
        tag.edit_name().renamed.connect(lambda new: QTimer.singleShot(0, self, lambda: rename(new)))

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        item = self.node_at(event.scenePos())
        if item is not None and not item.isSelected():
            self.select_nodes([item.node_id])  # the menu acts on what was clicked, as in a file manager
        self.context_menu_requested.emit(event.screenPos())
        event.accept()

    def _start_drag(self, item: NodeItem, side: str, port: str, point: QPointF) -> None:
        replacing = None
        if side == "in":
            replacing = self.graph.inputs_of(item.node_id).get(port)
            if replacing is None:
                where = "at the bottom" if self._vertical else "on the right"
                hint = f"drag from an output port ({where} of a node) to an input"
                self.controller.message.emit(hint)
                self.refused.emit(point, hint)
                return
            source = self.nodes[replacing.src]
            self._drag = _ConnectionDrag(self, source, replacing.src_port, replacing)
            self.edges[replacing].setVisible(False)
        else:
            self._drag = _ConnectionDrag(self, item, port, None)
        self._drag.follow(point)

    def _finish_drag(self, point: QPointF) -> None:
        drag, self._drag = self._drag, None
        drag.end()
        hit = self.port_at(point)
        if drag.replacing is not None:
            self.edges[drag.replacing].setVisible(True)
        if hit is not None and hit[1] == "in":
            edge = Edge(drag.source.node_id, drag.port, hit[0].node_id, hit[2])
            if edge != drag.replacing:
                reason = self.controller.attempt(lambda: self.controller.connect(edge, drag.replacing))
                if reason is not None:
                    self.refused.emit(point, reason)
        elif drag.replacing is not None and hit is None:
            self.controller.disconnect([drag.replacing])

    def dragEnterEvent(self, event: QGraphicsSceneDragDropEvent) -> None:
        if event.mimeData().hasFormat(BLOCK_MIME) or _block_file(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QGraphicsSceneDragDropEvent) -> None:
        if event.mimeData().hasFormat(BLOCK_MIME) or _block_file(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QGraphicsSceneDragDropEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(BLOCK_MIME):
            self.drop_block(bytes(mime.data(BLOCK_MIME)).decode(), event.scenePos())
        elif (path := _block_file(mime)) is not None:
            self.drop_block_file(path, event.scenePos())
        else:
            super().dropEvent(event)
            return
        event.acceptProposedAction()

    def drop_block(self, block: str, point: QPointF) -> str | None:
        """Add `block` at a point; dropped on an edge it is inserted into that edge."""
        position = self.snapped(point)
        try:
            spec = self.graph.block_spec(block)
        except catalogue.UnknownBlockError:
            spec = None  # gone from the project since the drag began: adding it says so
        edge_item = self.edge_at(point)
        if edge_item is not None and spec is not None and spec.inputs and spec.outputs:
            node_id = self.controller.insert_on_edge(edge_item.edge, block, (position.x(), position.y()))
        else:
            node_id = self.controller.add_block(block, (position.x(), position.y()))
        if node_id:
            self.select_nodes([node_id])
        return node_id

    def drop_block_file(self, path: Path, point: QPointF) -> str | None:
        """Load the block of file `path` into the project and add an instance of it at a point (in free space),
        as one edit; a refusal is said by the point."""
        position = self.snapped(point)
        added: list[str] = []

        def add() -> bool:
            node_id = self.controller.add_block_from_file(path, (position.x(), position.y()))
            added.extend([node_id] if node_id else [])
            return bool(node_id)

        reason = self.controller.attempt(add)
        if reason is not None:
            self.refused.emit(point, reason)
            return None
        self.select_nodes(added)
        return added[0]


def _block_file(mime: QMimeData) -> Path | None:
    """The block file a drag carries: a library block's, or a .nbblock file dragged from a file manager."""
    if mime.hasFormat(BLOCK_FILE_MIME):
        return Path(bytes(mime.data(BLOCK_FILE_MIME)).decode())
    files = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return next((path for path in files if path.suffix == SUFFIX), None)


class _ConnectionDrag:
    """The live curve of a connection being drawn, and the input ports it could end on, lit up."""

    def __init__(self, scene: GraphScene, source: NodeItem, port: str, replacing: Edge | None) -> None:
        self.scene = scene
        self.source = source
        self.port = port
        self.replacing = replacing
        self.path = QGraphicsPathItem()
        self.path.setPen(QPen(scene.theme.selection, 2, Qt.PenStyle.DashLine))
        self.path.setZValue(10)
        scene.addItem(self.path)
        graph = scene.graph
        kind = graph.spec(source.node_id).output_port(port).kind
        upstream = graph.upstream([source.node_id])  # an edge into any of these would close a cycle
        for item in scene.nodes.values():
            if item.node_id not in upstream:
                item.set_highlighted_ports(self._compatible(item, kind))

    def _compatible(self, item: NodeItem, kind: str) -> set[str]:
        """Input ports of `item` that take this kind (an edge already into one is replaced by the drop)."""
        return {spec.name for spec in item.inputs if kind in spec.accepts}

    def follow(self, point: QPointF) -> None:
        self.path.setPath(curve(self.source.output_position(self.port), point, self.source.vertical))

    def end(self) -> None:
        self.scene.removeItem(self.path)
        for item in self.scene.nodes.values():
            item.set_highlighted_ports(set())
