"""The path an edge takes on the canvas: a smooth S from an output port to an input port, and round the cards in
its way.

Left to right, an edge whose two cards share a row with room for a card between them leaves its output, turns
within the gap beside its card onto a straight lane above the row's cards, and comes down into its input the
same way; top to bottom, it runs down a lane beside the column, on the side nearer its ports. Lanes lie further
out the longer the skip, so skips nested inside one another keep apart. Any other edge is an S. Where the cards
around are known (an edge of the canvas), a path that would cross a card tries lanes instead, the shortest
detour first: at its target's level, at its source's, then past the cards in its way on either side; the
first that crosses no card is taken (none: the first path stays). Turning within the gaps (shorter than the
layout's gaps between cards) is what keeps a lane off the cards at its ends.

Everything is worked out left to right; top to bottom, the same route is found with x and y swapped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath

from netbuilder.analysis.footprint import HEADER, NODE_WIDTH, node_height

CLEARANCE = 24.0  # between a lane and the cards it passes
SPREAD, MOST_SPREAD = 0.04, 48.0  # a skip's lane lies this share of its length further out, up to this much
ELBOW = 36.0  # along the flow, where an edge turns between its port and its lane
PIECES = 12  # the straight pieces a cubic is cut into, to check it against the cards
FEW = 16  # cards near a path that each of its pieces is checked against, rather than looked up piece by piece
TRIES = 4  # lanes pushed past the cards in their way, on each side, before giving up

Cards = Callable[[QRectF], list[QRectF]]  # the cards (other than an edge's own two) that a rectangle meets


def curve(start: QPointF, end: QPointF, vertical: bool = False) -> QPainterPath:
    """A smooth S from an output (leaving right) to an input (entering from the left), for a line whose cards
    are not known (a wire being drawn, a block's border tag). One that skips over several nodes on the same
    row arcs above them.

    `vertical` (top to bottom): from an output leaving downward to an input entered from above; one that
    skips over several nodes of one column arcs beside them, on the side of the port it enters."""
    if vertical:
        return _vertical_curve(start, end)
    path = QPainterPath(start)
    span = end.x() - start.x()
    bend = max(40.0, abs(span) * 0.5)
    lift = min(160.0, span * 0.12) if span > 2 * NODE_WIDTH and abs(end.y() - start.y()) < HEADER else 0.0
    path.cubicTo(
        QPointF(start.x() + bend * 0.6, start.y() - lift * 1.3),
        QPointF(end.x() - bend * 0.6, end.y() - lift * 1.3),
        end,
    )
    return path


def routed(
    start: QPointF, end: QPointF, vertical: bool, source: QRectF, target: QRectF, cards: Cards | None = None
) -> QPainterPath:
    """The path of an edge from `start` (an output of the card `source`) to `end` (an input of `target`), clear
    of the cards `cards` finds where it knows of any (see the module's docstring)."""
    if not vertical:
        return _route(start, end, source, target, NODE_WIDTH, -1.0, cards, curve(start, end))
    middle = (start.x() + end.x()) / 2
    left, right = middle - min(source.left(), target.left()), max(source.right(), target.right()) - middle
    outwards = 1.0 if right < left or (right == left and end.x() >= start.x()) else -1.0  # in x, before swapping
    swapped = None if cards is None else (lambda rect: [_swapped_rect(card) for card in cards(_swapped_rect(rect))])
    plain = _swapped_path(curve(start, end, vertical=True))
    path = _route(
        _swapped(start), _swapped(end), _swapped_rect(source), _swapped_rect(target), node_height(1), outwards,
        swapped, plain,
    )  # fmt: skip
    return _swapped_path(path)


def _route(
    start: QPointF,
    end: QPointF,
    source: QRectF,
    target: QRectF,
    between: float,
    outwards: float,
    cards: Cards | None,
    plain: QPainterPath,
) -> QPainterPath:
    """Left to right: the skip's lane (above the row for `outwards` -1, below for +1) where the two cards share a
    row with room for a card `between` long and two turns between them, else `plain`; where that crosses one
    of `cards`, the first lane that crosses none."""
    shared = min(source.bottom(), target.bottom()) - max(source.top(), target.top())
    room = target.left() - source.right()
    first = plain
    if shared > 0 and room > between + 2 * ELBOW:
        edge = min(source.top(), target.top()) if outwards < 0 else max(source.bottom(), target.bottom())
        first = _along(start, end, edge + outwards * (CLEARANCE + min(MOST_SPREAD, room * SPREAD)))
    if cards is None or end.x() - start.x() <= 2 * ELBOW or not _crosses(first, cards):
        return first
    for level in _levels(start, end, cards):
        path = _along(start, end, level)
        if not _crosses(path, cards):
            return path
    return first


def _levels(start: QPointF, end: QPointF, cards: Cards) -> Iterator[float]:
    """The levels (y) of lanes to try, the shortest detour first: the target's, the source's, then past the
    cards in the way above and below, pushed further past the cards each meets (TRIES times at most)."""
    tried = [end.y(), start.y()]
    for outwards in (-1.0, 1.0):
        level = start.y()
        for _ in range(TRIES):
            met = cards(QRectF(QPointF(start.x() + ELBOW, level - 1), QPointF(end.x() - ELBOW, level + 1)))
            if not met:
                break
            level = (
                min(card.top() for card in met) - CLEARANCE
                if outwards < 0
                else max(card.bottom() for card in met) + CLEARANCE
            )
            tried.append(level)
    detour = {level: abs(level - start.y()) + abs(level - end.y()) for level in tried}
    yield from sorted(dict.fromkeys(tried), key=detour.__getitem__)


def _along(start: QPointF, end: QPointF, level: float) -> QPainterPath:
    """From `start`, a turn within ELBOW onto a straight lane at `level`, and a turn off it into `end`."""
    near, far, turn = start.x() + ELBOW, end.x() - ELBOW, ELBOW / 2
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + turn, start.y()), QPointF(start.x() + turn, level), QPointF(near, level))
    path.lineTo(far, level)
    path.cubicTo(QPointF(end.x() - turn, level), QPointF(end.x() - turn, end.y()), end)
    return path


