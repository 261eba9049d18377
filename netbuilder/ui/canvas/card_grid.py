"""Where the cards of the canvas are, by the cells of a coarse grid they cover: the cards a rectangle meets
are found among those of the cells it covers, without asking every item of the scene (which, while a large
graph is being put on the canvas and Qt's index is not yet built, calls each item's boundingRect)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from PySide6.QtCore import QRectF

CELL = 256.0  # scene units a side: about a card and its gap


class CardGrid:
    """The cards' rectangles by key (a node id), and the keys of the cards in each cell."""

    def __init__(self) -> None:
        self._cards: dict[str, QRectF] = {}
        self._cells: dict[tuple[int, int], set[str]] = {}

    def place(self, key: str, card: QRectF) -> None:
        """Put the card `key` at `card` (where it was before, if anywhere, is forgotten)."""
        self.remove(key)
        self._cards[key] = QRectF(card)
        for cell in _cells(card):
            self._cells.setdefault(cell, set()).add(key)

    def remove(self, key: str) -> None:
        card = self._cards.pop(key, None)
        if card is None:
            return
        for cell in _cells(card):
            keys = self._cells.get(cell)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._cells[cell]

    def meeting(self, rect: QRectF, *leaving_out: str) -> list[QRectF]:
        """The cards that `rect` meets, but those of the keys `leaving_out`."""
        keys = {key for cell in _cells(rect) for key in self._cells.get(cell, ())}
        return [self._cards[key] for key in keys.difference(leaving_out) if self._cards[key].intersects(rect)]


def _cells(rect: QRectF) -> Iterator[tuple[int, int]]:
    """The grid cells `rect` covers."""
    left, right = math.floor(rect.left() / CELL), math.floor(rect.right() / CELL)
    top, bottom = math.floor(rect.top() / CELL), math.floor(rect.bottom() / CELL)
    for column in range(left, right + 1):
        for row in range(top, bottom + 1):
            yield column, row
