"""What augmentation costs against the training step it feeds: train.py's own augment() (and mix()) on a batch
of 3x32x32 images against one training step of torchvision's ResNet-18 on that batch (SGD, bf16 autocast on
CUDA, channels_last on CUDA unless --no-channels-last), in this process, on this device.

Target: each augmentation, and all of them at once, adds under 10 % to a step as the engine runs it. On CUDA the
engine's step is augment(), mix() and train_step together, replayed as one CUDA graph with the run's generator
registered (training/cuda_graph.py), so the figures are: the step's graph without augmentation, the step's graph
with it ("in the graph", what the app's runs pay) and, for the exported train.py, which runs them eagerly, the
plain step's graph fed batches augmented eagerly before it ("eager before it"). On the CPU both are the eager
step. The functions are those the Dataset's options write into train.py (codegen/augment_code.py). Each figure
is the fastest of several rounds (a busy machine only ever adds time). "ops per batch" counts the operations one
augment() and mix() run: in a CUDA graph each is a kernel costing a few microseconds however small its tensor;
counted by torch's dispatcher on the CPU (less views and allocations, which launch nothing), the same anywhere.
Run: `.venv/bin/python benchmarks/bench_augment.py [--device cpu|cuda] [--batch 512] [--rounds 5]`
(on CUDA the batch is 512; on the CPU it defaults to 64 and fewer steps).
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import torch
import torchvision
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from netbuilder.codegen.augment_code import Augmentation
from netbuilder.training.cuda_graph import capturing

sys.path.insert(0, str(Path(__file__).parent))
from bench_training import fastest

TARGET = 0.10
CLASSES = 10
SHAPE = (3, 32, 32)
WORKLOADS = {
    "flip + crop (today's)": {"mode": "crop+flip"},
    "rotation 15": {"rotation": 15.0},
    "resized crop 0.35": {"crop_scale": 0.35},
    "colour jitter 0.4": {"jitter": 0.4},
    "erasing 0.5": {"erasing": 0.5},
    "mixup 0.2": {"mixup": 0.2},
    "cutmix 1.0": {"cutmix": 1.0},
    "all at once": {
        "mode": "crop+flip",
        "rotation": 15.0,
        "crop_scale": 0.35,
        "jitter": 0.4,
        "erasing": 0.5,
        "mixup": 0.2,
        "cutmix": 1.0,
    },
}


def augmentation_functions(options: dict):
    """train.py's augment() and mix() for these Dataset options (None for what the options leave out)."""
    namespace = {"functools": functools, "torch": torch, "nn": nn, "CLASS_NAMES": [str(i) for i in range(CLASSES)]}
    augmentation = Augmentation(**options, channels=SHAPE[0], padding=SHAPE[-1] // 8)
    exec("\n\n\n".join(augmentation.functions()), namespace)  # train.py's own text
    return namespace.get("augment"), namespace.get("mix")


class OpCounter(TorchDispatchMode):
    """Counts the tensor operations run inside it that launch work: views and bare allocations launch nothing,
    nor does wrapping a Python number for an operation (scalar_tensor)."""

    LAUNCH_NOTHING = frozenset({"aten.empty.memory_format", "aten.empty_strided.default", "aten.scalar_tensor.default"})

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if not func.is_view and str(func) not in self.LAUNCH_NOTHING:
            self.count += 1
        return func(*args, **(kwargs or {}))


def ops_per_batch(options: dict, batch: int = 64) -> int:
    """The operations of a call of train.py's augment() and mix() for these options, on the CPU: the second call,
    as every step after the first runs them (the first also makes the constants that `evenly` keeps)."""
    augment, mix = augmentation_functions(options)
    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(batch, *SHAPE), torch.randint(CLASSES, (batch,))
    for _ in range(2):
        with OpCounter() as counter:
            augmented = augment(x, generator) if augment else x
            if mix:
                mix(augmented, y, generator)
    return counter.count


class Step:
    """One ResNet-18 step (forward, loss, backward, SGD) on what `feed(x)` last put into its input buffer, with
    `options`' augmentation first, inside the step as the engine runs it; on CUDA captured and replayed as a CUDA
    graph (`graphed`), the run's generator registered with it. `augmented(x, y)` is augment() and mix() alone, which
    main() also launches op by op before a plain step: train.py's way."""

    def __init__(self, device: torch.device, batch: int, memory_format: torch.memory_format, options: dict | None):
        self.model = torchvision.models.resnet18(num_classes=CLASSES).to(device).to(memory_format=memory_format)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.criterion = nn.CrossEntropyLoss()
        self.static_x = torch.rand(batch, *SHAPE, device=device).contiguous(memory_format=memory_format)
        self.static_y = torch.randint(CLASSES, (batch,), device=device)
        self.generator = torch.Generator(device).manual_seed(0)
        self.augment, self.mix = augmentation_functions(options) if options else (None, None)
        self.amp = torch.bfloat16 if device.type == "cuda" else None
        self.graph: torch.cuda.CUDAGraph | None = None

    def augmented(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.augment(x, self.generator) if self.augment else x
        return self.mix(x, y, self.generator) if self.mix else (x, y)

    def eager(self) -> None:
        batch_x, targets = self.augmented(self.static_x, self.static_y)
        # without the weight cache, which a CUDA graph cannot hold (as train.py's train_step)
        amp = self.amp or torch.bfloat16
        with torch.autocast(batch_x.device.type, dtype=amp, enabled=self.amp is not None, cache_enabled=False):
            loss = self.criterion(self.model(batch_x), targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def capture(self) -> None:
        """Warm up on a side stream (making the optimizer's state), then capture, as the engine does."""
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self.eager()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with capturing(self.graph, None, side, (self.generator,) if self.augment or self.mix else ()):
            self.eager()

    def feed(self, x: torch.Tensor) -> None:
        self.static_x.copy_(x)

    def __call__(self) -> None:
        self.graph.replay() if self.graph is not None else self.eager()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=0, help="images per batch (0: 512 on CUDA, 64 on the CPU)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-channels-last", action="store_true", help="the step in the default memory format")
    parser.add_argument("--eager", action="store_true", help="on CUDA too, the step op by op (no CUDA graph)")
    args = parser.parse_args()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    batch = args.batch or (512 if cuda else 64)
    steps = 20 if cuda else 3
    channels_last = cuda and not args.no_channels_last
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    graphed = cuda and not args.eager
    where = torch.cuda.get_device_name(device) if cuda else "CPU"
    print(f"device {where}, torch {torch.__version__}, batch {batch} x {'x'.join(map(str, SHAPE))}")
    memory = "channels_last" if channels_last else "contiguous"
    kind = "CUDA graph" if cuda and not args.eager else "eager"
    print(f"ResNet-18 training step ({'bf16, ' if cuda else ''}{memory}, {kind})")
    images = torch.rand(batch, *SHAPE, device=device)
    plain = Step(device, batch, memory_format, None)
    if graphed:
        plain.capture()
    bare = fastest(lambda: (plain.feed(images), plain()), device, steps, args.rounds)
    print(f"the step alone: {bare * 1e3:.3f} ms; target: augmentation in the step adds under {TARGET:.0%}")
    print(
        f"{'augmentation':<24} {'ops per batch':>13} {'in the step ms':>15} {'added':>7}  "
        f"{'eager before it ms':>19} {'added':>7}"
    )
    for name, options in WORKLOADS.items():
        step = Step(device, batch, memory_format, options)
        if graphed:
            step.capture()
        inside = fastest(lambda step=step: (step.feed(images), step()), device, steps, args.rounds)

        def eagerly_then_step(step=step) -> None:  # train.py's way: augment() and mix() op by op, then the step
            plain.feed(step.augmented(images, plain.static_y)[0])
            plain()

        before = fastest(eagerly_then_step, device, steps, args.rounds)
        added, added_before = (inside - bare) / bare, (before - bare) / bare
        verdict = "ok" if added < TARGET else "OVER"
        ops = ops_per_batch(options)
        print(
            f"{name:<24} {ops:13d} {inside * 1e3:15.3f} {added:7.1%}  {before * 1e3:19.3f} {added_before:7.1%}  "
            f"{verdict}"
        )
        del step


if __name__ == "__main__":
    main()
