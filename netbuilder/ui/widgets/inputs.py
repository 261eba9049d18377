"""Input fields for scrolling panels (the inspector, the training settings): each leaves the mouse wheel to the
page unless it has focus, so scrolling past a field does not change its value, and a spin box makes one edit
per Enter (typing "128" is one edit, not three)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox, QWidget


class _WheelWhenFocused:
    """Mixed in before a Qt field class: the wheel goes to the field only while it has focus."""

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class SpinBox(_WheelWhenFocused, QSpinBox):
    """An integer field that takes the wheel only with focus, and reports one value per Enter."""

    def __init__(self, low: int | None = None, high: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if low is not None and high is not None:
            self.setRange(low, high)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setKeyboardTracking(False)


class DoubleSpinBox(_WheelWhenFocused, QDoubleSpinBox):
    """A decimal field that takes the wheel only with focus, and reports one value per Enter."""

    def __init__(self, low: float, high: float, decimals: int, step: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(low, high)
        self.setDecimals(decimals)
        self.setSingleStep(step)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setKeyboardTracking(False)


class ComboBox(_WheelWhenFocused, QComboBox):
    """A drop-down list that takes the wheel only with focus."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
