"""Auto layout: the graph drawn in layers, as a person would draw it, left to right or top to bottom.

A node's layer is its longest path from a source (a source that feeds only later layers moves up to just
before its first consumer, so a second input waits beside the merge that takes it). An edge that spans
several layers gets a dummy point in each layer it crosses, so that the ordering sweeps (barycentres, down
and up, a few passes, the order with the fewest crossings kept) know where it runs; dummies take no room.
The longest chain of the model then sits on one straight line, and every other node packs beside it, as
near to its neighbours as the order allows (least squares, with the chain pinned): a downsample or a branch
runs beside the chain rather than centred across it. Losses and optimizers follow the model's last layer,
beside it on the far side, so the target's long edge runs past the model rather than through it.

Sizes come from `footprint`, so nodes never overlap: layers lie apart by their thickest node plus a gap,
and the nodes of a layer by their size plus a gap. Separate pieces of a graph are laid out each on its own
and stacked beside one another in the graph's order. Everything is linear or n log n in nodes plus dummies.
"""

from __future__ import annotations

from collections import deque
from enum import Enum

from netbuilder.analysis.footprint import footprint
from netbuilder.blocks.spec import LOSS_ROLE, OPTIMIZER
from netbuilder.graph import Graph


class Orientation(Enum):
    """Which way the data flows in an auto layout: the layers are columns (left to right) or rows."""

    LEFT_TO_RIGHT = "left_to_right"
    TOP_TO_BOTTOM = "top_to_bottom"


# Between layers: room for an edge's curve and the shape label drawn at its middle (the ports are on the
# nodes' sides, so top to bottom an edge crosses the gap diagonally and needs it taller than the label).
LAYER_GAP = {Orientation.LEFT_TO_RIGHT: 82.0, Orientation.TOP_TO_BOTTOM: 64.0}
# Between the nodes of one layer: room for the edges that leave and enter their side ports.
CROSS_GAP = {Orientation.LEFT_TO_RIGHT: 40.0, Orientation.TOP_TO_BOTTOM: 56.0}
SWEEPS = 4  # down-and-up ordering passes; crossings rarely fall after the third
MIDDLE = 0.5  # where an edge meets a dummy point: a port's place down a node's side is in (0, 1)

_Link = tuple[int, float, float]  # (the node at the other end, where the edge leaves, where it enters)


def layered_positions(
    graph: Graph, orientation: Orientation = Orientation.LEFT_TO_RIGHT
) -> dict[str, tuple[float, float]]:
    """A top-left position for every node of `graph`, laid out in layers along `orientation`.

    Deterministic: the same graph gives the same positions. The model's longest chain shares one y (left to
    right) or one x (top to bottom); no node's rectangle comes within the gaps of another's.
    """
    ids = list(graph.nodes)
    if not ids:
        return {}
    horizontal = orientation is Orientation.LEFT_TO_RIGHT
    sizes = [footprint(graph, node_id) for node_id in ids]
    net = _Net(graph, ids)
    along = [width if horizontal else height for width, height in sizes]
    across = [height if horizontal else width for width, height in sizes]
    positions: dict[str, tuple[float, float]] = {}
    start = 0.0
    for number, piece in enumerate(net.pieces()):
        placed = _Piece(net, piece, along, across, orientation).place()
        low = min(cross for _, cross in placed.values())
        high = max(cross + across[v] for v, (_, cross) in placed.items())
        shift = 0.0 if number == 0 else start - low
        start = high + shift + 2 * CROSS_GAP[orientation]
        for v, (layer_at, cross) in placed.items():
            x, y = (layer_at, cross + shift) if horizontal else (cross + shift, layer_at)
            positions[ids[v]] = (float(round(x)), float(round(y)))
    return positions


class _Net:
    """The graph as index lists: each node's distinct predecessors (in input port order) and successors,
    its incoming edges with where on each end they attach, and whether it trains (a loss or an optimizer)
    rather than computes."""

    def __init__(self, graph: Graph, ids: list[str]) -> None:
        index = {node_id: i for i, node_id in enumerate(ids)}
        self.size = len(ids)
        self.preds: list[list[int]] = [[] for _ in ids]
        self.succs: list[list[int]] = [[] for _ in ids]
        # (source, where it leaves the source, where it enters): the port's place down its side, in (0, 1)
        self.edges_in: list[list[tuple[int, float, float]]] = [[] for _ in ids]
        self.trains = [graph.spec(node_id).role in (LOSS_ROLE, OPTIMIZER) for node_id in ids]
        outputs = [[port.name for port in graph.spec(node_id).outputs] for node_id in ids]
        for v, node_id in enumerate(ids):
            edges = graph.inputs_of(node_id)
            ports = graph.input_ports(node_id)
            for number, port in enumerate(ports):
                edge = edges.get(port.name)
                if edge is None:
                    continue
                p = index[edge.src]
                leaves = outputs[p].index(edge.src_port) if edge.src_port in outputs[p] else 0
                self.edges_in[v].append((p, (leaves + 1) / (len(outputs[p]) + 1), (number + 1) / (len(ports) + 1)))
                if p not in self.preds[v]:
                    self.preds[v].append(p)
            for p in self.preds[v]:
                self.succs[p].append(v)

    def pieces(self) -> list[list[int]]:
        """The weakly connected pieces in graph order (of their first node), each in graph order."""
        seen = [False] * self.size
        pieces = []
        for root in range(self.size):
            if seen[root]:
                continue
            seen[root] = True
            piece, todo = [], [root]
            while todo:
                v = todo.pop()
                piece.append(v)
                for w in self.preds[v] + self.succs[v]:
                    if not seen[w]:
                        seen[w] = True
                        todo.append(w)
            pieces.append(sorted(piece))
        return pieces


