"""The path to the opened block, over the top-left corner of the canvas: "resnet › layer2 (Stage) › block1
(BasicBlock)". Each crumb but the last goes back up to its level; Alt+Up (Edit > Up One Level) goes up one.
Hidden while the project's top graph is shown, where there is no path to show.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

from netbuilder.graph.events import DefinitionEdited, DefinitionRenamed, GraphEvent, NodeRenamed
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.editor.controller import EditorController

MARGIN = 10  # from the viewport's top and left edges
SEPARATOR = "›"


class BreadcrumbBar(QFrame):
    """The crumbs of the controller's opened path, rebuilt when a block opens or closes."""

    def __init__(self, view: GraphView, controller: EditorController) -> None:
        super().__init__(view)
        self.view = view
        self.controller = controller
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Window)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(4, 2, 8, 2)
        self.row.setSpacing(2)
        self.crumbs: list[QToolButton | QLabel] = []
        controller.level_changed.connect(self.refresh)
        unsubscribe = controller.top.subscribe(self._on_graph_event)  # a block renamed renames its crumb
        self.destroyed.connect(lambda *_: unsubscribe())
        view.viewport().installEventFilter(self)  # a resize keeps the bar in its corner
        self.refresh()

    def refresh(self) -> None:
        """Show the path open now: the project, then each opened instance as 'label (Block)'."""
        for widget in self.crumbs:
            self.row.removeWidget(widget)
            widget.deleteLater()
        self.crumbs = []
        path = self.controller.path
        if not path:
            self.hide()
            return
        names = [self.controller.document.title]
        for depth, node_id in enumerate(path):
            node = self.controller.graph_at(depth).nodes[node_id]
            names.append(f"{node.label} ({node.block})")
        for depth, name in enumerate(names):
            if depth:
                self._add(QLabel(SEPARATOR))
            if depth == len(path):
                here = QLabel(name)
                here.setTextFormat(Qt.TextFormat.PlainText)
                font = here.font()
                font.setBold(True)
                here.setFont(font)
                here.setToolTip("The block open now: edits here change every instance that uses it")
                self._add(here)
            else:
                button = QToolButton()
                button.setText(name.replace("&", "&&"))
                button.setAutoRaise(True)
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.setToolTip("Back to this level (Alt+Up goes up one)")
                button.clicked.connect(lambda _=False, kept=path[:depth]: self.controller.open_path(kept))
                self._add(button)
        self.show()
        self.raise_()
        self._place()

    def _on_graph_event(self, event: GraphEvent) -> None:
        told = event.event if isinstance(event, DefinitionEdited) else event  # a rename inside a block too
        if isinstance(told, DefinitionRenamed | NodeRenamed) and self.controller.path:
            self.refresh()

    def _add(self, widget: QToolButton | QLabel) -> None:
        self.row.addWidget(widget)
        widget.show()  # added to a bar already shown, it would show only later, after the bar is sized
        self.crumbs.append(widget)

    def _place(self) -> None:
        self.adjustSize()
        viewport = self.view.viewport().geometry()
        self.move(viewport.left() + MARGIN, viewport.top() + MARGIN)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return super().eventFilter(watched, event)
