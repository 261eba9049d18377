"""Each epoch's order as train.py draws it, and drawn ahead without changing what a checkpoint keeps."""

from __future__ import annotations

import torch

from netbuilder.training.epoch_order import EpochOrder


def train_py_orders(size: int, seed: int, epochs: int) -> list[torch.Tensor]:
    """What train.py's train() draws: its own generator seeded with seed + 1, one randperm an epoch."""
    shuffle = torch.Generator().manual_seed(seed + 1)
    return [torch.randperm(size, generator=shuffle) for _ in range(epochs)]


def test_drawn_now_or_ahead_the_orders_are_train_pys():
    expected = train_py_orders(50, 7, 4)
    orders = EpochOrder(50, 7, torch.device("cpu"))
    drawn = [orders.draw()]
    orders.draw_ahead()
    orders.draw_ahead()  # once drawn ahead, drawing ahead again draws nothing more
    drawn += [orders.draw(), orders.draw()]
    orders.draw_ahead()
    drawn.append(orders.draw())
    assert all(torch.equal(a, b) for a, b in zip(drawn, expected, strict=True))


def test_the_state_kept_is_the_one_before_the_order_drawn_ahead():
    expected = train_py_orders(50, 3, 3)
    orders = EpochOrder(50, 3, torch.device("cpu"))
    orders.draw()
    before = orders.state()
    orders.draw_ahead()
    assert torch.equal(orders.state(), before)  # a checkpoint saved now resumes before the draw
    resumed = EpochOrder(50, 3, torch.device("cpu"))
    resumed.load_state(orders.state())
    assert torch.equal(resumed.draw(), expected[1]) and torch.equal(resumed.draw(), expected[2])
    orders.load_state(before)  # loading drops the order drawn ahead: the next is drawn from the state loaded
    assert torch.equal(orders.draw(), expected[1])
