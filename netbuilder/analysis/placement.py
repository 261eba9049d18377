"""Where a new node goes, so that it never lands on another: the rule that every path adding nodes follows (a
drop from the palette, quick-add, a one-click fix, a drop on an edge, paste and duplicate).

The rule, kept simple so a person can predict it:

- A node goes where it was wanted when its rectangle, grown by MARGIN on every side, meets no other node's
  rectangle; otherwise to the nearest spot where it meets none (nearest by straight distance from the wanted
  top-left corner; of two spots as near, the one across the flow, see below).
- A pasted or duplicated group keeps its arrangement: its bounding box is placed as one rectangle.
- A node inserted between two nodes (on their edge) goes where it was wanted when that is free. Otherwise it
  goes right after the source along the flow (the axis on which the two nodes' centres lie further apart,
  in the direction of the edge), centred on the line between the two, and everything that starts at or past
  the target along the flow moves on by the room that needs. Moving everything past that line, and not only
  what the edge feeds, keeps what moves clear of what stays: no two nodes that were apart come together, and
  what moved keeps its arrangement. Should a node that the line cuts through still cover the new one, the
  new one goes to the nearest free spot.

The flow runs the way View > Layout Direction says (an `Orientation`, left to right unless told). Every rule
above is written for left to right; top to bottom is the same rule with x and y exchanged, so a person who
knows one knows the other:

- "after" a node is to its right, or below it; "before" is to its left, or above it; "beside" is across the
  flow: below, or to the right. An AddNode fix puts its node after `near` (a loss after the output, an
  optimizer after the loss) or, with no `near`, before the first node (a Dataset before the Input).
- An insert with no room makes it along the direction's axis when the target starts past the source's end
  along it (top to bottom: what follows moves down, even when the target sits a column over); an edge that
  runs across or against the direction makes room along the axis on which its ends lie further apart.
- Of two free spots as near, the free-spot search takes the one reached by moving further across the flow,
  then the one further on across it, then along it: left to right, a move up or down before one sideways,
  the lower before the upper, then the right; top to bottom, a move sideways before one up or down, the
  right before the left, then the lower. So a node that cannot go where it was dropped goes beside the
  flow, not into the next step of it.

Node sizes come from `footprint`, the rule the canvas draws by. Rectangles sit in a grid of buckets, so a
search looks only at the nodes near the spot it tries: placing a node in a 1,000-node graph costs about as
much as building that index once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from netbuilder.analysis.footprint import footprint
from netbuilder.analysis.layout import Orientation
from netbuilder.graph import Graph

MARGIN = 20.0  # the least free space kept between a placed node's rectangle and any other
GAP = 80.0  # the space between a node placed beside another and it
CELL = 512.0  # the side of a bucket of the index: a few nodes across
STRIP = 128.0  # the height of a strip of the free-spot search: about a node and its margins
TIE = 6  # decimals to which two distances are compared: spots as near up to rounding are a tie

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x, y, width, height; (x, y) is the top-left corner
LEFT_TO_RIGHT = Orientation.LEFT_TO_RIGHT


def rectangles(graph: Graph, ignore: Iterable[str] = ()) -> dict[str, Rect]:
    """Each node's rectangle on the canvas, except the nodes in `ignore`."""
    skip = set(ignore)
    return {n: (*node.position, *footprint(graph, n)) for n, node in graph.nodes.items() if n not in skip}


