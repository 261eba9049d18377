"""The Predict tab's question "what does the network look at?": a method (none, saliency, Grad-CAM with the
convolution it looks at, integrated gradients), the class whose evidence it shows (the predicted one unless
another is chosen), how strongly the map covers the sample, and a line that says what is being shown or why
nothing is."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from netbuilder.ui.training.explanation_loading import METHOD_NAMES, METHOD_TIPS

NO_METHOD = ""
PREDICTED_CLASS = "Predicted"  # the class box is narrow beside the method: its tooltip says the rest
DEFAULT_OPACITY = 60  # percent: the sample still shows through where the map is strongest


class ExplanationControls(QWidget):
    """The method and layer choice and the opacity slider under the chosen sample."""

    changed = Signal()  # the method, the layer or the class changed: the map must be made again
    opacity_changed = Signal(float)  # how much the map covers the sample, 0 to 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.method_box = QComboBox()
        self.method_box.setToolTip("Draw over the sample what the network's answer rests on")
        self.method_box.currentIndexChanged.connect(self._method_changed)
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The convolution whose features Grad-CAM weighs (the last one sees the most)")
        self.layer_box.currentIndexChanged.connect(lambda _index: self.changed.emit())
        self.class_box = QComboBox()
        self.class_box.setToolTip(
            "The class whose evidence the map shows: the predicted one, or another to see what speaks for it"
        )
        self.class_box.currentIndexChanged.connect(lambda _index: self.changed.emit())
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(DEFAULT_OPACITY)
        self.opacity.setToolTip("How strongly the map covers the sample")
        self.opacity.valueChanged.connect(lambda value: self.opacity_changed.emit(value / 100))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        opacity_row = QHBoxLayout()
        opacity_row.setContentsMargins(0, 0, 0, 0)
        opacity_label = QLabel("Opacity")
        opacity_label.setBuddy(self.opacity)
        opacity_row.addWidget(opacity_label)
        opacity_row.addWidget(self.opacity, 1)
        for box in (self.method_box, self.class_box):  # side by side they may be narrow: their words elide
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(6)
        choices = QHBoxLayout()  # one row: the dock is short, and the sample above takes the height left
        choices.setContentsMargins(0, 0, 0, 0)
        choices.setSpacing(3)
        choices.addWidget(self.method_box, 1)
        choices.addWidget(self.class_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 6)
        layout.setSpacing(3)
        layout.addLayout(choices)
        layout.addWidget(self.layer_box)
        layout.addLayout(opacity_row)
        layout.addWidget(self.status)
        self.set_methods(())

    @property
    def method(self) -> str:
        """The chosen method's key ("saliency", "gradcam", "ig"), or NO_METHOD."""
        return self.method_box.currentData() or NO_METHOD

    @property
    def layer(self) -> str | None:
        """The node Grad-CAM looks at, or None for the default (the last convolution)."""
        return self.layer_box.currentData() if self.layer_box.count() else None

    @property
    def target_class(self) -> int | None:
        """The class chosen to explain, or None for the class the network predicted."""
        return self.class_box.currentData() if self.class_box.count() else None

    def set_methods(self, methods: tuple[str, ...]) -> None:
        """Offer these methods (none: the controls hide), keeping the choice where it is still offered."""
        chosen = self.method
        self.method_box.blockSignals(True)
        self.method_box.clear()
        self.method_box.addItem("Explain: off", NO_METHOD)
        self.method_box.setItemData(0, "Show the sample alone", Qt.ItemDataRole.ToolTipRole)
        for method in methods:
            self.method_box.addItem(METHOD_NAMES[method], method)
            self.method_box.setItemData(self.method_box.count() - 1, METHOD_TIPS[method], Qt.ItemDataRole.ToolTipRole)
        self.method_box.setCurrentIndex(max(0, self.method_box.findData(chosen)))
        self.method_box.blockSignals(False)
        self.setVisible(bool(methods))
        self._show_parts()

    def set_layers(self, layers: tuple[tuple[str, str], ...]) -> None:
        """Grad-CAM's layers as (node id, label), the last chosen unless the chosen one is among them."""
        chosen = self.layer
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for node, label in layers:
            self.layer_box.addItem(f"at {label}", node)
        index = self.layer_box.findData(chosen) if chosen is not None else -1
        self.layer_box.setCurrentIndex(index if index >= 0 else self.layer_box.count() - 1)
        self.layer_box.blockSignals(False)
        self._show_parts()

    def set_classes(self, names: tuple[str, ...], true: int | None = None) -> None:
        """Offer the predicted class, then each of `names` (none: a network that gives values, the choice
        hides), the sample's `true` class marked; the chosen class is kept."""
        chosen = self.target_class
        self.class_box.blockSignals(True)
        self.class_box.clear()
        if names:
            self.class_box.addItem(PREDICTED_CLASS, None)
        for index, name in enumerate(names):
            self.class_box.addItem(f"Class {name}" + (" (true)" if index == true else ""), index)
        self.class_box.setCurrentIndex(max(0, self.class_box.findData(chosen)) if chosen is not None else 0)
        self.class_box.blockSignals(False)
        self._show_parts()

    def say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _method_changed(self, _index: int) -> None:
        self._show_parts()
        self.changed.emit()

    def _show_parts(self) -> None:
        method = self.method
        self.layer_box.setVisible(method == "gradcam" and self.layer_box.count() > 1)
        self.class_box.setVisible(method != NO_METHOD and self.class_box.count() > 0)
        self.opacity.setEnabled(method != NO_METHOD)
        if method == NO_METHOD:
            self.say("")
