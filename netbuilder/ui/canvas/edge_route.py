"""The path an edge takes on the canvas: a smooth S from an output port to an input port, and round the cards
between where it skips along a row or down a column.

Left to right, an edge whose two cards share a row with room for a card between them leaves its output, turns
up within the gap beside its card, runs straight along a lane above the row's cards and comes down into its
input the same way; top to bottom, it runs down a lane beside the column, on the side nearer its ports. Lanes
lie further out the longer the skip, so skips nested inside one another keep apart. Turning within the gaps
(shorter than the layout's gaps between cards) is what keeps the edge off the first and last cards it skips,
which an arc over them cut through.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath

from netbuilder.analysis.footprint import HEADER, NODE_WIDTH, node_height

CLEARANCE = 24.0  # between a lane and the cards it passes
SPREAD, MOST_SPREAD = 0.04, 48.0  # a lane lies this share of its skip's length further out, up to this much
ELBOW = 36.0  # along the flow, where an edge turns between its port and its lane


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


def routed(start: QPointF, end: QPointF, vertical: bool, source: QRectF, target: QRectF) -> QPainterPath:
    """The path of an edge from `start` (an output of the card `source`) to `end` (an input of `target`): along
    a lane round the cards between where the two cards share a row (a column, top to bottom) with room for a
    card and two turns between them, else `curve`'s S."""
    if not vertical:
        return _lane(start, end, source, target, NODE_WIDTH, outwards=-1.0) or curve(start, end)
    flip = _flipped
    middle, left, right = (
        (start.x() + end.x()) / 2,
        min(source.left(), target.left()),
        max(source.right(), target.right()),
    )
    outwards = (
        1.0 if right - middle < middle - left or (right - middle == middle - left and end.x() >= start.x()) else -1.0
    )
    lane = _lane(flip(start), flip(end), _flipped_rect(source), _flipped_rect(target), node_height(1), outwards)
    return _flipped_path(lane) if lane is not None else curve(start, end, vertical=True)


def _lane(
    start: QPointF, end: QPointF, source: QRectF, target: QRectF, between: float, outwards: float
) -> QPainterPath | None:
    """Left to right: the path along a lane above (`outwards` -1) or below (+1) the row the two cards share,
    where a card `between` long (along the flow) fits between them with room to turn on either side; None
    where they share no row or stand closer."""
    shared = min(source.bottom(), target.bottom()) - max(source.top(), target.top())
    room = target.left() - source.right()
    if shared <= 0 or room <= between + 2 * ELBOW or end.x() - start.x() <= 2 * ELBOW:
        return None
    edge = min(source.top(), target.top()) if outwards < 0 else max(source.bottom(), target.bottom())
    lane = edge + outwards * (CLEARANCE + min(MOST_SPREAD, room * SPREAD))
    turn = ELBOW / 2
    path = QPainterPath(start)
    path.cubicTo(
        QPointF(start.x() + turn, start.y()), QPointF(start.x() + turn, lane), QPointF(start.x() + ELBOW, lane)
    )
    path.lineTo(end.x() - ELBOW, lane)
    path.cubicTo(QPointF(end.x() - turn, lane), QPointF(end.x() - turn, end.y()), end)
    return path


def _flipped(point: QPointF) -> QPointF:
    return QPointF(point.y(), point.x())


def _flipped_rect(rect: QRectF) -> QRectF:
    return QRectF(rect.y(), rect.x(), rect.height(), rect.width())


def _flipped_path(path: QPainterPath) -> QPainterPath:
    """`path` mirrored across the diagonal (x and y swapped): a left-to-right route made top to bottom."""
    flipped = QPainterPath()
    index = 0
    while index < path.elementCount():
        element = path.elementAt(index)
        if element.isMoveTo():
            flipped.moveTo(element.y, element.x)
            index += 1
        elif element.isLineTo():
            flipped.lineTo(element.y, element.x)
            index += 1
        else:  # a curve: its two control points, then its end
            one, two = path.elementAt(index + 1), path.elementAt(index + 2)
            flipped.cubicTo(element.y, element.x, one.y, one.x, two.y, two.x)
            index += 3
    return flipped


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