class Occupancy:
    """Rectangles in a grid of square buckets: `near` answers "what lies in this window" by looking only at
    the buckets the window covers (or at every bucket, when there are fewer of those), never at every
    rectangle."""

    def __init__(self, rects: Mapping[str, Rect]) -> None:
        self.rects = dict(rects)
        self._buckets: dict[tuple[int, int], list[str]] = {}
        for node_id, (x, y, w, h) in self.rects.items():
            (c0, r0), (c1, r1) = _cell(x, y), _cell(x + w, y + h)
            for c in range(c0, c1 + 1):
                for r in range(r0, r1 + 1):
                    self._buckets.setdefault((c, r), []).append(node_id)

    @classmethod
    def of(cls, graph: Graph, ignore: Iterable[str] = ()) -> Occupancy:
        """The rectangles of `graph`'s nodes but those in `ignore` (the ones being placed)."""
        return cls(rectangles(graph, ignore))

    def near(self, x0: float, y0: float, x1: float, y1: float) -> list[Rect]:
        """The rectangles that meet the window from (x0, y0) to (x1, y1), each once."""
        (c0, r0), (c1, r1) = _cell(x0, y0), _cell(x1, y1)
        if (c1 - c0 + 1) * (r1 - r0 + 1) <= len(self._buckets):
            keys: Iterable[tuple[int, int]] = (
                (c, r) for c in range(c0, c1 + 1) for r in range(r0, r1 + 1) if (c, r) in self._buckets
            )
        else:
            keys = (k for k in self._buckets if c0 <= k[0] <= c1 and r0 <= k[1] <= r1)
        found: dict[str, Rect] = {}
        for key in keys:
            for node_id in self._buckets[key]:
                x, y, w, h = self.rects[node_id]
                if x < x1 and x + w > x0 and y < y1 and y + h > y0:
                    found[node_id] = self.rects[node_id]
        return list(found.values())

    def is_free(self, rect: Rect) -> bool:
        """Whether `rect`, grown by MARGIN, meets none of the rectangles."""
        x, y, w, h = rect
        return not self.near(x - MARGIN, y - MARGIN, x + w + MARGIN, y + h + MARGIN)

    def free_spot(self, size: tuple[float, float], wanted: Point, orientation: Orientation = LEFT_TO_RIGHT) -> Point:
        """The top-left corner nearest `wanted` where a rectangle of `size`, grown by MARGIN, meets none of
        the rectangles (`wanted` itself when it is free); of two as near, the one further across the flow of
        `orientation`, then further along it.

        The search looks in a window around `wanted` that doubles until the spot it finds lies inside it
        (a spot inside the window is tried against every rectangle that could cover it) or the window holds
        every rectangle."""
        w, h = size
        x0, y0 = wanted
        reach = max(w, h) + MARGIN
        while True:
            near = self.near(x0 - reach - MARGIN, y0 - reach - MARGIN, x0 + reach + w + MARGIN, y0 + reach + h + MARGIN)
            # Where the top-left corner may not go: each rectangle grown by the margin and by the size.
            boxes = [(x - w - MARGIN, y - h - MARGIN, x + rw + MARGIN, y + rh + MARGIN) for x, y, rw, rh in near]
            if orientation is LEFT_TO_RIGHT:
                spot = _nearest_outside(boxes, x0, y0)
            else:  # the same search with x and y exchanged, so its tie-break favours right over lower
                spot = _nearest_outside([(b[1], b[0], b[3], b[2]) for b in boxes], y0, x0)[::-1]
            if math.hypot(spot[0] - x0, spot[1] - y0) <= reach or len(near) == len(self.rects):
                return spot
            reach *= 2


def place_node(graph: Graph, node_id: str, wanted: Point, orientation: Orientation = LEFT_TO_RIGHT) -> None:
    """Move `node_id` to the free spot nearest `wanted` (see the module docstring)."""
    occupancy = Occupancy.of(graph, ignore=[node_id])
    graph.move(node_id, occupancy.free_spot(footprint(graph, node_id), wanted, orientation))


def place_beside(graph: Graph, node_id: str, near: str | None, orientation: Orientation = LEFT_TO_RIGHT) -> None:
    """Move `node_id` to the free spot nearest the spot after `near` along the flow (right of it, or below
    it top to bottom), or with no `near` (a Dataset added to a model), nearest the spot before the graph's
    first node (the leftmost, then the topmost; top to bottom, the topmost, then the leftmost), where a
    network starts."""
    axis = 0 if orientation is LEFT_TO_RIGHT else 1
    others = [node.position for n, node in graph.nodes.items() if n != node_id]
    if near is not None:
        rect = _rect(graph, near)
        wanted = _along(rect[:2], axis, rect[axis + 2] + GAP)
    elif others:
        first = min(others, key=lambda p: (p[axis], p[1 - axis]))
        wanted = _along(first, axis, -GAP - footprint(graph, node_id)[axis])
    else:
        wanted = (0.0, 0.0)
    place_node(graph, node_id, wanted, orientation)


def place_group(
    graph: Graph, node_ids: list[str], centre: Point | None = None, orientation: Orientation = LEFT_TO_RIGHT
) -> None:
    """Move the nodes together, keeping their arrangement, so that their bounding box lies in the free spot
    nearest where it is now, or nearest the box centred on `centre` (a paste under the pointer)."""
    if not node_ids:
        return
    occupancy = Occupancy.of(graph, ignore=node_ids)
    x0, y0, x1, y1 = _bounds(_rect(graph, n) for n in node_ids)
    wanted = (x0, y0) if centre is None else (centre[0] - (x1 - x0) / 2, centre[1] - (y1 - y0) / 2)
    x, y = occupancy.free_spot((x1 - x0, y1 - y0), wanted, orientation)
    for node_id in node_ids:
        px, py = graph.nodes[node_id].position
        graph.move(node_id, (px + x - x0, py + y - y0))


