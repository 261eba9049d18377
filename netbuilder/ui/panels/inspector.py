"""The inspector: the panel that edits the selected node.

The form is generated from the block's ParamSpecs (no per-block code): each kind of parameter has one editor,
inferred sizes show "auto (64)" with a pin, parameters whose `when` does not hold are greyed out. Edits go
through the EditorController; a refusal is shown under the field and the field reverts to the model value.
The panel listens to the graph and the analysis and updates values in place, rebuilding the form only when
another node is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from netbuilder.analysis import Analysis
from netbuilder.analysis.diagnostics import Diagnostic
from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import ParamError
from netbuilder.blocks.spec import MODEL, BlockSpec, ParamSpec
from netbuilder.blocks.tensor_type import FLOAT, TensorType
from netbuilder.graph.events import GraphEvent, NodeRemoved, NodeRenamed, ParamChanged
from netbuilder.ui.dataset_preview import DatasetPreview
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.icons import category_icon, icon_colour, palette_is_dark
from netbuilder.ui.theme import DARK, LIGHT
from netbuilder.ui.widgets.colors import mix
from netbuilder.ui.widgets.inputs import ComboBox, SpinBox

UNBOUNDED = 2**31 - 1
EMPTY_TEXT = "Select a node to edit it"
ICON_SIZE = 28


# ---- words and values ------------------------------------------------------------------------------------


def format_value(spec: ParamSpec, value: Any) -> str:
    """A parameter value as the form writes it: 64, 1e-05, 16, 4, 4; '?' when unknown."""
    if value is None:
        return "?"
    if spec.kind == "ints":
        return ", ".join(str(v) for v in value)
    if spec.kind == "float":
        return repr(float(value))  # the shortest text that reads back as the same number: 0.001, 1e-05
    if spec.kind == "bool":
        return "on" if value else "off"
    return str(value)


def parse_text(spec: ParamSpec, text: str) -> Any:
    """The value a person typed into a float, ints or text field, validated; ParamError says what was
    expected."""
    stripped = text.strip()
    if spec.kind == "text":
        return spec.validate(stripped)
    try:
        if spec.kind == "ints":
            parts = [p for p in re.split(r"[\s,;]+", stripped.strip("()[]")) if p]
            if not parts:
                raise ValueError
            value: Any = tuple(int(p) for p in parts)
        else:
            value = float(stripped)
    except ValueError:
        raise ParamError(f"expected {spec.expected()}, got {stripped!r}") from None
    return spec.validate(value)


def _words(values: Sequence[Any]) -> str:
    shown = ["on" if v is True else "off" if v is False else str(v) for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def when_text(spec: ParamSpec) -> str:
    """Why a parameter is greyed out: 'Applies only when dataset is spirals, moons or circles.'"""
    if spec.when is None:
        return ""
    other, values = spec.when
    return f"Applies only when {other} is {_words(values)}."


def type_text(t: TensorType) -> str:
    """(N, 64); integer tensors and class counts said in words: (N,) int64, 10 classes."""
    text = str(t) if t.rank else "() a scalar"
    if t.dtype != FLOAT:
        text += f" {t.dtype}"
    if t.classes is not None:
        text += f", {t.classes} classes"
    return text


def muted_colour(palette: QPalette) -> QColor:
    """Secondary text: the text colour a third of the way towards the background (readable in both themes)."""
    return mix(palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Window), 0.35)


def error_colour(palette: QPalette) -> QColor:
    """The theme's error red for the palette's background (light or dark)."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor((DARK if dark else LIGHT).error)


# ---- small widgets -----------------------------------------------------------------------------------------


