"""What forward() does with the (output, state) pair of an RNN, LSTM or GRU call, read from the fx graph.

A recurrent block gives one tensor: the output at every step (output "sequence") or the top layer's final
hidden state (output "last", which for a bidirectional layer joins both directions' final states). The usual
ways of taking those from the pair are recognised:

    out, _ = self.lstm(x)             out            -> sequence
    out[:, -1]  /  out[:, -1, :]      one direction  -> last (the output at the last step is the final state)
    _, (h, c) = self.lstm(x); h[-1]   one direction  -> last
    torch.cat([h[-2], h[-1]], dim=1)  bidirectional  -> last

Everything else that reads the pair (the cell state c, a lower layer's state, the pair itself) is returned
as unsupported with a reason, so the importer names it rather than guessing.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import torch
import torch.fx
from torch import nn

_LAST_ONLY = "only the top layer's final hidden state is a block output (the recurrent block's output 'last')"


@dataclass
class RecurrentUses:
    """fx nodes that equal the block's sequence output, its 'last' output, nodes that only unpack the pair
    (no block of their own), and the unsupported ones with why."""

    sequence: list[torch.fx.Node] = field(default_factory=list)
    last: list[torch.fx.Node] = field(default_factory=list)
    plumbing: set[torch.fx.Node] = field(default_factory=set)
    unsupported: list[tuple[torch.fx.Node, str]] = field(default_factory=list)


def recurrent_uses(call: torch.fx.Node, layer: nn.RNNBase) -> RecurrentUses:
    """Sort the readers of `call`'s (output, h_n) or (output, (h_n, c_n)) pair; see the module docstring."""
    uses = RecurrentUses()
    for user in call.users:
        index = _item(user)
        if index == 0:
            _read_sequence(user, layer, uses)
        elif index == 1 and isinstance(layer, nn.LSTM):
            _read_lstm_state(user, layer, uses)
        elif index == 1:
            _read_hidden(user, layer, uses)
        else:
            uses.unsupported.append((user, "the layer's (output, state) pair is used whole"))
    return uses


def _read_sequence(out: torch.fx.Node, layer: nn.RNNBase, uses: RecurrentUses) -> None:
    steps = [u for u in out.users if not layer.bidirectional and _is_last_step(u)]
    uses.last.extend(steps)
    if any(u not in steps for u in out.users):
        uses.sequence.append(out)
    else:
        uses.plumbing.add(out)


def _read_lstm_state(state: torch.fx.Node, layer: nn.LSTM, uses: RecurrentUses) -> None:
    uses.plumbing.add(state)
    for user in state.users:
        index = _item(user)
        if index == 0:
            _read_hidden(user, layer, uses)
        elif index == 1 and user.users:
            uses.unsupported.append((user, "the cell state c_n has no block output; " + _LAST_ONLY))
        elif index == 1:
            uses.plumbing.add(user)
        else:
            uses.unsupported.append((user, "the state pair (h_n, c_n) is used whole; " + _LAST_ONLY))


def _read_hidden(hidden: torch.fx.Node, layer: nn.RNNBase, uses: RecurrentUses) -> None:
    """h_n is (num_layers * directions, N, hidden_size): the top layer's rows are the last one or two."""
    uses.plumbing.add(hidden)
    rows = layer.num_layers * (2 if layer.bidirectional else 1)
    top = {u: index % rows for u in hidden.users if isinstance(index := _item(u), int) and -rows <= index < rows}
    for user in hidden.users:
        if user not in top:
            uses.unsupported.append((user, "h_n is used whole; " + _LAST_ONLY))
        elif not layer.bidirectional and top[user] == rows - 1:
            uses.last.append(user)
        elif layer.bidirectional and top[user] in (rows - 2, rows - 1):
            _read_bidirectional_row(user, top, rows, uses)
        else:
            uses.unsupported.append((user, "a lower layer's final state; " + _LAST_ONLY))


def _read_bidirectional_row(row: torch.fx.Node, top: dict[torch.fx.Node, int], rows: int, uses: RecurrentUses) -> None:
    """h[-2] (forward) and h[-1] (backward) are the block's 'last' only when joined in that order on dim 1."""
    uses.plumbing.add(row)
    for user in row.users:
        parts = user.args[0] if user.target is torch.cat and user.args else ()
        joined = (
            isinstance(parts, list | tuple)
            and [top.get(p) for p in parts] == [rows - 2, rows - 1]
            and _cat_dim(user) in (1, -1)
        )
        if joined:
            if user not in uses.last:
                uses.last.append(user)
        else:
            uses.unsupported.append(
                (user, "one direction's final state; the block's 'last' joins torch.cat([h[-2], h[-1]], dim=1)")
            )


def _item(node: torch.fx.Node) -> object:
    """The index of `node` if it is `value[index]`, else None."""
    if node.op == "call_function" and node.target is operator.getitem and len(node.args) == 2:
        return node.args[1]
    return None


def _is_last_step(node: torch.fx.Node) -> bool:
    """`out[:, -1]` or `out[:, -1, :]` (or the last index written out) on (N, L, features)."""
    index = _item(node)
    if not isinstance(index, tuple) or len(index) not in (2, 3):
        return False
    every = slice(None, None, None)
    shape = node.args[0].meta.get("tensor_meta").shape
    step = index[1]
    return (
        index[0] == every
        and all(i == every for i in index[2:])
        and isinstance(step, int)
        and step in (-1, shape[1] - 1)
    )


def _cat_dim(node: torch.fx.Node) -> object:
    return node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
