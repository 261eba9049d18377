"""The training step on a model compiled by torch.compile, with its cost said and cached, and eager as the
fallback.

On a network people actually train (a ResNet on CIFAR-sized images), the step is bound by arithmetic and
memory traffic rather than by launching kernels, which the CUDA graph already removes: inductor's fused
kernels (a batch norm and its ReLU in one pass, for instance) take time off each step. Compiling costs time
once, 13-24 s for a ResNet-18's step the first time and 5 s for its validation, about a second afterwards, since
inductor's caches (its FX graph cache and the kernels it built) live in netbuilder's cache folder ("compiled").
Measured on an H200 (docs/benchmarks.md), a ResNet-18 on CIFAR-sized images gains about 0.46 ms a step (2.28 ->
1.86 ms, and validation 15.6 -> 12.0 ms an epoch of 79 steps): a compile from the cache pays back within 5,000
steps, a first one after some 50,000. So only runs of COMPILE_FROM_STEPS or more, of convolutional networks on CUDA
of at least COMPILE_FROM_PARAMETERS parameters, are compiled, where the next run of the same network gains; a
shorter run starts at once (small networks gain nothing).

The model is compiled with static shapes for the full batches alone: the first full step compiles, eagerly,
before the CUDA graph captures it. The epoch's partial last batch, one step of many, takes the plain model (in
its own CUDA graph), since compiling for its size too cost as much again (19 s of a ResNet-18's first 54 s on
an H200) for a step a few tenths of a millisecond faster once an epoch. Should compiling fail, the step runs on
the model as it is for the rest of the run, and `reason` says why; nothing of the failed attempt stays (the
batch norm statistics its forward pass may have moved are put back), so the run goes on exactly as an eager one
would. The compiled wrapper is used for the step (and validation's graphs, graphed_evaluation.py) alone: the
model's state_dict and checkpoints see the plain model.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import torch
from torch import nn

from netbuilder.runtime.cache_folder import cache_folder
from netbuilder.runtime.weights import first_line

COMPILE_FROM_PARAMETERS = 1_000_000
COMPILE_FROM_STEPS = 20_000

ModelStep = Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def worth_compiling(model: nn.Module, memory_format: torch.memory_format, steps: int) -> bool:
    """Whether compiling pays on a run of `steps` steps: a convolutional network on CUDA (laid out channels last,
    see train.py's memory_format) of at least COMPILE_FROM_PARAMETERS parameters, for COMPILE_FROM_STEPS steps
    or more."""
    if memory_format != torch.channels_last or steps < COMPILE_FROM_STEPS:
        return False
    return sum(p.numel() for p in model.parameters()) >= COMPILE_FROM_PARAMETERS


def keep_compiled_kernels() -> None:
    """Point inductor's caches at netbuilder's cache folder (unless the person chose another place), with its
    FX graph and autograd caches on, so that the next run of the same network compiles in seconds."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_folder("compiled")))
    os.environ.setdefault("TRITON_CACHE_DIR", os.path.join(os.environ["TORCHINDUCTOR_CACHE_DIR"], "triton"))
    import torch._functorch.config
    import torch._inductor.config

    torch._inductor.config.fx_graph_cache = True
    torch._functorch.config.enable_autograd_cache = True


class CompiledStep:
    """`step(model, batch_x, batch_y)` on `model` compiled for batches of `batch_size`, compiling at the first with
    a note before and after (`note` hears them: what is being compiled, then how long it took or why it failed;
    `on_failure` is called when it failed); on the plain model for other sizes (an epoch's last batch)."""

    def __init__(
        self,
        step: ModelStep,
        model: nn.Module,
        batch_size: int,
        note: Callable[[str], None] = lambda text: None,
        on_failure: Callable[[], None] = lambda: None,
    ) -> None:
        keep_compiled_kernels()
        self.step = step
        self.model = model
        self.batch_size = batch_size
        self.on_failure = on_failure  # called once compiling has failed, before the step runs uncompiled
        self.compiled = torch.compile(model, dynamic=False)
        self.note = note
        self.seconds = 0.0  # spent compiling
        self.reason = ""  # why the step runs on the plain model, if it does
        self.ready = False  # compiled

    def __call__(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.reason or len(batch_x) != self.batch_size:
            return self.step(self.model, batch_x, batch_y)
        if self.ready:
            return self.step(self.compiled, batch_x, batch_y)
        return self._compile(batch_x, batch_y)

    def _compile(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The first full step, compiling for it; on failure, the step on the plain model."""
        self.note("compiling the step (a minute the first time; later runs read it from the cache)…")
        buffers = {name: buffer.clone() for name, buffer in self.model.named_buffers()}
        started = time.perf_counter()
        try:
            result = self.step(self.compiled, batch_x, batch_y)
            if batch_x.is_cuda:
                torch.cuda.synchronize()
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as err:
            with torch.no_grad():  # what the failed forward pass moved (batch norm statistics) goes back
                for name, buffer in self.model.named_buffers():
                    buffer.copy_(buffers[name])
            cause = getattr(err, "inner_exception", None) or err  # a backend's failure, as dynamo wraps it
            self.reason = f"compiling failed, so the step runs uncompiled: {type(cause).__name__}: {first_line(cause)}"
            self.note(self.reason)
            self.on_failure()
            return self.step(self.model, batch_x, batch_y)
        seconds = time.perf_counter() - started
        self.seconds += seconds
        self.ready = True
        self.note(f"compiled the step in {seconds:.1f} s")
        return result
