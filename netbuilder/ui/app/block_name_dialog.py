"""Edit > Group asks the new block's name here: a free name is proposed, and a name the project cannot take is
refused in the dialog, in one line, before anything changes."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from netbuilder.graph import Graph
from netbuilder.ui.editor.composite_commands import NEW_BLOCK_STEM, block_name_problem
from netbuilder.ui.panels.tone_label import ToneLabel

MIN_WIDTH = 380  # the refusals fit on one or two lines


class BlockNameDialog(QDialog):
    """The name of the block that `count` selected nodes become; OK only while the name can be taken."""

    def __init__(self, top: Graph, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.top = top
        self.setWindowTitle("Group into a Block")
        self.setMinimumWidth(MIN_WIDTH)
        self.field = QLineEdit(top.free_definition_name(NEW_BLOCK_STEM))
        self.field.selectAll()
        self.field.setToolTip("The new block's name: its instances' block type, and its class in the code")
        self.problem = ToneLabel(tone="error")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Group")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        what = QLabel(f"The {count} selected nodes become one block of this project (palette: “This project”).")
        what.setWordWrap(True)
        layout.addWidget(what)
        layout.addWidget(QLabel("Name"))
        layout.addWidget(self.field)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.field.textChanged.connect(self._check)
        self._check(self.field.text())

    @property
    def name(self) -> str:
        return self.field.text()

    def _check(self, text: str) -> None:
        problem = block_name_problem(self.top, text)
        self.problem.setText(problem)
        self.problem.apply_tone(self.palette())
        self.problem.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