class _Piece:
    """One connected piece laid out: layers, the main chain, the order in each layer, then coordinates."""

    def __init__(
        self, net: _Net, nodes: list[int], along: list[float], across: list[float], orientation: Orientation
    ) -> None:
        self.net = net
        self.nodes = nodes
        self.along = along
        self.across = across
        self.gap = CROSS_GAP[orientation]
        self.layer_gap = LAYER_GAP[orientation]
        self.layer = self._layers()
        self.chain = self._main_chain()

    def place(self) -> dict[int, tuple[float, float]]:
        """Each node's (position along the flow, position across it), the main chain across at 0."""
        rows = self._ordered_rows()
        starts, at = [], 0.0
        for row in rows:
            starts.append(at)
            at += max(self.along[v] for v in row) + self.layer_gap
        cross = self._coordinates(rows)
        return {v: (starts[self.layer[v]], cross[v]) for v in self.nodes}

    # ---- layers ----------------------------------------------------------------------------------------

    def _layers(self) -> dict[int, int]:
        preds, succs = self.net.preds, self.net.succs
        waiting = {v: len(preds[v]) for v in self.nodes}
        ready = deque(v for v in self.nodes if not waiting[v])
        layer: dict[int, int] = {}
        order = []
        while ready:
            v = ready.popleft()
            order.append(v)
            layer[v] = max((layer[p] + 1 for p in preds[v]), default=0)
            for s in succs[v]:
                waiting[s] -= 1
                if not waiting[s]:
                    ready.append(s)
        for v in order:
            if not preds[v] and succs[v]:
                # a source waits beside its first consumer; its successors' layers never depend on it
                layer[v] = min(layer[s] for s in succs[v]) - 1
        return layer

    def _main_chain(self) -> list[int]:
        """The longest chain of the model: from its deepest node back through predecessors one layer up
        (the first input port's first), so every layer down to the chain's start holds one of its nodes."""
        trains = self.net.trains
        model = [v for v in self.nodes if not trains[v]] or self.nodes
        chain = [max(model, key=lambda v: (self.layer[v], -v))]
        while True:
            v = chain[-1]
            before = [p for p in self.net.preds[v] if self.layer[p] == self.layer[v] - 1 and not trains[p]]
            if not before:
                return chain[::-1]
            chain.append(before[0])

    # ---- order within layers ---------------------------------------------------------------------------

    def _ordered_rows(self) -> list[list[int]]:
        """The real nodes of each layer in order: crossing reduction over nodes and dummies (an edge's place
        is its node's and its port's, so the branches into a merge come in the order of its inputs), then
        losses and optimizers moved after the model's nodes."""
        size = self.net.size
        ups: dict[int, list[_Link]] = {v: [] for v in self.nodes}
        downs: dict[int, list[_Link]] = {v: [] for v in self.nodes}
        rows: list[list[int]] = [[] for _ in range(max(self.layer.values()) + 1)]
        main = set(self.chain)
        for v in sorted(self.nodes, key=lambda v: v not in main):
            rows[self.layer[v]].append(v)
        dummy = size
        for v in self.nodes:
            for p, leaves, enters in self.net.edges_in[v]:
                previous, out = p, leaves
                for between in range(self.layer[p] + 1, self.layer[v]):
                    ups[dummy], downs[dummy] = [(previous, out, MIDDLE)], []
                    downs[previous].append((dummy, out, MIDDLE))
                    rows[between].append(dummy)
                    previous, out, dummy = dummy, MIDDLE, dummy + 1
                downs[previous].append((v, out, enters))
                ups[v].append((previous, out, enters))
        position = {x: i for row in rows for i, x in enumerate(row)}
        _sweep(rows, ups, position, range(1, len(rows)), upward=False)
        best, fewest = [row[:] for row in rows], _crossings(rows, downs, position)
        for _ in range(SWEEPS):
            if not fewest:
                break
            _sweep(rows, downs, position, range(len(rows) - 2, -1, -1), upward=True)
            _sweep(rows, ups, position, range(1, len(rows)), upward=False)
            crossings = _crossings(rows, downs, position)
            if crossings < fewest:
                best, fewest = [row[:] for row in rows], crossings
        trains = self.net.trains
        return [sorted((x for x in row if x < size), key=lambda x: trains[x]) for row in best]

    # ---- coordinates across the flow -------------------------------------------------------------------

    def _coordinates(self, rows: list[list[int]]) -> dict[int, float]:
        """Across-the-flow positions: the chain at 0, the rest as near the median of its neighbours as
        the order and the gaps allow; passes down, up and down again, so a node follows its inputs last."""
        cross = dict.fromkeys(self.nodes, 0.0)
        pinned = {self.layer[v]: v for v in self.chain}
        preds, succs, trains = self.net.preds, self.net.succs, self.net.trains

        def from_inputs(v: int) -> float:
            if trains[v]:
                computing = [p for p in preds[v] if not trains[p]]
                if computing:  # beside the model, past the nodes it reads
                    return max(cross[p] + self.across[p] for p in computing) + self.gap
            return _median([cross[p] for p in preds[v]], cross[v])

        def from_outputs(v: int) -> float:
            return cross[v] if trains[v] else _median([cross[s] for s in succs[v] if not trains[s]], cross[v])

        for desired, order in ((from_inputs, rows), (from_outputs, rows[::-1]), (from_inputs, rows)):
            for row in order:
                pin = pinned.get(self.layer[row[0]])
                packed = _pack(
                    [self.across[v] for v in row],
                    [desired(v) for v in row],
                    self.gap,
                    row.index(pin) if pin is not None else None,
                )
                cross.update(zip(row, packed, strict=True))
        return cross