def place_between(
    graph: Graph,
    node_id: str,
    src: str,
    dst: str,
    wanted: Point | None = None,
    orientation: Orientation = LEFT_TO_RIGHT,
) -> None:
    """Place `node_id`, just inserted on the edge from `src` to `dst`, between the two: at `wanted` (by
    default centred between their centres) when that is free, else right after `src` along the flow, moving
    what lies past `dst`'s start on to make room (see the module docstring)."""
    size = footprint(graph, node_id)
    source, target = _rect(graph, src), _rect(graph, dst)
    (sx, sy), (tx, ty) = _centre(source), _centre(target)
    if wanted is None:
        wanted = ((sx + tx - size[0]) / 2, (sy + ty - size[1]) / 2)
    occupancy = Occupancy.of(graph, ignore=[node_id])
    if occupancy.is_free((*wanted, *size)):
        graph.move(node_id, wanted)
        return
    flow = 0 if orientation is LEFT_TO_RIGHT else 1
    if target[flow] >= source[flow] + source[flow + 2]:  # the target lies wholly after the source
        axis = flow
    else:  # across or against the direction: the axis on which the ends lie further apart, the flow's on a tie
        apart = (abs(tx - sx), abs(ty - sy))
        axis = flow if apart[flow] >= apart[1 - flow] else 1 - flow
    sign = 1.0 if (tx - sx, ty - sy)[axis] >= 0 else -1.0

    def span(rect: Rect) -> tuple[float, float]:
        """Where a rectangle starts and ends along the flow, in a frame where the flow runs forwards."""
        a, b = sign * rect[axis], sign * (rect[axis] + rect[axis + 2])
        return min(a, b), max(a, b)

    line = span(target)[0]
    if line <= span(source)[0]:  # the target does not start past the source: no "after" to make room in
        place_node(graph, node_id, wanted, orientation)
        return
    gap = min(max(line - span(source)[1], MARGIN), 2 * GAP)
    start = span(source)[1] + gap  # where the new node starts along the flow
    along = start if sign > 0 else -(start + size[axis])
    across = ((sy + ty) / 2 - size[1] / 2) if axis == 0 else ((sx + tx) / 2 - size[0] / 2)
    spot = (along, across) if axis == 0 else (across, along)
    shift = start + size[axis] + gap - line
    if shift > 0:
        for other, rect in occupancy.rects.items():
            if other != src and span(rect)[0] >= line:
                x, y = graph.nodes[other].position
                step = sign * shift
                graph.move(other, (x + step, y) if axis == 0 else (x, y + step))
    place_node(graph, node_id, spot, orientation)


def _rect(graph: Graph, node_id: str) -> Rect:
    return (*graph.nodes[node_id].position, *footprint(graph, node_id))


def _along(point: Point, axis: int, step: float) -> Point:
    """`point` moved by `step` along `axis` (0: x, 1: y)."""
    return (point[0] + step, point[1]) if axis == 0 else (point[0], point[1] + step)


def _bounds(rects: Iterable[Rect]) -> tuple[float, float, float, float]:
    """The box around the rectangles: left, top, right, bottom."""
    xs0, ys0, xs1, ys1 = zip(*((x, y, x + w, y + h) for x, y, w, h in rects), strict=True)
    return min(xs0), min(ys0), max(xs1), max(ys1)


def _centre(rect: Rect) -> Point:
    return rect[0] + rect[2] / 2, rect[1] + rect[3] / 2


def _cell(x: float, y: float) -> tuple[int, int]:
    return math.floor(x / CELL), math.floor(y / CELL)


def _nearest_outside(boxes: list[tuple[float, float, float, float]], x0: float, y0: float) -> Point:
    """The point nearest (x0, y0) inside none of the open boxes (x0, y0, x1, y1); of two as near, the one
    further from the row y0, then the lower, then the right (y is the axis across the flow).

    Such a point is (x0, y0) itself or lies on a box's border, so the rows tried are y0 and every box's top
    and bottom, nearest first; on each row the nearest free x is x0 or the end of the run of boxes over it.
    Boxes are kept in horizontal strips, so a row looks only at the boxes of its strip."""
    strips: dict[int, list[tuple[float, float, float, float]]] = {}
    for box in boxes:
        for strip in range(math.floor(box[1] / STRIP), math.floor(box[3] / STRIP) + 1):
            strips.setdefault(strip, []).append(box)
    rows = sorted({y0, *(b[1] for b in boxes), *(b[3] for b in boxes)}, key=lambda y: (abs(y - y0), -y))
    best, best_key = (x0, y0), (math.inf,)
    for y in rows:
        if abs(y - y0) > best_key[0]:  # this row and the ones after it are further than the best spot
            break
        over = strips.get(math.floor(y / STRIP), ())
        x = _nearest_free_x(sorted((b[0], b[2]) for b in over if b[1] < y < b[3]), x0)
        key = (round(math.hypot(x - x0, y - y0), TIE), -abs(y - y0), -y, -x)
        if key < best_key:
            best, best_key = (x, y), key
    return best


def _nearest_free_x(spans: list[tuple[float, float]], x0: float) -> float:
    """The x nearest x0 inside none of the open spans (sorted by start); to the right on a tie."""
    run_start = run_end = -math.inf
    for a, b in spans:
        if a >= run_end:  # a new run of touching-or-overlapping spans starts (touching ends stay free)
            if run_start < x0 < run_end:
                break
            run_start, run_end = a, b
        else:
            run_end = max(run_end, b)
    if not run_start < x0 < run_end:
        return x0
    return run_end if run_end - x0 <= x0 - run_start else run_start
