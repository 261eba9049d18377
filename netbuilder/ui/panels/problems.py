"""The Problems tab: every diagnostic of the current analysis, where it is, and a one-click fix."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.analysis import Analysis
from netbuilder.analysis.diagnostics import Diagnostic
from netbuilder.ui.editor.controller import EditorController

WHERE, MESSAGE, FIX = range(3)
PROJECT = "project"
ICON_SIZE = 16


def diagnostic_key(diagnostic: Diagnostic) -> tuple:
    """What makes a diagnostic 'the same one' across analyses (its message may change, e.g. a number)."""
    return (diagnostic.node, diagnostic.code, diagnostic.port, diagnostic.param, diagnostic.severity)


def count_text(errors: int, warnings: int) -> str:
    """'2 errors, 1 warning', 'No problems'."""
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts) or "No problems"


def _muted(palette: QPalette) -> QPalette:
    muted = QPalette(palette)
    colour = palette.color(QPalette.ColorRole.PlaceholderText)
    muted.setColor(QPalette.ColorRole.WindowText, colour)
    muted.setColor(QPalette.ColorRole.Text, colour)
    return muted


class ProblemsPanel(QWidget):
    """Lists the diagnostics of `controller.document.analysis`, refreshed whenever the analysis changes.

    The window connects `node_activated` to select and frame a node, and `counts_changed` to the tab title.
    """

    node_activated = Signal(str)  # id of the node whose problem row was clicked or activated
    counts_changed = Signal(int, int)  # errors, warnings now listed (after the training filter); on each refresh

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.document = controller.document
        self._shown: list[Diagnostic] = []
        self._hidden = 0
        self._counts = (0, 0)

        self.summary_icon = QLabel()
        self.summary_icon.setFixedSize(ICON_SIZE, ICON_SIZE)
        self.summary = QLabel()
        bold = QFont(self.summary.font())
        bold.setBold(True)
        self.summary.setFont(bold)
        self.hidden_note = QLabel()
        self.training_filter = QCheckBox("Show problems that only matter for training")
        self.training_filter.setChecked(True)
        self.training_filter.setToolTip(
            "A missing loss or optimizer stops training, not exporting the model.\n"
            "Untick to see only what stands between you and model.py."
        )
        self.training_filter.toggled.connect(self._on_filter_toggled)
        self.fix_button = QPushButton("Apply Fix")
        self.fix_button.setEnabled(False)
        self.fix_button.clicked.connect(self.apply_current_fix)

        header = QHBoxLayout()
        header.setContentsMargins(6, 4, 6, 2)
        header.setSpacing(6)
        header.addWidget(self.summary_icon)
        header.addWidget(self.summary)
        header.addWidget(self.hidden_note)
        header.addStretch(1)
        header.addWidget(self.training_filter)
        header.addSpacing(8)
        header.addWidget(self.fix_button)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Where", "Problem", "Suggested fix"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setAllColumnsShowFocus(True)
        head = self.tree.header()
        head.setStretchLastSection(False)
        head.setSectionResizeMode(WHERE, QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(FIX, QHeaderView.ResizeMode.Interactive)
        head.resizeSection(WHERE, 170)
        head.resizeSection(FIX, 340)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        self.tree.itemClicked.connect(self._on_item_activated)
        self.tree.itemActivated.connect(self._on_item_activated)

        self.calm_icon = QLabel()
        self.calm_icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.calm_text = QLabel()
        self.calm_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.calm_text.setWordWrap(True)
        calm = QWidget()
        calm_layout = QVBoxLayout(calm)
        calm_layout.addStretch(1)
        calm_layout.addWidget(self.calm_icon)
        calm_layout.addWidget(self.calm_text)
        calm_layout.addStretch(2)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.tree)
        self.pages.addWidget(calm)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.pages, 1)

        self._apply_palette()
        self.document.analysis_changed.connect(self.refresh)
        self.refresh(self.document.analysis)

    # ---- what the window reads --------------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        """(errors, warnings) now listed."""
        return self._counts

    def shown_diagnostics(self) -> list[Diagnostic]:
        """The diagnostics listed, in row order."""
        return list(self._shown)

    def current_diagnostic(self) -> Diagnostic | None:
        item = self.tree.currentItem()
        return None if item is None else self._shown[self.tree.indexOfTopLevelItem(item)]

    def select_diagnostic(self, diagnostic: Diagnostic) -> bool:
        """Make the row of `diagnostic` (or the same problem in a newer analysis) current."""
        key = diagnostic_key(diagnostic)
        for row, shown in enumerate(self._shown):
            if diagnostic_key(shown) == key:
                self.tree.setCurrentItem(self.tree.topLevelItem(row))
                return True
        return False

    # ---- actions ----------------------------------------------------------------------------------------

    def apply_current_fix(self) -> bool:
        """Apply the selected problem's fix as one undoable command."""
        diagnostic = self.current_diagnostic()
        if diagnostic is None or diagnostic.fix is None:
            return False
        self.controller.open_path(())  # its fix names nodes of the top graph: edit that one, and show it
        return self.controller.apply_fix(diagnostic.fix)

    def refresh(self, analysis: Analysis | None = None) -> None:
        """Rebuild the list from `analysis` (default: the document's), keeping the selected problem."""
        analysis = analysis if analysis is not None else self.document.analysis
        current = self.current_diagnostic()
        current_row = self.tree.indexOfTopLevelItem(self.tree.currentItem()) if current is not None else -1
        training = self.training_filter.isChecked()
        everything = analysis.diagnostics
        # errors first, then warnings; each in the analysis order (the order data flows)
        self._shown = sorted((d for d in everything if training or not d.training_only), key=lambda d: not d.is_error)
        self._hidden = len(everything) - len(self._shown)

        self.tree.blockSignals(True)
        self.tree.clear()
        self.tree.addTopLevelItems([self._item(d) for d in self._shown])
        self.tree.blockSignals(False)
        if self._shown and not (current is not None and self.select_diagnostic(current)):
            # the problem that was selected is gone (fixed): stay at its row so Apply Fix walks down the list
            row = min(max(current_row, 0), len(self._shown) - 1)
            self.tree.setCurrentItem(self.tree.topLevelItem(row))
        self._update_fix_button()

        errors = sum(d.is_error for d in self._shown)
        self._counts = (errors, len(self._shown) - errors)
        self._update_summary()
        self.counts_changed.emit(*self._counts)

    # ---- inside -----------------------------------------------------------------------------------------

    def _item(self, diagnostic: Diagnostic) -> QTreeWidgetItem:
        graph = self.document.graph
        node = graph.nodes.get(diagnostic.node) if diagnostic.node is not None else None
        where = node.label if node is not None else PROJECT
        if diagnostic.path:  # inside a composite block: the inner node it is at (its port is that node's)
            where += " › " + " › ".join(diagnostic.path)
        elif diagnostic.port:
            where += f" · {diagnostic.port}"
        elif diagnostic.param:
            where += f" · {diagnostic.param}"
        fix = diagnostic.fix.describe(graph) if diagnostic.fix is not None else ""
        fix = fix[:1].upper() + fix[1:]
        message = diagnostic.message[:1].upper() + diagnostic.message[1:]
        item = QTreeWidgetItem([where, message, fix])
        icon = (
            QStyle.StandardPixmap.SP_MessageBoxCritical
            if diagnostic.is_error
            else (QStyle.StandardPixmap.SP_MessageBoxWarning)
        )
        item.setIcon(WHERE, self.style().standardIcon(icon))
        severity = "Error" if diagnostic.is_error else "Warning"
        training = "\n(only matters for training)" if diagnostic.training_only else ""
        item.setToolTip(WHERE, f"{severity} at {where}{training}")
        item.setToolTip(MESSAGE, message + training)
        item.setToolTip(FIX, f"Apply Fix: {fix}" if fix else "No automatic fix")
        if node is None:
            italic = item.font(WHERE)
            italic.setItalic(True)
            item.setFont(WHERE, italic)
        if not fix:
            item.setText(FIX, "—")
            item.setForeground(FIX, self.palette().brush(QPalette.ColorRole.PlaceholderText))
        return item

    def _on_filter_toggled(self, _checked: bool) -> None:
        self.refresh()

    def _on_current_changed(self, _current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        self._update_fix_button()

    def _on_item_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        diagnostic = self._shown[self.tree.indexOfTopLevelItem(item)]
        if diagnostic.node is not None and diagnostic.node in self.document.graph.nodes:
            self.node_activated.emit(diagnostic.node)

    def _update_fix_button(self) -> None:
        diagnostic = self.current_diagnostic()
        fixable = diagnostic is not None and diagnostic.fix is not None
        self.fix_button.setEnabled(fixable)
        if fixable:
            self.fix_button.setToolTip(diagnostic.fix.describe(self.document.graph).capitalize())
        elif diagnostic is not None:
            self.fix_button.setToolTip("This problem has no automatic fix")
        else:
            self.fix_button.setToolTip("Select a problem to fix it")

    def _update_summary(self) -> None:
        errors, warnings = self._counts
        self.summary.setText(count_text(errors, warnings))
        if errors:
            icon = QStyle.StandardPixmap.SP_MessageBoxCritical
        elif warnings:
            icon = QStyle.StandardPixmap.SP_MessageBoxWarning
        else:
            icon = QStyle.StandardPixmap.SP_DialogApplyButton
        self.summary_icon.setPixmap(self.style().standardIcon(icon).pixmap(ICON_SIZE, ICON_SIZE))
        hidden = ""
        if self._hidden:
            hidden = f"({self._hidden} training-only problem{'s' if self._hidden != 1 else ''} hidden)"
        self.hidden_note.setText(hidden)
        self.hidden_note.setVisible(bool(hidden))
        self.pages.setCurrentIndex(0 if self._shown else 1)
        if not self._shown:
            ok = self.style().standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)
            self.calm_icon.setPixmap(ok.pixmap(32, 32))
            self.calm_icon.setVisible(not ok.isNull())
            if self._hidden:
                self.calm_text.setText(
                    "The model itself is fine and can be exported.\n"
                    "Tick the box above to see what training still needs."
                )
            elif self.document.graph.nodes:
                self.calm_text.setText("Every connection fits. The model is ready to export and to train.")
            else:
                self.calm_text.setText("Nothing to check yet: drag a Dataset or an Input from the palette to start.")

    def _apply_palette(self) -> None:
        self.hidden_note.setPalette(_muted(self.palette()))
        self.calm_text.setPalette(_muted(self.palette()))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
            self.refresh()
