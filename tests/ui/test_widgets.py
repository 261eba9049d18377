"""The shared small widgets and helpers: fields that leave the wheel to the page, colours, sentences."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QPalette, QWheelEvent

from netbuilder.ui.widgets.colors import contrast, mix, muted_text, readable_on
from netbuilder.ui.widgets.inputs import ComboBox, DoubleSpinBox, SpinBox
from netbuilder.ui.widgets.text import escape, sentence


def wheel_up(widget) -> QWheelEvent:
    event = QWheelEvent(
        QPointF(5, 5),
        QPointF(widget.mapToGlobal(QPoint(5, 5))),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    widget.wheelEvent(event)
    return event


def test_fields_take_the_wheel_only_with_focus(qtbot):
    spin, double, combo = SpinBox(0, 10), DoubleSpinBox(0.0, 1.0, 2, 0.1), ComboBox()
    combo.addItems(["a", "b", "c"])
    combo.setCurrentIndex(1)
    for widget in (spin, double, combo):
        qtbot.addWidget(widget)
    for widget in (spin, double, combo):
        event = wheel_up(widget)
        assert not event.isAccepted()  # left to the scrolling page
    assert (spin.value(), double.value(), combo.currentIndex()) == (0, 0.0, 1)
    spin.show()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    wheel_up(spin)
    assert spin.value() == 1


def test_a_spin_box_makes_one_edit_per_enter():
    assert not SpinBox().keyboardTracking() and not DoubleSpinBox(0, 1, 2, 0.1).keyboardTracking()


def test_colours_mix_and_contrast():
    black, white = QColor("#000000"), QColor("#ffffff")
    assert mix(black, white, 0.5).name() == "#808080"
    assert mix(black, white, 0.0) == black and mix(black, white, 1.0) == white
    assert round(contrast(black, white)) == 21 and contrast(white, white) == 1.0
    assert readable_on(QColor("#202020"), black, white) == white


def test_muted_text_is_quieter_than_text_yet_readable_on_light_and_dark(qtbot):
    for window, text, base in (("#ffffff", "#000000", "#f4f4f4"), ("#202124", "#e8eaed", "#2b2c30")):
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Window, QColor(window))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(text))
        palette.setColor(QPalette.ColorRole.Base, QColor(base))
        palette.setColor(QPalette.ColorRole.Text, QColor(text))
        for on in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
            background = palette.color(on)
            muted = muted_text(palette, on)
            assert 4.5 <= contrast(muted, background) < contrast(QColor(text), background)


def test_sentences_and_escaping():
    assert sentence("  there is no file at x ") == "There is no file at x."
    assert sentence("Done!") == "Done!"
    assert sentence("the network has no loss", capital=False) == "the network has no loss."
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert escape('"quoted"') == '"quoted"'
