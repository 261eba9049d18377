"""The inspector's fields: one small class per parameter kind, each tying one node parameter to one widget.

As napari's layer controls do, a field shows the model's value (`set_value`, never emitting), reports what
the person entered (`edited`), and shows the refusal beneath itself when the graph says no (`refuse`). What
every kind shares (the pin or set toggle of an optional parameter, "auto (64)", greying out by `when`, the
tooltip) is `ParamField`; each kind says which widget it uses, how a value is written in it, and where a
freshly pinned value starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QHBoxLayout,
    QLineEdit,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from netbuilder.blocks.errors import ParamError
from netbuilder.blocks.spec import ParamSpec
from netbuilder.ui.panels.tone_label import ToneLabel
from netbuilder.ui.widgets.inputs import ComboBox, SpinBox

UNBOUNDED = 2**31 - 1


def _words(values: Sequence[Any]) -> str:
    shown = ["on" if v is True else "off" if v is False else str(v) for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def when_text(spec: ParamSpec) -> str:
    """Why a parameter is greyed out: 'Applies only when dataset is spirals, moons or circles.'"""
    if spec.when is None:
        return ""
    other, values = spec.when
    return f"Applies only when {other} is {_words(values)}."


class ParamField(QWidget):
    """The editor of one parameter, built from its ParamSpec, with its refusal shown beneath it.

    An optional parameter has a toggle: "pin" for an inferred size (off: "auto (64)") or "set" for one whose
    None means `none_label` ("same as kernel_size"). `edited` carries what the person entered; the panel
    commits it and calls `refuse` when the graph says no. Subclasses make the editor (`_make_editor`), write a
    value into it (`_write`), say a value in words (`text_of`) and choose where a pinned value starts when
    nothing is resolved (`_first_value`).
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

    # -- what each kind says

    def _make_editor(self) -> QWidget:
        raise NotImplementedError

    def _write(self, value: Any) -> None:
        """Show `value` in the editor (its signals blocked by the caller)."""
        raise NotImplementedError

    def text_of(self, value: Any) -> str:
        """A value as the form writes it; '?' when unknown."""
        return "?" if value is None else str(value)

    def _first_value(self) -> Any:
        """Where a pinned or set field starts when analysis resolved nothing: the smallest sensible value."""
        raise NotImplementedError

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
            with QSignalBlocker(self.editor):
                self._write(value)

    def set_hint(self, hint: Any) -> None:
        """What auto resolves to now (from the analysis); shown as "auto (64)" and used as the pin's start."""
        self.hint = hint
        self._show_auto()

    def _show_auto(self) -> None:
        if self.auto_label is None:
            return
        if self.spec.inferred:
            self.auto_label.setText(f"auto ({self.text_of(self.hint)})")
        else:
            self.auto_label.setText(self.spec.none_label)

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

    def _on_toggled(self, checked: bool) -> None:
        self._enter(self.start_value() if checked else None)

    def start_value(self) -> Any:
        """What a pinned or set field starts at: the resolved value, else the smallest sensible one."""
        return self.hint if self.hint is not None else self._first_value()

    def _lowest(self) -> float:
        """The smallest value at or above zero that the range allows."""
        low = self.spec.min if self.spec.min is not None else 0
        high = self.spec.max if self.spec.max is not None else UNBOUNDED
        return min(max(0, low), high)


class _RangeSpinBox(SpinBox):
    """A spin box whose typing is not held to the parameter's range, so that a value out of it reaches the
    graph and is refused with the reason in place (Qt's own range would turn "10" into "1" as it is typed,
    then revert it without a word); the arrows still stop at the range's ends."""

    def __init__(self, low: int, high: int) -> None:
        super().__init__(-UNBOUNDED, UNBOUNDED)
        self.low, self.high = low, high

    def stepBy(self, steps: int) -> None:
        target = min(max(self.value() + steps * self.singleStep(), self.low), self.high)
        if target != self.value():
            self.setValue(target)

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        """Grey out an arrow at its end of the range, as Qt's own range would."""
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.value() < self.high:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if self.value() > self.low:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags


class IntField(ParamField):
    """A whole number: a spin box."""

    def _make_editor(self) -> QWidget:
        spec = self.spec
        spin = _RangeSpinBox(
            int(spec.min) if spec.min is not None else -UNBOUNDED,
            int(spec.max) if spec.max is not None else UNBOUNDED,
        )
        spin.valueChanged.connect(self._enter)
        return spin

    def _write(self, value: Any) -> None:
        self.editor.setValue(int(value))

    def _first_value(self) -> Any:
        return int(self._lowest())


class BoolField(ParamField):
    """On or off: a check box."""

    def _make_editor(self) -> QWidget:
        box = QCheckBox()
        box.toggled.connect(self._enter)
        return box

    def _write(self, value: Any) -> None:
        self.editor.setChecked(bool(value))

    def text_of(self, value: Any) -> str:
        return "?" if value is None else "on" if value else "off"

    def _first_value(self) -> Any:
        return False


class ChoiceField(ParamField):
    """One of a list: a drop-down."""

    def _make_editor(self) -> QWidget:
        combo = ComboBox()
        combo.addItems(list(self.spec.choices))
        combo.activated.connect(lambda index: self._enter(self.spec.choices[index]))
        return combo

    def _write(self, value: Any) -> None:
        self.editor.setCurrentIndex(self.spec.choices.index(value))

    def _first_value(self) -> Any:
        return self.spec.choices[0]