class ToneLabel(QLabel):
    """A word-wrapped label in a secondary tone ("muted" or "error") taken from the palette it sits on."""

    def __init__(self, text: str = "", tone: str = "muted", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.tone = tone
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_tone(self, tone: str) -> None:
        """Switch between "normal", "muted" and "error"; the colour follows the parent's palette."""
        self.tone = tone
        parent = self.parentWidget()
        if parent is not None:
            self.apply_tone(parent.palette())

    def apply_tone(self, palette: QPalette) -> None:
        if self.tone == "normal":
            colour = palette.color(QPalette.ColorRole.WindowText)
        else:
            colour = error_colour(palette) if self.tone == "error" else muted_colour(palette)
        own = QPalette(self.palette())
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            own.setColor(group, QPalette.ColorRole.WindowText, colour)  # disabled keeps the palette's grey
        self.setPalette(own)


class ParamField(QWidget):
    """The editor of one parameter, built from its ParamSpec, with its refusal shown beneath it.

    An optional parameter has a toggle: "pin" for an inferred size (off: "auto (64)") or "set" for one whose
    None means `none_label` ("same as kernel_size"). `edited` carries what the person entered; the panel
    commits it and calls `refuse` when the graph says no.
    """

    edited = Signal(object)  # the value entered, validated by the ParamSpec; None = back to auto / none_label

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.value: Any = None
        self.hint: Any = None  # the value analysis resolved (what auto means now), or None if unknown
        self.error = ToneLabel(tone="error")
        self.error.hide()
        self.editor = self._make_editor()
        self.editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.auto_label: ToneLabel | None = None
        self.toggle: QCheckBox | None = None
        if spec.optional:
            self.auto_label = ToneLabel(spec.none_label)
            self.auto_label.setWordWrap(False)
            self.stack = QStackedWidget()
            self.stack.addWidget(self.auto_label)
            self.stack.addWidget(self.editor)
            self.stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            # a check box rather than a toggle button: its state reads at a glance in every style
            self.toggle = QCheckBox("pin" if spec.inferred else "set")
            self.toggle.setToolTip(
                f"Pin {spec.name} to a value; unpinned it follows the incoming tensor."
                if spec.inferred
                else f"Set {spec.name} to a value; unset it is {spec.none_label}."
            )
            self.toggle.toggled.connect(self._on_toggled)
            row.addWidget(self.stack, 1)
            row.addWidget(self.toggle)
        else:
            row.addWidget(self.editor, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.set_relevant(True)

    # -- building

    def _make_editor(self) -> QWidget:
        spec = self.spec
        if spec.kind == "int":
            spin = SpinBox()
            spin.setRange(
                int(spec.min) if spec.min is not None else -UNBOUNDED,
                int(spec.max) if spec.max is not None else UNBOUNDED,
            )
            spin.valueChanged.connect(self._enter)
            return spin
        if spec.kind == "bool":
            box = QCheckBox()
            box.toggled.connect(self._enter)
            return box
        if spec.kind == "choice":
            combo = ComboBox()
            combo.addItems(list(spec.choices))
            combo.activated.connect(lambda index: self._enter(spec.choices[index]))
            return combo
        # float, ints and text: a line edit, so 1e-5, "16, 4, 4" or a path can be typed as they are written
        edit = QLineEdit()
        edit.setPlaceholderText({"float": "e.g. 1e-5", "ints": "e.g. 16, 4, 4"}.get(spec.kind, ""))
        edit.editingFinished.connect(self._on_text_finished)
        edit.textEdited.connect(lambda _text: self.clear_error())
        return edit

    # -- showing the model

    def set_value(self, value: Any) -> None:
        """Show the model's value, without emitting `edited`."""
        self.value = value
        if self.toggle is not None:
            with QSignalBlocker(self.toggle):
                self.toggle.setChecked(value is not None)
            self.stack.setCurrentIndex(0 if value is None else 1)
            self._show_auto()
        if value is not None:
            self._write(value)

    def set_hint(self, hint: Any) -> None:
        """What auto resolves to now (from the analysis); shown as "auto (64)" and used as the pin's start."""
        self.hint = hint
        self._show_auto()

    def _show_auto(self) -> None:
        if self.auto_label is None:
            return
        if self.spec.inferred:
            self.auto_label.setText(f"auto ({format_value(self.spec, self.hint)})")
        else:
            self.auto_label.setText(self.spec.none_label)

    def _write(self, value: Any) -> None:
        editor = self.editor
        with QSignalBlocker(editor):
            if isinstance(editor, QSpinBox):
                editor.setValue(int(value))
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(self.spec.choices.index(value))
            elif isinstance(editor, QLineEdit):
                if editor.hasFocus() and editor.isModified():
                    return  # the person is typing here: their text stays until they commit
                editor.setText(format_value(self.spec, value))
                editor.setModified(False)

    def set_relevant(self, relevant: bool) -> None:
        """Grey the field out when its `when` does not hold, and say in the tooltip when it applies."""
        self.setEnabled(relevant)
        self.setToolTip(self.tooltip(relevant))
        self.editor.setToolTip(self.tooltip(relevant))

    def tooltip(self, relevant: bool = True) -> str:
        text = f"{self.spec.help}\nAccepts {self.spec.expected()}."
        if self.spec.optional:
            text += f" Unset: {'auto, following the input' if self.spec.inferred else self.spec.none_label}."
        return text if relevant else f"{when_text(self.spec)}\n{text}"

    # -- errors

    def refuse(self, reason: str) -> None:
        """Show why the graph refused the value just entered, and go back to the model's value."""
        self.error.setText(reason)
        self.error.show()
        self.set_value(self.value)

    def clear_error(self) -> None:
        self.error.clear()
        self.error.hide()

    @property
    def error_text(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""

    # -- what the person does

    def _enter(self, value: Any) -> None:
        if value == self.value and type(value) is type(self.value):
            return
        self.clear_error()
        self.edited.emit(value)

    def _on_text_finished(self) -> None:
        editor = self.editor
        assert isinstance(editor, QLineEdit)
        if self.toggle is not None and not self.toggle.isChecked():
            return
        text = editor.text()
        editor.setModified(False)
        try:
            value = parse_text(self.spec, text)
        except ParamError as err:
            if text.strip() == format_value(self.spec, self.value):
                return
            self.refuse(str(err))
            return
        if value == self.value:
            editor.setText(format_value(self.spec, value))  # tidy what was typed: "0.0010" -> "0.001"
            return
        self._enter(value)

    def _on_toggled(self, checked: bool) -> None:
        if not checked:
            self._enter(None)
            return
        self._enter(self.start_value())

    def start_value(self) -> Any:
        """What a pinned or set field starts at: the resolved value, else the smallest sensible one."""
        if self.hint is not None:
            return self.hint
        low = self.spec.min if self.spec.min is not None else 0
        high = self.spec.max if self.spec.max is not None else UNBOUNDED
        start = min(max(0, low), high)
        if self.spec.kind == "float":
            return float(start)
        if self.spec.kind == "ints":
            count = self.spec.lengths[0] if self.spec.lengths else 1
            return (int(start),) * count
        if self.spec.kind == "bool":
            return False
        if self.spec.kind == "choice":
            return self.spec.choices[0]
        return int(start)


# ---- the panel ----------------------------------------------------------------------------------------------


class InspectorPanel(QWidget):
    """Edits one node: header (type, category, doc, label), a form of its parameters, its output shapes,
    parameter count and problems. The window calls `show_selection` (or `show_node`) when the selection
    changes and `focus_label` when a node is double-clicked."""

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.document = controller.document
        self.graph = controller.graph
        self.node_id: str | None = None
        self.fields: dict[str, ParamField] = {}
        self.preview: DatasetPreview | None = None  # the Dataset node's data preview, when one is shown
        self.row_labels: dict[str, QLabel] = {}
        self.output_labels: dict[str, ToneLabel] = {}
        self._diagnostics_key: tuple | None = None
        self._content: QWidget | None = None

        self.empty_title = QLabel(EMPTY_TEXT)
        self.empty_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_title.setWordWrap(True)
        self.empty_detail = ToneLabel()
        self.empty_detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_title)
        empty_layout.addWidget(self.empty_detail)
        empty_layout.addStretch(2)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.pages = QStackedWidget()
        self.pages.addWidget(empty)
        self.pages.addWidget(self.scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        unsubscribe = self.graph.subscribe(self._on_graph_event)
        done: list[bool] = []

        def detach() -> None:
            if not done:
                done.append(True)
                unsubscribe()

        self._detach = detach
        # a closure without `self`: it runs while the C++ object is being destroyed
        self.destroyed.connect(lambda *_: detach())
        self.document.analysis_changed.connect(self._on_analysis)
        self._listening = True
        self.show_node(None)

    # ---- what the window calls

    def show_selection(self, node_ids: Sequence[str]) -> None:
        """Edit the one selected node, or show the empty state (with "3 nodes selected" for several)."""
        self.show_node(node_ids[0] if len(node_ids) == 1 else None, selected=len(node_ids))

    def show_node(self, node_id: str | None, *, selected: int = 0) -> None:
        """Edit `node_id`; None shows the empty state, saying how many nodes are `selected` when several."""
        if node_id is not None and node_id not in self.graph.nodes:
            node_id = None
        if node_id is None:
            self.node_id = None
            self._clear_form()
            self.empty_detail.setText(f"{selected} nodes selected" if selected > 1 else "")
            self.empty_detail.setVisible(selected > 1)
            self.pages.setCurrentIndex(0)
            return
        if node_id != self.node_id:
            self.node_id = node_id
            self._build(node_id)
        else:
            self._refresh_values()
            self._refresh_analysis(self.document.analysis)
        self.pages.setCurrentIndex(1)

    def focus_label(self) -> None:
        """Put the cursor in the label field, all selected (a double-click on a node means rename)."""
        if self.node_id is not None:
            self.label_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self.label_edit.selectAll()

    def detach(self) -> None:
        """Stop listening to the document (the panel is being closed or the document replaced)."""
        if self.preview is not None:
            self.preview.wait()
        self._detach()
        if self._listening:
            self._listening = False
            self.document.analysis_changed.disconnect(self._on_analysis)

    def closeEvent(self, event) -> None:
        self.detach()
        super().closeEvent(event)

    # ---- building the form for one node

    def _clear_form(self) -> None:
        if self.preview is not None:
            self.preview.wait()
            self.preview = None
        self.fields.clear()
        self.row_labels.clear()
        self.output_labels.clear()
        self._diagnostics_key = None
        if self._content is not None:
            self.scroll.takeWidget()
            self._content.deleteLater()
            self._content = None

    def _build(self, node_id: str) -> None:
        self._clear_form()
        node = self.graph.nodes[node_id]
        spec = catalogue.get(node.block)
        content = QWidget()
        content.setObjectName("inspectorContent")
        layout = QVBoxLayout(content)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(6)

        layout.addLayout(self._header(spec))
        self.doc_label = ToneLabel(spec.doc.strip().replace("\n", " ").replace("`", ""))
        layout.addWidget(self.doc_label)

        # one form for everything below, so labels and fields line up in two columns
        form = QFormLayout()
        form.setContentsMargins(0, 4, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(4)
        layout.addLayout(form)

        self.label_edit = QLineEdit(node.label)
        self.label_edit.setToolTip("The node's name: shown on the canvas and used for the layer in the code.")
        self.label_error = ToneLabel(tone="error")
        self.label_error.hide()
        self.label_edit.editingFinished.connect(
            lambda edit=self.label_edit, error=self.label_error: self._commit_label(node_id, edit, error)
        )
        self.label_edit.textEdited.connect(lambda _text, error=self.label_error: error.hide())
        label_box = QWidget()
        label_layout = QVBoxLayout(label_box)
        label_layout.setContentsMargins(0, 0, 0, 0)
        label_layout.setSpacing(2)
        label_layout.addWidget(self.label_edit)
        label_layout.addWidget(self.label_error)
        form.addRow("Label", label_box)

        form.addRow(self._section("Parameters"))
        for param in spec.params:
            field = ParamField(param)
            field.edited.connect(lambda value, field=field: self._commit_param(node_id, field, value))
            row_label = QLabel(param.name)
            row_label.setToolTip(field.tooltip())
            row_label.setBuddy(field.editor)
            self.fields[param.name] = field
            self.row_labels[param.name] = row_label
            form.addRow(row_label, field)
        if not spec.params:
            form.addRow(ToneLabel("This block has no parameters."))

        form.addRow(self._section("Output"))
        for port in spec.outputs:
            shape = ToneLabel(tone="normal")
            if port.doc:
                shape.setToolTip(port.doc)
            self.output_labels[port.name] = shape
            form.addRow(port.name if len(spec.outputs) > 1 else "shape", shape)
        self.params_count = QLabel()
        self.macs_count = QLabel()
        if spec.role == MODEL:
            self.params_count.setToolTip("Learnable parameters (weights and biases) of this layer.")
            self.macs_count.setToolTip("Multiply-accumulate operations per sample in the forward pass.")
            form.addRow("parameters", self.params_count)
            form.addRow("MACs", self.macs_count)
        elif not spec.outputs:
            form.addRow(ToneLabel("This block has no outputs."))

        self.problems_title = self._section("Problems")
        form.addRow(self.problems_title)
        problems = QWidget()
        self.problems_box = QVBoxLayout(problems)
        self.problems_box.setContentsMargins(0, 0, 0, 0)
        self.problems_box.setSpacing(8)
        form.addRow(problems)
        if node.block == "Dataset":
            form.addRow(self._section("Data"))
            self.preview = DatasetPreview()
            form.addRow(self.preview)
        layout.addStretch(1)

        self._content = content
        self.scroll.setWidget(content)
        self._refresh_values()
        self._refresh_analysis(self.document.analysis)
        self._apply_tones()

    def _header(self, spec: BlockSpec) -> QHBoxLayout:
        dark = palette_is_dark(self.palette())
        icon = QLabel()
        icon.setPixmap(category_icon(spec.category, dark).pixmap(QSize(ICON_SIZE, ICON_SIZE)))
        title = QLabel(spec.type)
        font = QFont(title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        title.setFont(font)
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # a long type name (TransformerEncoderLayer) must not make the panel wider than its dock
        title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        title.setToolTip(spec.type)
        self.category_label = QLabel(spec.category)
        self.category_label.setToolTip(f"Palette category: {spec.category}")
        self._category = spec.category
        words = QVBoxLayout()
        words.setSpacing(0)
        words.addWidget(title)
        words.addWidget(self.category_label)
        header = QHBoxLayout()
        header.setSpacing(8)
        header.addWidget(icon, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addLayout(words, 1)
        self._header_icon = icon
        return header

    def _section(self, text: str) -> QLabel:
        label = QLabel(text)
        font = QFont(label.font())
        font.setBold(True)
        label.setFont(font)
        label.setContentsMargins(0, 8, 0, 0)
        return label

    # ---- keeping values current

    def _refresh_values(self) -> None:
        node = self.graph.nodes[self.node_id]
        if not (self.label_edit.hasFocus() and self.label_edit.isModified()):
            self.label_edit.setText(node.label)
            self.label_edit.setModified(False)
        for name, field in self.fields.items():
            field.set_value(node.params[name])
        if self.preview is not None:
            self.preview.set_params(node.params)
        self._refresh_relevance()

    def _refresh_relevance(self) -> None:
        params = self.graph.nodes[self.node_id].params
        for name, field in self.fields.items():
            relevant = field.spec.relevant(params)
            field.set_relevant(relevant)
            self.row_labels[name].setEnabled(relevant)
            self.row_labels[name].setToolTip(field.tooltip(relevant))

    def _refresh_analysis(self, analysis: Analysis) -> None:
        result = analysis.results.get(self.node_id)
        node = self.graph.nodes[self.node_id]
        resolved = result.resolved if result is not None else {}
        for name, field in self.fields.items():
            hint = resolved.get(name)
            if hint is None and not field.spec.inferred:
                hint = self._none_label_value(field.spec, resolved or node.params)
            field.set_hint(hint)
        known = result is not None and bool(result.outputs)
        for port, label in self.output_labels.items():
            t = result.outputs.get(port) if result is not None else None
            label.setText(type_text(t) if t is not None else "unknown until the problems are fixed")
            label.set_tone("normal" if t is not None else "muted")
        self.params_count.setText(f"{result.params:,}" if known else "?")
        self.macs_count.setText(f"{result.macs:,} per sample" if known else "?")
        diagnostics = list(analysis.for_node(self.node_id)) if result is not None else []
        self._show_diagnostics(diagnostics)

    @staticmethod
    def _none_label_value(spec: ParamSpec, params: dict[str, Any]) -> Any:
        """For "same as kernel_size": the value it stands for, so "set" starts where None was."""
        match = re.fullmatch(r"same as (\w+)", spec.none_label)
        return params.get(match.group(1)) if match else None

    def _show_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        key = tuple(
            (d.severity, d.message, d.fix.describe(self.graph) if d.fix is not None else "") for d in diagnostics
        )
        if key == self._diagnostics_key:
            return
        self._diagnostics_key = key
        while self.problems_box.count():
            item = self.problems_box.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.problems_title.setText(f"Problems ({len(diagnostics)})" if diagnostics else "Problems")
        if not diagnostics:
            self.problems_box.addWidget(ToneLabel("None: this node checks out."))
        for diagnostic, (_, _, fix_text) in zip(diagnostics, key, strict=True):
            self.problems_box.addWidget(self._diagnostic_row(diagnostic, fix_text))
        self._apply_tones()

    def _diagnostic_row(self, diagnostic: Diagnostic, fix_text: str) -> QWidget:
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

    # ---- committing edits

    def _attempt(self, action: Callable[[], bool]) -> str | None:
        """Run a controller call: None when it went through, else the reason the controller gave."""
        said: list[str] = []

        def hear(text: str) -> None:
            said.append(text)

        self.controller.message.connect(hear)
        try:
            done = action()
        finally:
            self.controller.message.disconnect(hear)
        if done:
            return None
        return said[-1] if said else "the change was refused"

    # Commits name the node and widgets they were built for: a field that loses focus because another node
    # is being shown still commits what was typed to its own node.

    def _commit_param(self, node_id: str, field: ParamField, value: Any) -> None:
        if node_id not in self.graph.nodes:
            return
        name = field.spec.name
        reason = self._attempt(lambda: self.controller.set_param(node_id, name, value))
        if reason is not None:
            field.refuse(reason.removeprefix(f"{name}: "))
        else:
            field.set_value(self.graph.nodes[node_id].params[name])

    def _commit_label(self, node_id: str, edit: QLineEdit, error: QLabel) -> None:
        node = self.graph.nodes.get(node_id)
        if node is None:
            return
        text = edit.text()
        edit.setModified(False)
        if text == node.label:
            return
        reason = self._attempt(lambda: self.controller.rename(node_id, text))
        if reason is not None:
            error.setText(reason)
            error.show()
            edit.setText(node.label)
        else:
            error.clear()
            error.hide()

    # ---- listening

    def _on_graph_event(self, event: GraphEvent) -> None:
        if self.node_id is None:
            return
        if isinstance(event, ParamChanged) and event.node_id == self.node_id:
            field = self.fields.get(event.name)
            if field is not None:
                field.set_value(event.new)
            if self.preview is not None:
                self.preview.set_params(self.graph.nodes[self.node_id].params)
            self._refresh_relevance()
        elif isinstance(event, NodeRenamed) and event.node_id == self.node_id:
            if not (self.label_edit.hasFocus() and self.label_edit.isModified()):
                self.label_edit.setText(event.new)
                self.label_edit.setModified(False)
        elif isinstance(event, NodeRemoved) and event.node.id == self.node_id:
            self.show_node(None)

    def _on_analysis(self, analysis: Analysis) -> None:
        if self.node_id is not None and self.node_id in self.graph.nodes:
            self._refresh_analysis(analysis)

    # ---- colours that follow the palette

    def _apply_tones(self) -> None:
        palette = self.palette()
        for label in self.findChildren(ToneLabel):
            label.apply_tone(palette)
        if self._content is not None:
            dark = palette_is_dark(palette)
            own = QPalette(self.category_label.palette())
            own.setColor(QPalette.ColorRole.WindowText, icon_colour(self._category, dark))
            self.category_label.setPalette(own)
            self._header_icon.setPixmap(category_icon(self._category, dark).pixmap(QSize(ICON_SIZE, ICON_SIZE)))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_tones()
