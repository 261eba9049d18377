"""Colours for the window's own painting: mixing two colours, the WCAG contrast between two (so that text and
marks are chosen to read on whatever background the theme gives), and the colours that tell classes apart."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

# one colour per class, wherever classes are drawn (the data preview, the Predict tab); repeated past ten
CLASS_COLOURS = [
    QColor(c)
    for c in (
        "#1e88e5",
        "#e53935",
        "#43a047",
        "#fb8c00",
        "#8e24aa",
        "#00acc1",
        "#6d4c41",
        "#c0ca33",
        "#d81b60",
        "#546e7a",
    )
]


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """The colour `amount` of the way from `a` to `b` (0: a, 1: b), opaque."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


def luminance(colour: QColor) -> float:
    """The relative luminance of a colour as WCAG defines it (0 black to 1 white)."""

    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21; 4.5 reads well as body text)."""
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def readable_on(background: QColor, *candidates: QColor) -> QColor:
    """The candidate that reads best on `background`."""
    return max(candidates, key=lambda colour: contrast(colour, background))


def muted_text(
    palette: QPalette,
    on: QPalette.ColorRole = QPalette.ColorRole.Window,
    group: QPalette.ColorGroup = QPalette.ColorGroup.Active,
) -> QColor:
    """Secondary text on the palette's `on` background (Window for labels, Base for lists and fields): the
    text colour a third of the way towards that background, readable in light and dark themes alike."""
    text = QPalette.ColorRole.WindowText if on == QPalette.ColorRole.Window else QPalette.ColorRole.Text
    return mix(palette.color(group, text), palette.color(group, on), 1 / 3)
