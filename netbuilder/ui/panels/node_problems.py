"""The inspector's Problems section: what is wrong with the node shown, each with its fix and a button to apply it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from netbuilder.analysis.diagnostics import Diagnostic
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.panels.tone_label import ToneLabel


class NodeProblems(QWidget):
    """One row per diagnostic of a node: an icon, the message, and the fix with "Apply fix" (undoable, through
    the controller). Rows are rebuilt only when what they say changes, so analysis after every edit does not
    make them flicker."""

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._key: tuple | None = None
        self.rows = QVBoxLayout(self)
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.setSpacing(8)

    def show_diagnostics(self, diagnostics: list[Diagnostic]) -> bool:
        """Show these diagnostics; False when they say what is shown already (nothing was rebuilt)."""
        graph = self.controller.graph
        key = tuple((d.severity, d.message, d.fix.describe(graph) if d.fix is not None else "") for d in diagnostics)
        if key == self._key:
            return False
        self._key = key
        while self.rows.count():
            item = self.rows.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        if not diagnostics:
            self.rows.addWidget(ToneLabel("None: this node checks out."))
        for diagnostic, (_, _, fix_text) in zip(diagnostics, key, strict=True):
            self.rows.addWidget(self._row(diagnostic, fix_text))
        return True

    def _row(self, diagnostic: Diagnostic, fix_text: str) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        standard = (
            QStyle.StandardPixmap.SP_MessageBoxCritical
            if diagnostic.is_error
            else QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(standard).pixmap(QSize(16, 16)))
        icon.setToolTip("Error" if diagnostic.is_error else "Warning")
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(2)
        message = QLabel(diagnostic.message)
        message.setObjectName("diagnosticMessage")
        message.setWordWrap(True)
        message.setTextFormat(Qt.TextFormat.PlainText)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(message)
        if diagnostic.fix is not None:
            fix = ToneLabel(f"Fix: {fix_text}")
            fix.setObjectName("diagnosticFix")
            apply = QPushButton("Apply fix")
            apply.setToolTip(f"Fix: {fix_text} (undoable)")
            apply.clicked.connect(lambda _checked=False, f=diagnostic.fix: self.controller.apply_fix(f))
            text.addWidget(fix)
            text.addWidget(apply, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(text, 1)
        return row