def _crosses(path: QPainterPath, cards: Cards) -> bool:
    """Whether `path` runs through a card: each straight piece of it (a cubic cut into PIECES) against the cards
    near the whole path where they are few, else against those its own bounds meet."""
    near = cards(path.controlPointRect())
    if not near:
        return False
    pieces = list(pairwise(_polyline(path)))
    if len(near) <= FEW:
        return any(_meets(a, b, card) for a, b in pieces for card in near)
    return any(_meets(a, b, card) for a, b in pieces for card in cards(QRectF(a, b).normalized()))


def _pieces(path: QPainterPath) -> Iterator[tuple[QPointF, ...]]:
    """Each piece of `path` (made of lines and cubics) as its points: where it starts and ends for a line; where
    it starts, its two control points and its end for a cubic."""
    here = QPointF(path.elementAt(0).x, path.elementAt(0).y)
    index = 1
    while index < path.elementCount():
        count = 1 if path.elementAt(index).isLineTo() else 3
        points = tuple(QPointF(path.elementAt(i).x, path.elementAt(i).y) for i in range(index, index + count))
        yield (here, *points)
        here, index = points[-1], index + count


def _polyline(path: QPainterPath) -> Iterator[QPointF]:
    """The corners of a polyline along `path` (its lines as they are, each cubic cut into PIECES lines)."""
    yield QPointF(path.elementAt(0).x, path.elementAt(0).y)
    for piece in _pieces(path):
        if len(piece) == 2:
            yield piece[1]
            continue
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ((point.x(), point.y()) for point in piece)
        for step in range(1, PIECES + 1):
            t = step / PIECES
            u = 1 - t
            a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
            yield QPointF(a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


def _meets(a: QPointF, b: QPointF, card: QRectF) -> bool:
    """Whether the segment from `a` to `b` passes through `card` (Liang and Barsky's clipping)."""
    low, high = 0.0, 1.0
    dx, dy = b.x() - a.x(), b.y() - a.y()
    for step, room in (
        (-dx, a.x() - card.left()),
        (dx, card.right() - a.x()),
        (-dy, a.y() - card.top()),
        (dy, card.bottom() - a.y()),
    ):
        if step == 0:
            if room < 0:
                return False
            continue
        t = room / step
        if step < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def _swapped(point: QPointF) -> QPointF:
    return QPointF(point.y(), point.x())


def _swapped_rect(rect: QRectF) -> QRectF:
    return QRectF(rect.y(), rect.x(), rect.height(), rect.width())


def _swapped_path(path: QPainterPath) -> QPainterPath:
    """`path` with x and y swapped: a route worked out left to right, made top to bottom (and back)."""
    swapped = QPainterPath(_swapped(QPointF(path.elementAt(0).x, path.elementAt(0).y)))
    for piece in _pieces(path):
        if len(piece) == 2:
            swapped.lineTo(_swapped(piece[1]))
        else:
            swapped.cubicTo(*(_swapped(point) for point in piece[1:]))
    return swapped


def _vertical_curve(start: QPointF, end: QPointF) -> QPainterPath:
    path = QPainterPath(start)
    span = end.y() - start.y()
    bend = max(40.0, abs(span) * 0.5)
    across = end.x() - start.x()
    skips = span > 2 * node_height(1) and abs(across) < NODE_WIDTH / 2
    # far enough aside that the curve's middle clears the cards it passes (0.75 of the push reaches it)
    aside = (1.0 if across >= 0 else -1.0) * min(NODE_WIDTH * 1.2, max(NODE_WIDTH * 0.8, span * 0.12)) if skips else 0.0
    path.cubicTo(
        QPointF(start.x() + aside, start.y() + bend * 0.6),
        QPointF(end.x() + aside, end.y() - bend * 0.6),
        end,
    )
    return path
