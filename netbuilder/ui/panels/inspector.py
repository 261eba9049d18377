"""The inspector: the panel that edits the selected node.

The form is generated from the block's ParamSpecs (no per-block code): each kind of parameter has its field
class (netbuilder.ui.panels.param_fields), inferred sizes show "auto (64)" with a pin, parameters whose `when`
does not hold are greyed out. Edits go through the EditorController; a refusal is shown under the field and
the field reverts to the model value. The panel listens to the graph and the analysis and updates values in
place, rebuilding the form only when another node is shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from netbuilder.analysis import Analysis
from netbuilder.analysis.diagnostics import Diagnostic
from netbuilder.blocks.spec import MODEL, BlockSpec, ParamSpec
from netbuilder.blocks.tensor_type import FLOAT, TensorType
from netbuilder.graph.events import (
    DefinitionEdited,
    DefinitionExposed,
    DefinitionPortsChanged,
    DefinitionRenamed,
    DefinitionUnexposed,
    GraphEvent,
    NodeRemoved,
    NodeRenamed,
    ParamChanged,
)
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.icons import category_icon, icon_colour, palette_is_dark
from netbuilder.ui.panels.dataset_preview import DatasetPreview
from netbuilder.ui.panels.node_problems import NodeProblems
from netbuilder.ui.panels.param_fields import ParamField, field_for
from netbuilder.ui.panels.tone_label import ToneLabel

EMPTY_TEXT = "Select a node to edit it"
EXPOSE_MARK = "↑"  # lifts an inner parameter up to its block
EXPOSE_BUTTON_WIDTH = 24
ICON_SIZE = 28


def type_text(t: TensorType) -> str:
    """(N, 64); integer tensors and class counts said in words: (N,) int64, 10 classes."""
    text = str(t) if t.rank else "() a scalar"
    if t.dtype != FLOAT:
        text += f" {t.dtype}"
    if t.classes is not None:  # a target (N,) has classes; token indices (N, L) a vocabulary
        text += f", {t.classes} classes" if t.rank == 1 else f", indices below {t.classes:,}"
    return text


class InspectorPanel(QWidget):
    """Edits one node: header (type, category, doc, label), a form of its parameters, its output shapes,
    parameter count and problems; for an instance of a block of the project, its exposed parameters, a line
    naming its block with Open, and its block's inputs and outputs, each name editable. It shows the nodes of the
    graph the controller edits (a block's inside once it is opened). The window calls `show_selection` (or
    `show_node`) when the selection changes and `focus_label` when a node is double-clicked."""

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.document = controller.document
        self.graph = controller.graph
        self.node_id: str | None = None
        self.fields: dict[str, ParamField] = {}
        self.expose_buttons: dict[str, QToolButton] = {}  # inside an opened block: param -> its Expose toggle
        # an instance's block's inputs and outputs, ("in" | "out", name) -> its name's field, and its refusal
        self.port_name_edits: dict[tuple[str, str], QLineEdit] = {}
        self.port_name_errors: dict[tuple[str, str], ToneLabel] = {}
        self.preview: DatasetPreview | None = None  # the Dataset node's data preview, when one is shown
        self.row_labels: dict[str, QLabel] = {}
        self.output_labels: dict[str, ToneLabel] = {}
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

        # the top graph tells every edit inside a block as DefinitionEdited, so one subscription hears all levels
        unsubscribe = controller.top.subscribe(self._on_graph_event)
        controller.level_changed.connect(self._level_changed)
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
        self.expose_buttons.clear()
        self.port_name_edits.clear()
        self.port_name_errors.clear()
        self.row_labels.clear()
        self.output_labels.clear()
        if self._content is not None:
            self.scroll.takeWidget()
            self._content.deleteLater()
            self._content = None

    def _build(self, node_id: str) -> None:
        self._clear_form()
        node = self.graph.nodes[node_id]
        spec = self.graph.spec(node_id)
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
        definition = self.graph.definition_of(node_id)
        if definition is not None:
            form.addRow("Block", self._block_box(node_id, definition.name, len(definition.graph.nodes)))
            for side, title, ports in (("in", "Inputs", definition.inlets), ("out", "Outputs", definition.outlets)):
                if ports:
                    form.addRow(title, self._port_names_box(definition.name, side, [p.name for p in ports]))

        form.addRow(self._section("Parameters"))
        if self.graph.owner is not None and spec.params:
            form.addRow(
                ToneLabel(f"{EXPOSE_MARK} makes a parameter one of {self.graph.owner}'s, which each instance sets")
            )
        for param in spec.params:
            field = field_for(param)
            field.edited.connect(lambda value, field=field: self._commit_param(node_id, field, value))
            row_label = QLabel(param.name)
            row_label.setToolTip(field.tooltip())
            row_label.setBuddy(field.editor)
            self.fields[param.name] = field
            self.row_labels[param.name] = row_label
            inside = self.graph.owner is not None and param.name != spec.variadic
            form.addRow(row_label, self._with_expose_button(node_id, param.name, field) if inside else field)
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
        self.problems = NodeProblems(self.controller)
        form.addRow(self.problems)
        if node.block == "Dataset":
            form.addRow(self._section("Data"))
            self.preview = DatasetPreview(lambda: self.document.project.training)
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

    def _block_box(self, node_id: str, name: str, count: int) -> QWidget:
        """An instance's block: its name, to rename (every instance follows), and Open to show its inside."""
        self.block_name_edit = QLineEdit(name)
        self.block_name_edit.setToolTip(
            f"The name of this block of the project, made of {count} block{'s' if count != 1 else ''}: renaming it "
            "renames it for every instance, and its class in the code"
        )
        self.block_name_error = ToneLabel(tone="error")
        self.block_name_error.hide()
        self.block_name_edit.editingFinished.connect(lambda: self._commit_block_name(name))
        self.block_name_edit.textEdited.connect(lambda _text: self.block_name_error.hide())
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip(f"Show the inside of {name} on the canvas (edits change every instance)")
        self.open_button.clicked.connect(lambda _=False: self.controller.open_instance(node_id))
        line = QHBoxLayout()
        line.setSpacing(4)
        line.addWidget(self.block_name_edit, 1)
        line.addWidget(self.open_button)
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(line)
        column.addWidget(self.block_name_error)
        return box

    def _commit_block_name(self, name: str) -> None:
        text = self.block_name_edit.text()
        self.block_name_edit.setModified(False)
        if text == name or name not in self.graph.definitions:
            return
        reason = self.controller.attempt(lambda: self.controller.rename_block(name, text))
        if reason is not None:
            self.block_name_error.setText(reason)
            self.block_name_error.show()
            self.block_name_edit.setText(name)

    def _port_names_box(self, block: str, side: str, names: list[str]) -> QWidget:
        """The inputs (side "in") or outputs of an instance's block, each name a field: renaming one renames it
        for every instance, whose connections stay."""
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        for name in names:
            edit = QLineEdit(name)
            edit.setToolTip(
                f"{'Input' if side == 'in' else 'Output'} {name} of {block}: renaming it renames it on every "
                "instance, whose connections stay"
            )
            error = ToneLabel(tone="error")
            error.hide()
            edit.editingFinished.connect(
                lambda edit=edit, error=error, name=name: self._commit_port_name(block, side, name, edit, error)
            )
            edit.textEdited.connect(lambda _text, error=error: error.hide())
            self.port_name_edits[side, name] = edit
            self.port_name_errors[side, name] = error
            column.addWidget(edit)
            column.addWidget(error)
        return box

    def _commit_port_name(self, block: str, side: str, old: str, edit: QLineEdit, error: ToneLabel) -> None:
        text = edit.text()
        edit.setModified(False)
        definition = self.graph.definitions.get(block)
        if definition is None or text == old:
            return
        if old not in [p.name for p in (definition.inlets if side == "in" else definition.outlets)]:
            return  # renamed already: a field of the form shown before it was built again
        reason = self.controller.attempt(lambda: self.controller.rename_port(block, old, text))
        if reason is not None:
            error.setText(reason)
            error.show()
            edit.setText(old)

    def _with_expose_button(self, node_id: str, param: str, field: ParamField) -> QWidget:
        """Inside an opened block: the field, and a toggle that makes the parameter one of the block's (each
        instance then sets its own value, this one its default) or inner again."""
        owner = self.graph.owner
        definition = self.graph.definitions[owner]
        exposed = next((e.name for e in definition.exposed if (node_id, param) in e.targets), None)
        button = QToolButton()
        button.setText(EXPOSE_MARK)
        button.setFixedWidth(EXPOSE_BUTTON_WIDTH)  # the inspector is narrow: a mark, its tooltip says the rest
        button.setAutoRaise(True)
        button.setCheckable(True)
        button.setChecked(exposed is not None)
        button.setToolTip(
            f"Expose {param} as a parameter of {owner}: each instance sets its own value, this one the default"
            if exposed is None
            else f"This is {owner}'s parameter {exposed} (each instance sets its own; this is its default). "
            "Click to make it inner again"
        )
        button.clicked.connect(lambda checked: self._toggle_exposed(button, node_id, param, exposed, checked))
        self.expose_buttons[param] = button
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.setSpacing(4)
        line.addWidget(field, 1)
        line.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        return row

    def _toggle_exposed(self, button: QToolButton, node_id: str, param: str, exposed: str | None, on: bool) -> None:
        done = self.controller.expose_parameter(node_id, param) if on else self.controller.unexpose_parameter(exposed)
        if not done:  # refused (the status bar says why): the toggle shows what is so
            button.setChecked(not on)

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
        result = self.controller.level_results(analysis).get(self.node_id)
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
        if result is None:
            diagnostics = []
        elif self.controller.path:  # inside a block: the opened instance's own check of this node
            diagnostics = list(result.diagnostics)
        else:
            diagnostics = list(analysis.for_node(self.node_id))
        self._show_diagnostics(diagnostics)

    @staticmethod
    def _none_label_value(spec: ParamSpec, params: dict[str, Any]) -> Any:
        """For "same as kernel_size": the value it stands for, so "set" starts where None was."""
        match = re.fullmatch(r"same as (\w+)", spec.none_label)
        return params.get(match.group(1)) if match else None

    def _show_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        if self.problems.show_diagnostics(diagnostics):
            self.problems_title.setText(f"Problems ({len(diagnostics)})" if diagnostics else "Problems")
            self._apply_tones()

    # ---- committing edits

    # Commits name the node and widgets they were built for: a field that loses focus because another node
    # is being shown still commits what was typed to its own node.

    def _commit_param(self, node_id: str, field: ParamField, value: Any) -> None:
        if node_id not in self.graph.nodes:
            return
        name = field.spec.name
        reason = self.controller.attempt(lambda: self.controller.set_param(node_id, name, value))
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
        reason = self.controller.attempt(lambda: self.controller.rename(node_id, text))
        if reason is not None:
            error.setText(reason)
            error.show()
            edit.setText(node.label)
        else:
            error.clear()
            error.hide()

    # ---- listening

    def _level_changed(self) -> None:
        """Another graph is edited (a block opened or closed): its nodes are shown from now on."""
        self.graph = self.controller.graph
        self.show_node(None)

    def _on_graph_event(self, event: GraphEvent) -> None:
        if isinstance(event, DefinitionExposed | DefinitionUnexposed | DefinitionPortsChanged | DefinitionRenamed):
            if self.node_id is not None and self.node_id in self.graph.nodes:
                self._build(self.node_id)  # an instance's parameters, or which inner ones are exposed, changed
            return
        if isinstance(event, DefinitionEdited):
            if event.name != self.graph.owner:
                return
            event = event.event
        elif self.graph.owner is not None:
            return  # an edit of the top graph, while a block's inside is shown
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
