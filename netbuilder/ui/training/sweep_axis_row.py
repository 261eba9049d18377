"""One row of the sweep dialog: what to sweep (a block parameter or a training setting, chosen in a list one can
type into to search) and the values it takes: a list, a range with steps (linear or log), or random samples
from a range (uniform or log-uniform).

The row writes its axis as `netbuilder sweep --set` takes it (`TARGET=SPEC`) and reads it with
`sweep_plan.Axis.parse`, so the window and the command line accept the same sweeps, in the same words.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QCompleter, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from netbuilder.project.sweep_plan import BOOL, CHOICE, INTEGER, LIST_SCALE, Axis, SweepError, SweepTarget
from netbuilder.ui.training.sweep_scales import value_text
from netbuilder.ui.widgets.inputs import ComboBox, SpinBox

# (scale as the axis writes it, as the row names it, what it means)
KINDS = (
    (LIST_SCALE, "list", "These values, in this order, separated by commas: 64,128,256 or relu,gelu"),
    ("lin", "range", "COUNT values evenly spaced from LOW to HIGH, both included"),
    ("log", "log range", "COUNT values evenly spaced in the logarithm from LOW to HIGH: 1e-4, 1e-3, 1e-2 …"),
    ("random", "random", "COUNT values drawn at random between LOW and HIGH (the sweep's seed makes them repeat)"),
    ("lograndom", "log random", "COUNT values drawn at random, evenly in the logarithm, between LOW and HIGH"),
)
DEFAULT_COUNT = 3


def target_words(target: SweepTarget) -> str:
    """How the chooser names a target: "fc1 · out_features (64)", "batch_size (64)"."""
    node, _, name = target.target.rpartition(".")
    where = f"{node} · {name}" if node else name
    return f"{where} ({value_text(target.current)})" if target.current is not None else where


def first_values(target: SweepTarget) -> tuple[str, str, str, str]:
    """A starting point for a newly chosen target, as (scale, values, low, high): around its current value,
    which a person then edits: half, the same and twice a whole number (or it and the next); a tenth to ten
    times a rate; its value and the next choice; both booleans."""
    current = target.current
    if target.kind == BOOL:
        return LIST_SCALE, "true,false" if current else "false,true", "", ""
    if target.kind == CHOICE:
        others = [c for c in target.choices if c != current]
        return LIST_SCALE, ",".join([str(current), *others[:1]] if current is not None else others[:2]), "", ""
    if target.kind == INTEGER and isinstance(current, int):
        values = (current // 2, current, current * 2) if current > 1 else (current, current + 1)
        return LIST_SCALE, ",".join(str(v) for v in values), "", ""
    if isinstance(current, int | float) and not isinstance(current, bool) and current > 0:
        return "log", "", value_text(float(current) / 10), value_text(float(current) * 10)
    return "lin", "", "0", "1"


class AxisRow(QWidget):
    """A target chooser, the kind of values, the values (or low, high and count), and a button that removes
    the row. `text()` is the axis as the command line writes it; `axis()` reads it (SweepError when it is not
    one)."""

    changed = Signal()  # any field of the row was edited
    remove_requested = Signal()

    def __init__(self, targets: Sequence[SweepTarget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.targets = list(targets)
        self.target_box = ComboBox()
        self.target_box.setEditable(True)
        self.target_box.setInsertPolicy(ComboBox.InsertPolicy.NoInsert)
        self.target_box.setSizeAdjustPolicy(ComboBox.SizeAdjustPolicy.AdjustToContents)
        self.target_box.setMinimumContentsLength(22)
        self.target_box.setToolTip(
            "What to sweep: a block parameter (node · parameter) or a training setting; type to search"
        )
        for target in self.targets:
            self.target_box.addItem(target_words(target), target.target)
        completer = self.target_box.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.target_box.lineEdit().setPlaceholderText("type to search: lr, out_features, batch_size")
        self.kind_box = ComboBox()
        for scale, words, tip in KINDS:
            self.kind_box.addItem(words, scale)
            self.kind_box.setItemData(self.kind_box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.kind_box.setToolTip("A list of values, a range with steps (linear or log), or random samples")
        self.values_field = QLineEdit()
        self.values_field.setPlaceholderText("64,128,256")
        self.values_field.setToolTip(KINDS[0][2])
        self.low_field = QLineEdit()
        self.low_field.setPlaceholderText("from")
        self.low_field.setToolTip("The range's low end")
        self.high_field = QLineEdit()
        self.high_field.setPlaceholderText("to")
        self.high_field.setToolTip("The range's high end")
        for field in (self.low_field, self.high_field):
            field.setMaximumWidth(90)
        self.count_label = QLabel("values")
        self.count_field = SpinBox(1, 1000)
        self.count_field.setValue(DEFAULT_COUNT)
        self.count_field.setToolTip("How many values the range gives")
        self.count_field.setMaximumWidth(80)
        self.count_label.setBuddy(self.count_field)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip("Sweep this no more")
        self.remove_button.clicked.connect(self.remove_requested)

        # a range's fields in a box of their own, in the place of the list's field when a range is chosen
        self.range_box = QWidget()
        range_layout = QHBoxLayout(self.range_box)
        range_layout.setContentsMargins(0, 0, 0, 0)
        range_layout.setSpacing(6)
        for widget in (self.low_field, QLabel("to"), self.high_field, self.count_field, self.count_label):
            range_layout.addWidget(widget)
        range_layout.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.target_box)
        layout.addWidget(self.kind_box)
        layout.addWidget(self.values_field, 1)
        layout.addWidget(self.range_box, 1)
        layout.addWidget(self.remove_button)

        self.target_box.currentIndexChanged.connect(self._target_chosen)
        self.target_box.lineEdit().textEdited.connect(self.changed)
        self.kind_box.currentIndexChanged.connect(self._kind_chosen)
        for field in (self.values_field, self.low_field, self.high_field):
            field.textChanged.connect(self.changed)
        self.count_field.valueChanged.connect(self.changed)
        self._target_chosen(self.target_box.currentIndex())

    # ---- reading and writing ------------------------------------------------------------------------------

    def target(self) -> str:
        """The target chosen, or what was typed when it names none in the list (the plan then says what is
        close to it)."""
        typed = self.target_box.currentText().strip()
        index = self.target_box.currentIndex()
        if index >= 0 and typed == self.target_box.itemText(index):
            return str(self.target_box.itemData(index))
        found = self.target_box.findText(typed, Qt.MatchFlag.MatchFixedString)
        return str(self.target_box.itemData(found)) if found >= 0 else typed.split(" (")[0].replace(" · ", ".")

    @property
    def scale(self) -> str:
        return str(self.kind_box.currentData())

    def text(self) -> str:
        """The axis as `netbuilder sweep --set` takes it: "fc1.out_features=64,128" or
        "optimizer.lr=1e-4:1e-1:log:4"."""
        if self.scale == LIST_SCALE:
            spec = ",".join(part.strip() for part in self.values_field.text().split(","))
        else:
            low, high = self.low_field.text().strip(), self.high_field.text().strip()
            spec = f"{low}:{high}:{self.scale}:{self.count_field.value()}"
        return f"{self.target()}={spec}"

    def axis(self) -> Axis:
        """The axis the row describes; SweepError (one line) when it is not one."""
        if not self.target():
            raise SweepError("choose what to sweep in each row, or remove the row")
        return Axis.parse(self.text())

    def set_axis(self, axis: Axis) -> None:
        """Show `axis` (the last sweep's rows, read back)."""
        found = self.target_box.findData(axis.target)
        with QSignalBlocker(self.target_box):
            if found >= 0:
                self.target_box.setCurrentIndex(found)
            else:
                self.target_box.setEditText(axis.target)
        self._show_scale(axis.scale)
        spec = axis.text().partition("=")[2]  # as typed: the axis writes its values as it reads them
        if axis.scale == LIST_SCALE:
            self.values_field.setText(spec)
        else:
            low, high, _, _ = spec.split(":")
            self.low_field.setText(low)
            self.high_field.setText(high)
            self.count_field.setValue(axis.count)
        self.changed.emit()

    # ---- what the fields allow -----------------------------------------------------------------------------

    def _chosen_target(self) -> SweepTarget | None:
        target = self.target()
        return next((t for t in self.targets if t.target == target), None)

    def _target_chosen(self, index: int) -> None:
        """A target chosen from the list: the kinds it takes, and values to start from."""
        target = self._chosen_target()
        if target is None:
            self.changed.emit()
            return
        words = target.kind in (CHOICE, BOOL)
        model = self.kind_box.model()
        for i in range(1, self.kind_box.count()):  # only a list of words or booleans
            model.item(i).setEnabled(not words)
        scale, values, low, high = first_values(target)
        self._show_scale(scale)
        self.values_field.setText(values)
        self.low_field.setText(low)
        self.high_field.setText(high)
        self.changed.emit()

    def _kind_chosen(self, index: int) -> None:
        self._show_scale(self.scale)
        self.changed.emit()

    def _show_scale(self, scale: str) -> None:
        with QSignalBlocker(self.kind_box):
            self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(scale)))
        listed = scale == LIST_SCALE
        self.values_field.setVisible(listed)
        self.range_box.setVisible(not listed)
        tip = next(tip for s, _, tip in KINDS if s == scale)
        for field in (self.values_field, self.low_field, self.high_field):
            field.setToolTip(tip)