def _sweep(
    rows: list[list[int]], neighbours: dict[int, list[_Link]], position: dict[int, int], order: range, upward: bool
) -> None:
    """Reorder each row of `order` by the mean place of its nodes' edges in the row just visited (a node's
    position there plus the port's place on it; a node without any keeps its place); ties keep the order."""
    end = 2 if upward else 1  # the place at the visited row's end of a link: where it enters, or leaves
    for i in order:
        row = rows[i]

        def key(x: int) -> tuple[float, int]:
            near = neighbours[x]
            if not near:
                return (position[x], position[x])
            return (sum(position[link[0]] + link[end] for link in near) / len(near), position[x])

        row.sort(key=key)
        for j, x in enumerate(row):
            position[x] = j


def _crossings(rows: list[list[int]], downs: dict[int, list[_Link]], position: dict[int, int]) -> int:
    """How many pairs of edges cross between neighbouring rows (ports taken into account): inversions of
    the lower ends in the order of the upper ones, counted with a Fenwick tree."""
    total = 0
    for i in range(len(rows) - 1):
        pairs = sorted((position[x] + leaves, position[y] + enters) for x in rows[i] for y, leaves, enters in downs[x])
        rank = {place: number for number, place in enumerate(sorted({lower for _, lower in pairs}))}
        ends = [rank[lower] for _, lower in pairs]
        width = len(rank)
        tree = [0] * (width + 1)
        for seen, end in enumerate(ends):
            at_most = 0
            k = end + 1
            while k:
                at_most += tree[k]
                k -= k & -k
            total += seen - at_most
            k = end + 1
            while k <= width:
                tree[k] += 1
                k += k & -k
    return total


def _median(values: list[float], default: float) -> float:
    if not values:
        return default
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _pack(sizes: list[float], desired: list[float], gap: float, pinned: int | None) -> list[float]:
    """Positions in row order, each at least the previous one's end plus `gap`, as near to `desired` as
    possible in least squares; the `pinned` one (an index) stays at 0 and the others keep to its sides.

    Subtracting each node's offset in a tightly packed row turns the gaps into "non-decreasing", which
    pool-adjacent-violators solves exactly in one pass; clipping that solution keeps the pinned node's sides.
    """
    offsets, at = [], 0.0
    for size in sizes:
        offsets.append(at)
        at += size + gap
    targets = [want - offset for want, offset in zip(desired, offsets, strict=True)]
    if pinned is None:
        shifted = _non_decreasing(targets)
    else:
        fixed = -offsets[pinned]
        shifted = (
            [min(value, fixed) for value in _non_decreasing(targets[:pinned])]
            + [fixed]
            + [max(value, fixed) for value in _non_decreasing(targets[pinned + 1 :])]
        )
    return [value + offset for value, offset in zip(shifted, offsets, strict=True)]


def _non_decreasing(targets: list[float]) -> list[float]:
    """The non-decreasing sequence nearest to `targets` in least squares (pool adjacent violators)."""
    blocks: list[tuple[float, int]] = []  # (mean, count)
    for target in targets:
        mean, count = target, 1
        while blocks and blocks[-1][0] > mean:
            before, n = blocks.pop()
            mean, count = (before * n + mean * count) / (n + count), n + count
        blocks.append((mean, count))
    return [mean for mean, count in blocks for _ in range(count)]
