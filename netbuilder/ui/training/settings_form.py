"""The Training panel's settings form: one field per declared training setting (netbuilder.project.settings),
its label, tooltip, range, "off" and percentage all read from the declaration, two settings to a row.

The form only shows values and reports edits (`edited`); the panel decides whether they become an undoable
change. The device list says which CUDA GPU torch found, once it has been asked. A setting that changes nothing
for the network, the machine and the other settings (its declaration's `no_effect`: precision on the CPU, sync
batch norm without batch norm or in one process) stays in its place, greyed out, and its tooltip says why, as
the inspector greys out a block's parameter that does not apply.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QGridLayout, QLabel, QWidget

from netbuilder.project import TrainingSettings
from netbuilder.project.settings import CHOICE, INTEGER, SETTINGS, RunContext, SettingSpec
from netbuilder.ui.widgets.inputs import ComboBox, DoubleSpinBox, SpinBox

UNBOUNDED = 1_000_000  # a field's top when its setting has none
MAX_FIELD_INTEGER = 2**31 - 1  # a QSpinBox holds a C int
FIELD_WIDTH = 110


class SettingsForm(QWidget):
    """The fields of the training settings, in declaration order; `fields` maps a setting's name to its field."""

    edited = Signal(str, object)  # (setting name, the value entered, in the setting's own unit)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}
        self.context = RunContext()  # the network the settings train and the GPUs here: what they change
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        for index, spec in enumerate(SETTINGS):
            field = self._make_field(spec)
            field.setMaximumWidth(FIELD_WIDTH)
            field.setToolTip(spec.help)
            label = QLabel(spec.label)
            label.setBuddy(field)
            label.setToolTip(spec.help)
            row, column = divmod(index, 2)
            grid.addWidget(label, row, column * 2)
            grid.addWidget(field, row, column * 2 + 1)
            self.fields[spec.name] = field
            self.labels[spec.name] = label
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

    def show_settings(self, settings: TrainingSettings) -> None:
        """Show these values, without reporting them as edits, and grey out each setting that changes nothing
        for a run of them in `context`, its tooltip saying why (as the inspector greys out a parameter)."""
        for spec in SETTINGS:
            field = self.fields[spec.name]
            value = getattr(settings, spec.name)
            with QSignalBlocker(field):
                if isinstance(field, QComboBox):
                    field.setCurrentIndex(max(0, field.findData(value)))
                else:
                    field.setValue(value * 100 if spec.percent else value)
            why = spec.why_no_effect(settings, self.context)
            for widget in (self.labels[spec.name], field):
                widget.setEnabled(not why)
                widget.setToolTip(f"No effect: {why}.\n{spec.help}" if why else spec.help)

    def fill_devices(self, cuda_names: list[str] | None, settings: TrainingSettings) -> None:
        """auto, cpu, and cuda: <GPU name> only where torch found one (`cuda_names` None: not asked yet)."""
        self.context = replace(self.context, gpus=None if cuda_names is None else len(cuda_names))
        combo: QComboBox = self.fields["device"]
        with QSignalBlocker(combo):
            combo.clear()
            combo.addItem("auto", "auto")
            combo.addItem("cpu", "cpu")
            if cuda_names:
                combo.addItem(f"cuda: {cuda_names[0]}", "cuda")
            elif settings.device == "cuda":  # keep what the file says, and say why
                combo.addItem("cuda" if cuda_names is None else "cuda (no GPU here)", "cuda")
        self.show_settings(settings)

    def _make_field(self, spec: SettingSpec) -> QWidget:
        name = spec.name
        if spec.kind == CHOICE:
            combo = ComboBox()
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(5)
            if name != "device":  # the devices are listed by fill_devices, as torch finds them
                for value in spec.choices:
                    combo.addItem(value, value)
            combo.currentIndexChanged.connect(lambda _i: self.edited.emit(name, combo.currentData()))
            return combo
        low = spec.low if spec.low is not None else 0
        high = spec.high if spec.high is not None else UNBOUNDED
        if spec.kind == INTEGER:
            field: QAbstractSpinBox = SpinBox(int(low), int(min(high, MAX_FIELD_INTEGER)))
        elif spec.percent:
            field = DoubleSpinBox(low * 100, high * 100, 0, spec.step * 100)
            field.setSuffix(" %")
        else:
            field = DoubleSpinBox(low, high, 2, spec.step)
        if spec.off_at_zero:
            field.setSpecialValueText("off")
        field.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        field.valueChanged.connect(lambda value: self.edited.emit(name, _stored(spec, value)))
        return field


def _stored(spec: SettingSpec, value: Any) -> Any:
    """A field's value in the setting's own unit (a percentage back to a fraction)."""
    return round(value / 100, 4) if spec.percent else value
