"""The Code tab: the generated model.py (or train.py), live, read-only, highlighted."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from netbuilder.analysis import Analysis
from netbuilder.codegen.model_code import CodegenError
from netbuilder.pipeline import package_project
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.panels.highlighter import PythonHighlighter
from netbuilder.ui.widgets.banner import Banner
from netbuilder.ui.widgets.fonts import code_font
from netbuilder.ui.widgets.text import sentence

MODEL_FILE = "model.py"
TRAIN_FILE = "train.py"
FILES = (MODEL_FILE, TRAIN_FILE)
TRAINING_SKIPPED = "train.py was not written: "


class CodePanel(QWidget):
    """Shows the code the graph becomes, regenerated after every analysis. While the graph cannot become
    code, a calm banner says why and the last good code stays, dimmed. Work is skipped while the panel is
    hidden and done when it is shown."""

    export_requested = Signal()  # the person pressed Export…: the window opens the export dialog

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.document = controller.document
        self._last_good: dict[str, str] = {}
        self._problem = ""
        self._stale = True

        self.file_choice = QComboBox()
        self.file_choice.addItems(FILES)
        self.file_choice.setToolTip("model.py: the network as an nn.Module\ntrain.py: a script that trains it")
        self.file_choice.currentIndexChanged.connect(self._on_file_chosen)
        self.note = QLabel()
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the code shown to the clipboard")
        self.copy_button.clicked.connect(self.copy_code)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write model.py, train.py and requirements.txt to a folder")
        self.export_button.clicked.connect(self.export_requested.emit)

        header = QHBoxLayout()
        header.setContentsMargins(6, 4, 6, 2)
        header.setSpacing(6)
        header.addWidget(self.file_choice)
        header.addWidget(self.note, 1)
        header.addWidget(self.copy_button)
        header.addWidget(self.export_button)

        self.banner = Banner()
        self.banner_icon, self.banner_text = self.banner.icon, self.banner.text

        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setUndoRedoEnabled(False)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.editor.setFont(code_font())
        self.highlighter = PythonHighlighter(self.editor.document(), self.palette())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.editor, 1)

        self._apply_palette()
        self.document.analysis_changed.connect(self._on_analysis_changed)
        self.document.path_changed.connect(self._on_saved)

    # ---- what the window reads --------------------------------------------------------------------------

    @property
    def current_file(self) -> str:
        return self.file_choice.currentText()

    def set_current_file(self, name: str) -> None:
        self.file_choice.setCurrentIndex(FILES.index(name))

    def code_text(self) -> str:
        """The code shown (brought up to date first if the panel was hidden)."""
        if self._stale:
            self.regenerate()
        return self.editor.toPlainText()

    @property
    def problem(self) -> str:
        """Why the code shown is not current ('' when it is)."""
        return self._problem

    # ---- actions ----------------------------------------------------------------------------------------

    def copy_code(self) -> None:
        text = self.code_text()
        if not text:
            self.controller.message.emit(f"There is no {self.current_file} to copy yet")
            return
        QApplication.clipboard().setText(text)
        lines = text.count("\n")
        stale = " (out of date: see the note above it)" if self._problem else ""
        self.controller.message.emit(f"Copied {self.current_file} to the clipboard, {lines} lines{stale}")

    def regenerate(self, analysis: Analysis | None = None) -> None:
        """Generate the chosen file from the current graph now."""
        analysis = analysis if analysis is not None else self.document.analysis
        self._stale = False
        name = self.current_file
        try:
            text, problem = self._generate(name, analysis)
        except CodegenError as err:
            text, problem = None, str(err)
        if text is not None:
            self._last_good[name] = text
        self._show(self._last_good.get(name, ""), problem)

    # ---- inside -----------------------------------------------------------------------------------------

    def _generate(self, name: str, analysis: Analysis) -> tuple[str | None, str]:
        # the files File > Export and the CLI write (a project named "Image" gets class ImageModel there, and here)
        package = package_project(self.document.project, analysis=analysis)
        if name == MODEL_FILE:
            return package.files[MODEL_FILE], ""
        if TRAIN_FILE in package.files:
            return package.files[TRAIN_FILE], ""
        return None, package.training_skipped.removeprefix(TRAINING_SKIPPED)

    def _show(self, text: str, problem: str) -> None:
        self._problem = problem
        if problem:
            what = "The code below is out of date" if text else f"No {self.current_file} yet"
            self.banner_text.setText(f"{what}: {sentence(problem, capital=False)}")
            self.banner.show()
        else:
            self.banner.hide()
        self.note.setText("" if problem else "Updates as you edit")
        self.copy_button.setEnabled(bool(text))
        self.highlighter.set_dimmed(bool(problem))
        if text != self.editor.toPlainText():
            vertical, horizontal = self.editor.verticalScrollBar(), self.editor.horizontalScrollBar()
            kept = vertical.value(), horizontal.value()
            self.editor.setPlainText(text)
            vertical.setValue(kept[0])
            horizontal.setValue(kept[1])

    def _on_file_chosen(self, _index: int) -> None:
        self.regenerate()

    def _on_analysis_changed(self, analysis: Analysis) -> None:
        if self.isVisible():
            self.regenerate(analysis)
        else:
            self._stale = True

    def _on_saved(self, _path: object) -> None:
        # model.py names its file in the docstring and the project in its class, and a first save names both
        self._on_analysis_changed(self.document.analysis)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.regenerate()

    def _apply_palette(self) -> None:
        palette = self.palette()
        muted = QPalette(palette)
        muted.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText))
        self.note.setPalette(muted)
        self.highlighter.set_palette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
