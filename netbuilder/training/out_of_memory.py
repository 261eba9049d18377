"""Running out of GPU memory, wherever in a run it happens (building the model, a step, capturing the step as a
CUDA graph, validation): how it is recognised, what the person is told to lower, and how the memory is let go.

One wording for the window and `netbuilder train` alike, naming the way to find a batch that fits; out of memory
before the first step (the data and the network) has its own, since no batch is taken yet.
"""

from __future__ import annotations

import gc

import torch

FIND_BATCH_SIZE = "Find batch size in the Training panel (or `netbuilder train --batch-size auto`)"


def is_out_of_memory(err: BaseException) -> bool:
    """Whether `err` is the GPU running out of memory, or an error raised while handling that: a CUDA graph's
    capture that runs out of memory ends with the capture's own error, the allocator's one in its context."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, torch.cuda.OutOfMemoryError):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


def out_of_memory_message(batch_size: int, accumulation: int = 1) -> str:
    """What to tell a person whose run ran out of GPU memory in a step or in validation, with batches of
    `batch_size` sent through in `accumulation` parts: what to lower, how to keep the batch in less memory (more
    parts), and how to find a batch that fits."""
    smaller = f" (such as {batch_size // 2:,})" if batch_size > 1 else ""
    parts = 2 * accumulation
    keep = (
        f", or keep it and set accumulation to {parts} (each batch in {parts} parts, one after the other: the same "
        "step in the memory of one part)"
        if batch_size >= parts
        else ""
    )
    return (
        f"the GPU ran out of memory training with batches of {batch_size:,}: lower the batch size{smaller}{keep}; "
        f"{FIND_BATCH_SIZE} finds the largest that fits. A smaller network needs less memory too"
    )


def out_of_memory_at_start() -> str:
    """What to tell a person whose run ran out of GPU memory before its first step, loading the data onto the
    GPU and building the network there (no batch is taken yet, so the batch size is not what to lower)."""
    return (
        "the GPU ran out of memory loading the data and building the network, before any batch: make the network "
        "smaller (`netbuilder summary` lists its largest layers), or train on the CPU (device cpu)"
    )


def release_gpu_memory(*optimizers: torch.optim.Optimizer) -> None:
    """Give what a failed step held back to the GPU: the gradients, whatever only reference cycles still hold
    (a traceback's frames keep a step's activations), and the allocator's cached blocks. Call it once the
    exception is handled, when its traceback is gone."""
    for optimizer in optimizers:
        optimizer.zero_grad(set_to_none=True)
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
