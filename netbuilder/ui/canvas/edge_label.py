"""An edge's shape label fitted to the room between the cards it joins: on one line where it fits, else broken
after its commas into the fewest lines that fit ("(N, 64," over "112, 112)"), so that a 4-D shape between two
neighbouring cards of a row is drawn between them rather than under them."""

from __future__ import annotations

from itertools import combinations, pairwise

from PySide6.QtGui import QFontMetricsF

PADDING = 10.0  # the label's box is this much wider than its longest line
MAX_LINES = 3


def fitted(label: str, metrics: QFontMetricsF, room: float) -> str:
    """`label` as drawn in a box at most `room` wide: as it is where it fits; else broken after commas into
    the fewest lines (up to MAX_LINES) that fit, at the breaks that make the longest line shortest; as it is
    where no break fits (cards placed closer than any shape can be written between)."""
    if metrics.horizontalAdvance(label) + PADDING <= room:
        return label
    parts = label.split(", ")
    for count in range(2, min(MAX_LINES, len(parts)) + 1):
        width, lines = min(_broken(parts, cuts, metrics) for cuts in combinations(range(1, len(parts)), count - 1))
        if width + PADDING <= room:
            return "\n".join(lines)
    return label


def _broken(parts: list[str], cuts: tuple[int, ...], metrics: QFontMetricsF) -> tuple[float, list[str]]:
    """The lines `parts` make broken before each index in `cuts` (each but the last keeps its comma), and the
    width of the longest."""
    bounds = (0, *cuts, len(parts))
    lines = [", ".join(parts[a:b]) + ("," if b < len(parts) else "") for a, b in pairwise(bounds)]
    return max(metrics.horizontalAdvance(line) for line in lines), lines
