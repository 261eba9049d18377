"""Running a file whose inputs have a fixed batch size (LiteRT's .tflite, ExecuTorch's .pte) on any number of
samples: in pieces of that size, the last one padded with zeros and its padding dropped from the outputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

Run = Callable[[tuple[torch.Tensor, ...]], Sequence[torch.Tensor]]
"""One call of the file on exactly its batch size: the inputs in forward()'s order, the outputs in its order."""


def in_fixed_batches(run: Run, batch: int) -> Callable[..., torch.Tensor | tuple[torch.Tensor, ...]]:
    """A callable taking forward()'s inputs with any batch size and returning what forward() returns (one
    tensor, or a tuple for several outputs), made from `run`, which only takes `batch` samples at a time.
    Each output must have the batch as its first dimension, as every network output here has."""

    def call(*inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        total = inputs[0].shape[0]
        pieces: list[list[torch.Tensor]] = []
        for start in range(0, total, batch):
            chunk = [tensor[start : start + batch] for tensor in inputs]
            real = chunk[0].shape[0]
            if real < batch:  # the padding rows are computed and thrown away: samples do not mix in eval
                chunk = [torch.cat([t, t.new_zeros((batch - real, *t.shape[1:]))]) for t in chunk]
            pieces.append([output[:real] for output in run(tuple(chunk))])
        outputs = tuple(torch.cat(parts) for parts in zip(*pieces, strict=True))
        return outputs[0] if len(outputs) == 1 else outputs

    return call
