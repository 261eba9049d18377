"""A run's graph as it was when the run started, drawn by the canvas's own items in a view that takes no
edits (it pans and zooms as the canvas does), with what differs from the project now listed beside it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QSplitter, QVBoxLayout, QWidget

from netbuilder.project import Project
from netbuilder.project.run_history import RunRecord
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.theme import Theme


class RunGraphDialog(QDialog):
    """The graph of `project` (the run's, loaded from its record) read-only; `changes` are the differences
    from now in words. Deleted when closed, its document with it."""

    def __init__(self, record: RunRecord, project: Project, changes: list[str], theme: Theme, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Run {record.title}: its graph (read-only)")
        self.document = Document(project, self)
        self.controller = EditorController(self.document, self)
        self.scene = GraphScene(self.controller, theme)
        self.scene.apply_analysis(self.document.analysis)  # shapes on the edges, counts on the nodes, as drawn then
        self.view = GraphView(self.scene)
        self.view.setInteractive(False)  # nothing is selected, moved or edited; panning and zooming still work
        self.view.setToolTip("The graph this run trained, as it was (pan with the middle button, zoom with the wheel)")

        self.changes = QListWidget()
        self.changes.addItems(changes or ["The graph and the settings are the same as now"])
        self.changes.setWordWrap(True)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 0, 0, 0)
        side_layout.addWidget(QLabel(f"Differences from now ({len(changes)}):" if changes else "Differences from now:"))
        side_layout.addWidget(self.changes, 1)
        splitter = QSplitter()
        splitter.addWidget(self.view)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([760, 240])  # the changes' lines unwrapped beside a graph as wide as the dialog allows
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.resize(max(900, parent.width() * 17 // 20), max(560, parent.height() * 4 // 5))  # most of the window

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self.view.frame_all)  # the whole graph in view at each size, once laid out

    def done(self, result: int) -> None:
        """Closed (Close, Escape or the title bar's button, all of which end here): the scene stops following the
        document, and the document its graph."""
        if self.document is not None:
            self.scene.close()
            self.controller.close()  # and the document
            self.document = None
        super().done(result)
