"""What augmentation costs against the training step it feeds: train.py's own augment() (and mix()) on a batch
of 3x32x32 images against one training step of torchvision's ResNet-18 on that batch (SGD, bf16 autocast on
CUDA, channels_last on CUDA unless --no-channels-last, replayed as a CUDA graph on CUDA as the engine replays
its step), in this process, on this device.

Target: each augmentation, and all of them at once, adds under 10 % to a step. Three figures each: augment alone
(calls back to back: on a GPU bound by its kernel launches, an upper bound), the loop of steps fed the plain
batch, and the loop fed augmented batches; "added" is what the augmentation adds to the loop, where its launches
overlap the step running on the GPU as they do in training. The functions are those the Dataset's options write
into train.py (codegen/augment_code.py), executed as the engine runs them: eagerly, outside the step's CUDA
graph, drawing from a generator on the device. Each figure is the fastest of several rounds (a busy machine
only ever adds time).
Run: `.venv/bin/python benchmarks/bench_augment.py [--device cpu|cuda] [--batch 512] [--rounds 5]`
(on CUDA the batch is 512; on the CPU it defaults to 64 and fewer steps).
"""

from __future__ import annotations

import argparse
import time

import torch
import torchvision
from torch import nn

from netbuilder.codegen.augment_code import Augmentation

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


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def fastest(work, device: torch.device, steps: int, rounds: int) -> float:
    """Seconds per call of `work`: the fastest of `rounds` rounds of `steps` calls, after a warm-up round."""
    best = float("inf")
    for round_ in range(rounds + 1):
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            work()
        sync(device)
        if round_:  # the first round warms up (kernels, caches, allocator)
            best = min(best, (time.perf_counter() - start) / steps)
    return best


def training_step(device: torch.device, batch: int, channels_last: bool, graphed: bool):
    """One ResNet-18 step (forward, loss, backward, SGD) on whatever `feed(x)` last put into its input: on CUDA
    replayed as a CUDA graph, as the engine runs its step (--eager: launched op by op). Returns (feed, step)."""
    model = torchvision.models.resnet18(num_classes=CLASSES).to(device)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    static_x = torch.randn(batch, *SHAPE, device=device).contiguous(memory_format=memory_format)
    static_y = torch.randint(CLASSES, (batch,), device=device)
    amp = torch.bfloat16 if device.type == "cuda" else None

    def eager() -> None:
        # without the weight cache, which a CUDA graph cannot hold (as train.py's train_step)
        with torch.autocast(device.type, dtype=amp or torch.bfloat16, enabled=amp is not None, cache_enabled=False):
            loss = criterion(model(static_x), static_y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def feed(x: torch.Tensor) -> None:
        static_x.copy_(x)

    if not graphed:
        return feed, eager
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up steps make the optimizer's state before the capture
        for _ in range(3):
            eager()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        eager()

    def replay() -> None:
        graph.replay()

    # the graph reads and writes the weights, the optimizer's buffers and static_y without owning them: without
    # this, their memory would go to the next tensors made (the augmentation's labels), which each replay overwrites
    replay.keeps_alive = (model, optimizer, static_y)
    return feed, replay


def augmentation_call(options: dict, device: torch.device, batch: int):
    """train.py's augment() and mix() for these Dataset options on a fresh batch: a function returning the
    images the step takes (mix's class probabilities are made too, as training makes them)."""
    namespace = {"torch": torch, "nn": nn, "CLASS_NAMES": [str(i) for i in range(CLASSES)]}
    augmentation = Augmentation(**options, channels=SHAPE[0], padding=SHAPE[-1] // 8)
    exec("\n\n\n".join(augmentation.functions()), namespace)  # train.py's own text
    augment, mix = namespace.get("augment"), namespace.get("mix")
    generator = torch.Generator(device).manual_seed(0)
    x = torch.rand(batch, *SHAPE, device=device)
    y = torch.randint(CLASSES, (batch,), device=device)

    def call() -> torch.Tensor:
        batch_x = augment(x, generator) if augment else x
        return mix(batch_x, y, generator)[0] if mix else batch_x

    return call, x


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
    feed, step = training_step(device, batch, channels_last, graphed=cuda and not args.eager)
    where = torch.cuda.get_device_name(device) if cuda else "CPU"
    print(f"device {where}, torch {torch.__version__}, batch {batch} x {'x'.join(map(str, SHAPE))}")
    memory = "channels_last" if channels_last else "contiguous"
    kind = "CUDA graph" if cuda and not args.eager else "eager"
    print(f"ResNet-18 training step ({'bf16, ' if cuda else ''}{memory}, {kind})")
    print(
        f"{'augmentation':<24} {'alone ms':>9} {'step ms':>8} {'step+aug ms':>12} {'added':>7}  target: added < "
        f"{TARGET:.0%} of the step"
    )
    for name, options in WORKLOADS.items():
        call, plain = augmentation_call(options, device, batch)
        alone = fastest(call, device, steps, args.rounds)
        bare = fastest(lambda plain=plain: (feed(plain), step()), device, steps, args.rounds)
        both = fastest(lambda call=call: (feed(call()), step()), device, steps, args.rounds)
        added = (both - bare) / bare
        verdict = "ok" if added < TARGET else "OVER"
        print(f"{name:<24} {alone * 1e3:9.3f} {bare * 1e3:8.2f} {both * 1e3:12.2f} {added:7.1%}  {verdict}")


if __name__ == "__main__":
    main()
