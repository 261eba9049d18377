"""Each epoch's order of the training samples, drawn as train.py's train() draws it, and drawn ahead of time.

train() shuffles with a CPU generator of its own, seeded with seed + 1: one torch.randperm of the training part an
epoch. It gathers batches of data in memory on the device by index, while a DataLoader (a streamed part) takes
its order from the CPU. The engine draws the same numbers in the same order, so its epochs are train.py's.

The engine draws the next epoch's permutation early (`draw_ahead`), once an epoch's last step is launched and
while the GPU still works through the steps queued before it. Drawn at the epoch's start, the draw and its copy
kept the GPU waiting at every epoch (2-5 ms on an H200's host, of a 160 ms ResNet-18/CIFAR epoch). Drawing early
moves the generator on, so `state()` gives the generator as it was before that draw: what a checkpoint keeps, so
that a run resumed from it draws the order an uninterrupted run draws.
"""

from __future__ import annotations

import torch


class EpochOrder:
    """Permutations of `size` samples on `device`, from train.py's shuffling generator for `seed`."""

    def __init__(self, size: int, seed: int, device: torch.device) -> None:
        self.size = size
        self.device = device
        self._generator = torch.Generator().manual_seed(seed + 1)
        self._ahead: tuple[torch.Tensor, torch.Tensor] | None = None  # (the state before it, the next permutation)

    def draw(self) -> torch.Tensor:
        """This epoch's permutation: the one drawn ahead, or one drawn now."""
        if self._ahead is None:
            return self._permutation()
        permutation, self._ahead = self._ahead[1], None
        return permutation

    def draw_ahead(self) -> None:
        """Draw the next epoch's permutation now (unless it is drawn already)."""
        if self._ahead is None:
            before = self._generator.get_state()
            self._ahead = (before, self._permutation())

    def state(self) -> torch.Tensor:
        """The generator's state as a checkpoint keeps it: before any permutation drawn ahead."""
        return self._ahead[0] if self._ahead is not None else self._generator.get_state()

    def load_state(self, state: torch.Tensor) -> None:
        """Go on from `state` (as `state()` gave it); a permutation drawn ahead is dropped."""
        self._generator.set_state(state.cpu())
        self._ahead = None

    def _permutation(self) -> torch.Tensor:
        return torch.randperm(self.size, generator=self._generator).to(self.device)