class _TypedField(ParamField):
    """A value typed as it is written (1e-5, "16, 4, 4", a path): a line edit, read when editing finishes."""

    PLACEHOLDER = ""

    def _make_editor(self) -> QWidget:
        edit = QLineEdit()
        edit.setPlaceholderText(self.PLACEHOLDER)
        edit.editingFinished.connect(self._on_text_finished)
        edit.textEdited.connect(lambda _text: self.clear_error())
        return edit

    def parse(self, text: str) -> Any:
        """The value a person typed, validated; ParamError says what was expected."""
        raise NotImplementedError

    def _write(self, value: Any) -> None:
        editor = self.editor
        if editor.hasFocus() and editor.isModified():
            return  # the person is typing here: their text stays until they commit
        editor.setText(self.text_of(value))
        editor.setModified(False)

    def _on_text_finished(self) -> None:
        editor = self.editor
        if self.toggle is not None and not self.toggle.isChecked():
            return
        text = editor.text()
        editor.setModified(False)
        try:
            value = self.parse(text)
        except ParamError as err:
            if text.strip() == self.text_of(self.value):
                return
            self.refuse(str(err))
            return
        if value == self.value:
            editor.setText(self.text_of(value))  # tidy what was typed: "0.0010" -> "0.001"
            return
        self._enter(value)

    def _expected(self, text: str) -> ParamError:
        return ParamError(f"expected {self.spec.expected()}, got {text!r}")


class FloatField(_TypedField):
    """A number, typed (1e-5 reads better than a spin box's 0.00001)."""

    PLACEHOLDER = "e.g. 1e-5"

    def parse(self, text: str) -> Any:
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            raise self._expected(stripped) from None
        return self.spec.validate(value)

    def text_of(self, value: Any) -> str:
        # the shortest text that reads back as the same number: 0.001, 1e-05
        return "?" if value is None else repr(float(value))

    def _first_value(self) -> Any:
        return float(self._lowest())


def _typed_ints(text: str, expected: Callable[[str], ParamError]) -> tuple[int, ...]:
    """Whole numbers as a person types them: "16, 4, 4", "(1, 7)", "3" (brackets, spaces, semicolons
    forgiven); `expected` makes the refusal of anything else."""
    stripped = text.strip()
    parts = [p for p in re.split(r"[\s,;]+", stripped.strip("()[]")) if p]
    try:
        if not parts:
            raise ValueError
        return tuple(int(p) for p in parts)
    except ValueError:
        raise expected(stripped) from None


class IntsField(_TypedField):
    """A few whole numbers, typed as "16, 4, 4" (brackets, spaces and semicolons are forgiven)."""

    PLACEHOLDER = "e.g. 16, 4, 4"

    def parse(self, text: str) -> Any:
        return self.spec.validate(_typed_ints(text, self._expected))

    def text_of(self, value: Any) -> str:
        return "?" if value is None else ", ".join(str(v) for v in value)

    def _first_value(self) -> Any:
        count = self.spec.lengths[0] if self.spec.lengths else 1
        return (int(self._lowest()),) * count


_DIMENSION_NAMES = {1: "", 2: "height, width", 3: "depth, height, width"}


class PerDimField(_TypedField):
    """One whole number for every spatial dimension or one per dimension, typed as "3" or "1, 7", or one of
    the parameter's words ("same")."""

    def _make_editor(self) -> QWidget:
        edit = super()._make_editor()
        dims = self.spec.lengths[0]
        examples = ["3", ", ".join(["1"] * (dims - 1) + ["7"]) if dims > 1 else "", *self.spec.choices]
        edit.setPlaceholderText("e.g. " + " or ".join(e for e in examples if e))
        return edit

    def parse(self, text: str) -> Any:
        word = text.strip().strip("'\"")
        if word in self.spec.choices:
            return self.spec.validate(word)
        return self.spec.validate(_typed_ints(text, self._expected))

    def text_of(self, value: Any) -> str:
        if isinstance(value, tuple):
            return ", ".join(str(v) for v in value)
        return super().text_of(value)

    def _first_value(self) -> Any:
        return int(self._lowest())

    def tooltip(self, relevant: bool = True) -> str:
        # The forms as the person types them, naming the dimensions the spec's words only count.
        names = _DIMENSION_NAMES[self.spec.lengths[0]]
        text = "Type one number" + (f", or {names}" if names else "")
        if self.spec.choices:
            text += ("; or " if names else ", or ") + " or ".join(self.spec.choices)
        return f"{super().tooltip(relevant)}\n{text}."


class TextField(_TypedField):
    """One line of text (a path, a column name)."""

    def parse(self, text: str) -> Any:
        return self.spec.validate(text.strip())

    def _first_value(self) -> Any:
        return ""


FIELDS: dict[str, type[ParamField]] = {
    "int": IntField,
    "float": FloatField,
    "ints": IntsField,
    "int_per_dim": PerDimField,
    "bool": BoolField,
    "choice": ChoiceField,
    "text": TextField,
}
"""The field class for each ParamSpec kind."""


def field_for(spec: ParamSpec) -> ParamField:
    """The field that edits a parameter of `spec`'s kind."""
    return FIELDS[spec.kind](spec)
