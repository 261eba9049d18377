"""Find a node (Ctrl+F on the canvas): a small field over the top of the canvas. Part of a label or of a block
type (case-insensitive) finds the nodes in the order the data flows; the first is selected and brought into
view as one types, Enter or F3 goes to the next, Shift+Enter or Shift+F3 to the previous, Escape closes the
field and gives the keyboard back to the canvas.

Ctrl+F belongs to the canvas only while it has the focus: elsewhere in the window it stays the palette's
"Search blocks". The canvas claims it through the shortcut override, before the palette's window shortcut
would take it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QStyle, QToolButton

from netbuilder.quoting import quoted
from netbuilder.ui.canvas.view import READABLE_ZOOM, GraphView

MARGIN = 10  # from the viewport's top and right edges
FIELD_WIDTH = 220
FIELD_TIP = (
    "Part of a node's label or block type. Enter or F3: next match, Shift+Enter or Shift+F3: previous, Esc: close"
)


class FindBar(QFrame):
    """The find field over a GraphView's top-right corner, hidden until Ctrl+F (or Edit > Find…)."""

    def __init__(self, view: GraphView) -> None:
        super().__init__(view)
        self.view = view
        self.scene = view.scene()
        self.matches: list[str] = []  # node ids, in the order the data flows
        self.current: str | None = None  # the match last jumped to
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Window)
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("Find a node")
        self.field.setToolTip(FIELD_TIP)
        self.field.setClearButtonEnabled(True)
        self.field.setFixedWidth(FIELD_WIDTH)
        self.count = QLabel(self)
        self.count.setTextFormat(Qt.TextFormat.PlainText)  # what was typed is shown, never read as markup
        self.previous_button = self._button(Qt.ArrowType.UpArrow, "Previous match (Shift+F3)", self.find_previous)
        self.next_button = self._button(Qt.ArrowType.DownArrow, "Next match (F3, Enter)", self.find_next)
        self.close_button = self._button(None, "Close (Esc)", self.close_bar)
        self.close_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 4, 4)
        layout.setSpacing(4)
        for widget in (self.field, self.count, self.previous_button, self.next_button, self.close_button):
            layout.addWidget(widget)
        self.field.textChanged.connect(self._text_changed)
        self.field.installEventFilter(self)
        view.installEventFilter(self)  # Ctrl+F and F3 while the canvas has the focus
        view.viewport().installEventFilter(self)  # its resizes keep the bar in the corner
        self.hide()

    def _button(self, arrow: Qt.ArrowType | None, tip: str, slot) -> QToolButton:
        button = QToolButton(self)
        if arrow is not None:
            button.setArrowType(arrow)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keyboard stays in the field
        button.clicked.connect(slot)
        return button

    # ---- opening and closing -------------------------------------------------------------------------------

    def open(self) -> None:
        """Show the field with what was typed last selected; its matches are counted again (the graph may
        have changed), without jumping until one types or asks for the next."""
        self.show()
        self.raise_()
        self._place()
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()
        self.matches = self.search(self.field.text())
        if self.current not in self.matches:
            self.current = None
        self._say()

    def close_bar(self) -> None:
        """Hide the field and give the keyboard back to the canvas (the found node stays selected)."""
        self.hide()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _place(self) -> None:
        self.adjustSize()
        viewport = self.view.viewport().geometry()
        self.move(viewport.right() + 1 - MARGIN - self.width(), viewport.top() + MARGIN)

    # ---- finding -------------------------------------------------------------------------------------------

    def search(self, text: str) -> list[str]:
        """Ids of the nodes whose label or block type holds `text` (case-insensitive), in the analysis's
        order (topological, ties by position), so Next follows the flow of the data."""
        wanted = text.strip().casefold()
        if not wanted:
            return []
        graph = self.scene.graph
        order = [n for n in self.scene.controller.document.analysis.order if n in graph.nodes]
        if len(order) < len(graph.nodes):  # a node added since the last analysis goes last
            known = set(order)
            order += [n for n in graph.nodes if n not in known]
        return [
            n for n in order if wanted in graph.nodes[n].label.casefold() or wanted in graph.spec(n).type.casefold()
        ]

    def find_next(self) -> None:
        self._step(1)

    def find_previous(self) -> None:
        self._step(-1)

    def _text_changed(self, text: str) -> None:
        self.current = None
        self._step(1)

    def _step(self, delta: int) -> None:
        self.matches = self.search(self.field.text())
        if self.matches:
            if self.current in self.matches:
                index = (self.matches.index(self.current) + delta) % len(self.matches)
            else:
                index = 0 if delta > 0 else len(self.matches) - 1
            self._go_to(self.matches[index])
        else:
            self.current = None
        self._say()

    def _go_to(self, node_id: str) -> None:
        """Select the node and centre the view on it, zooming in to a readable size from further out."""
        self.current = node_id
        self.scene.select_nodes([node_id])
        if self.view.zoom < READABLE_ZOOM:
            self.view.set_zoom(READABLE_ZOOM)
        self.view.centerOn(self.scene.nodes[node_id].sceneBoundingRect().center())

    def _say(self) -> None:
        text = self.field.text().strip()
        if not text:
            message = ""
        elif not self.matches:
            message = f"no node matches {quoted(text)}"
        elif self.current is None:
            message = f"{len(self.matches)} matches" if len(self.matches) > 1 else "1 match"
        else:
            message = f"{self.matches.index(self.current) + 1} of {len(self.matches)}"
        self.count.setText(message)
        palette = self.count.palette()
        normal = self.palette().color(QPalette.ColorRole.WindowText)
        palette.setColor(QPalette.ColorRole.WindowText, self.scene.theme.error if text and not self.matches else normal)
        self.count.setPalette(palette)
        for button in (self.previous_button, self.next_button):
            button.setEnabled(bool(self.matches))
        if self.isVisible():
            self._place()

    # ---- keys ----------------------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Resize and watched is self.view.viewport():
            if self.isVisible():
                self._place()
        elif kind == QEvent.Type.ShortcutOverride and watched in (self.view, self.field):
            if event.matches(QKeySequence.StandardKey.Find):
                event.accept()  # ours here, not the palette's window shortcut: it comes back as a key press
                return True
        elif kind == QEvent.Type.KeyPress and watched in (self.view, self.field):
            return self._key(watched, event)
        return super().eventFilter(watched, event)

    def _key(self, watched: QObject, event: QKeyEvent) -> bool:
        if event.matches(QKeySequence.StandardKey.Find):
            self.open()
            return True
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if event.key() == Qt.Key.Key_F3 and (watched is self.field or self.isVisible()):
            self._step(-1 if shift else 1)
            return True
        if watched is self.field and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._step(-1 if shift else 1)
            return True
        if watched is self.field and event.key() == Qt.Key.Key_Escape:
            self.close_bar()
            return True
        return False
