"""Training throughput: our engine against an idiomatic hand-written PyTorch loop on the same model and
data, both measured in this run (TensorDataset, DataLoader with shuffle, loss.item() each step).

Targets: at least 1.0x on CPU, at least 3x on a GPU for data that fits in memory. Run:
`.venv/bin/python benchmarks/bench_training.py [--device cpu|cuda] [--epochs N]`.

`--network resnet18-cifar` (CUDA) measures a network people actually train instead: torchvision's ResNet-18
imported by netbuilder, 10 classes, CIFAR-10-shaped data (50,000 3x32x32 images in CIFAR-10's own binary files,
generated), batch 512, SGD, bf16, a 0.2 validation split, every sample resident on the GPU. Its second baseline
is the strong hand loop: channels_last, bf16 autocast, torch.compile(mode="reduce-overhead", dynamic=False), the
data on the GPU, no per-step .item(). Both are timed over the epochs after a first one (compiling, warming up),
validation included. Targets: the engine at least 1.5x the strong loop and 250,000 samples/s on an H200. After
each of the engine's runs it prints where an epoch went (`epoch_parts`: the steps, the last batch and validation
timed alone, against the epoch measured, and the GPU's busy time over one more epoch, profiled).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy
import torch
from torch.utils.data import DataLoader, TensorDataset

from netbuilder.project import Project, TrainingSettings, load_project
from netbuilder.project.run_events import EpochEnd
from netbuilder.training.checkpoint_file import on_host, save_file, save_same
from netbuilder.training.engine import Trainer, with_settings

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


def mnist_sized_mlp() -> Project:
    """784 inputs, 60,000 samples, 10 classes: the shape of MNIST, generated (nothing to download)."""
    project = Project.new("MNIST-sized MLP")
    project.training = TrainingSettings(epochs=2, batch_size=128, val_fraction=0.1)
    g = project.graph
    data = g.add_node("Dataset", params={"dataset": "blobs", "samples": 60_000, "features": 784, "classes": 8}).id
    fc1 = g.add_node("Linear", params={"out_features": 256}).id
    relu = g.add_node("ReLU").id
    fc2 = g.add_node("Linear", params={"out_features": 8}).id
    loss = g.add_node("CrossEntropy").id
    adam = g.add_node("Adam").id
    for edge in (
        (data, "x", fc1, "x"),
        (fc1, "y", relu, "x"),
        (relu, "y", fc2, "x"),
        (fc2, "y", loss, "input"),
        (data, "target", loss, "target"),
        (loss, "loss", adam, "loss"),
    ):
        g.connect(*edge)
    return project


def engine_rate(project: Project, device: str, *, graphs: bool = True) -> float:
    trainer = Trainer(project, device=device)
    if not graphs:
        trainer.graphed = None
    synchronize(device)
    started = time.perf_counter()
    outcome = trainer.run()
    synchronize(device)
    assert outcome.ok, outcome.message
    return trainer.global_step * project.training.batch_size / (time.perf_counter() - started)


def handwritten_rate(project: Project, device: str) -> float:
    """What a careful person writes first: a DataLoader over the same tensors, loss.item() each step, and
    the validation loss and accuracy after each epoch (the engine validates each epoch too)."""
    trainer = Trainer(project, device=device)  # the same data, model, loss and optimizer, freshly made
    model, criterion = trainer.model, trainer.criterion
    optimizer = trainer.program.script.make_optimizer(model)  # as the person writes it (the engine's may be capturable)
    dataset = TensorDataset(trainer.train_x.cpu(), trainer.train_y.cpu())
    loader = DataLoader(dataset, batch_size=project.training.batch_size, shuffle=True)
    validation = DataLoader(
        TensorDataset(trainer.val_x.cpu(), trainer.val_y.cpu()), batch_size=project.training.batch_size
    )
    synchronize(device)
    started = time.perf_counter()
    steps = 0
    for _ in range(project.training.epochs):
        model.train()
        for batch_x, batch_y in loader:
            batch_x, batch_y = batch_x.to(device), batch_y.to(device)
            loss = criterion(model(batch_x), batch_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()  # the usual running-loss bookkeeping: one host sync per step
            steps += 1
        model.eval()
        with torch.no_grad():
            for batch_x, batch_y in validation:
                batch_x, batch_y = batch_x.to(device), batch_y.to(device)
                output = model(batch_x)
                criterion(output, batch_y).item()
                (output.argmax(dim=1) == batch_y).sum().item()
    synchronize(device)
    return steps * project.training.batch_size / (time.perf_counter() - started)


def cifar_sized_files(root: Path, samples: int = 50_000) -> None:
    """CIFAR-10's binary batches (a label byte, then 3x32x32 bytes, per image) of random images: its shape and
    format, nothing to download."""
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True, exist_ok=True)
    rng = numpy.random.default_rng(0)
    per_file = samples // 5
    for i in range(1, 6):
        labels = rng.integers(0, 10, (per_file, 1))
        records = numpy.concatenate([labels, rng.integers(0, 256, (per_file, 3072))], axis=1)
        (folder / f"data_batch_{i}.bin").write_bytes(records.astype(numpy.uint8).tobytes())


def resnet18_cifar(root: Path, epochs: int) -> Project:
    """torchvision's ResNet-18 (10 classes) imported by netbuilder, fed by the CIFAR-10 files in `root`, with a
    cross-entropy loss and SGD; batch 512, bf16."""
    import torchvision

    from netbuilder.importers import import_module

    project = import_module(torchvision.models.resnet18(num_classes=10), (1, 3, 32, 32), "ResNet-18").project
    g = project.graph
    given = next(n for n in g.nodes.values() if n.block == "Input")
    fed = list(g.outputs_of(given.id))
    g.remove_node(given.id)
    data = g.add_node("Dataset", params={"dataset": "cifar10", "path": str(root)}).id
    for edge in fed:
        g.connect(data, "x", edge.dst, edge.dst_port)
    head = next(n for n in g.nodes.values() if n.block == "Linear" and not g.outputs_of(n.id))
    loss = g.add_node("CrossEntropy").id
    sgd = g.add_node("SGD", params={"lr": 0.05, "momentum": 0.9}).id
    g.connect(head.id, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", sgd, "loss")
    project.training = TrainingSettings(epochs=epochs, batch_size=512, val_fraction=0.2, precision="bf16")
    return project


CHECKPOINTED_EPOCHS = 16  # the run that keeps checkpoints: long enough for their writing to come to its share


def engine_steady_rate(
    project: Project, *, compiled: bool = True, checkpoints: Path | None = None
) -> tuple[float, Trainer]:
    """Training samples per second over the epochs after the first (which compiles and warms up), by the clock
    from the first epoch's end to the last's: each epoch's validation and what runs between epochs included
    (with `checkpoints`, a folder, last.pt and best.pt kept there as the app keeps them); `compiled` False runs
    the step on the model as it is."""
    trainer = Trainer(project, device="cuda")
    if compiled and trainer.compiled is None:  # a run this short would not compile: compiled on request
        trainer.compile_step()
    if not compiled and trainer.compiled is not None:
        trainer.compiled = None
        trainer._uncompiled()  # as when compiling fails: the plain model, in memory_format()'s layout
    ends: list[float] = []
    outcome = trainer.run(
        lambda event: ends.append(time.perf_counter()) if isinstance(event, EpochEnd) else None,
        checkpoint_dir=checkpoints,
    )
    assert outcome.ok, outcome.message
    return trainer.train_size * (len(ends) - 1) / (ends[-1] - ends[0]), trainer


def fastest(work, device: str | torch.device, steps: int, rounds: int) -> float:
    """Seconds per call of `work`: the fastest of `rounds` rounds of `steps` calls, after a warm-up round."""
    best = float("inf")
    for round_ in range(rounds + 1):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            work()
        synchronize(device)
        if round_:  # the first round warms up (kernels, caches, allocator)
            best = min(best, (time.perf_counter() - start) / steps)
    return best


def epoch_parts(trainer: Trainer, rate: float) -> str:
    """Where an epoch of `trainer`'s run went (it trained at `rate` samples/s): a full batch's step, the last
    batch's and validation, each timed alone in the trainer after its run, their sum against the run's epoch, and
    on a GPU its busy time over one more epoch (torch.profiler's kernels and copies): what is neither steps nor
    validation is the epoch's own overhead, and what the GPU is not busy for is its idle time."""
    device, size = trainer.device.type, trainer.settings.batch_size
    full, last = divmod(trainer.train_size, size)
    x, y = trainer.train_x[:size], trainer.train_y[:size]
    step_of = trainer.graphed or trainer._counted_step  # the run's step: augmentation and the epoch's sums too
    trainer.model.train()
    step = fastest(lambda: step_of(x, y), device, 40, 3) * 1e3
    tail = fastest(lambda: step_of(x[:last], y[:last]), device, 40, 3) * 1e3 if last else 0.0
    validation = fastest(trainer.evaluate, device, 5, 3) * 1e3
    parts = step * full + tail + validation
    measured = trainer.train_size / rate * 1e3
    said = (
        f"    an epoch: {full} steps x {step:.3f} ms + last batch {tail:.3f} ms + validation {validation:.2f} ms = "
        f"{parts:.1f} ms, against {measured:.1f} ms measured ({measured - parts:.1f} ms else)"
    )
    if device != "cuda":
        return said
    trainer.epochs += 1  # one more epoch, profiled
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as profile:
        trainer.run()
        synchronize(device)
    spans = sorted((e.time_range.start, e.time_range.end) for e in profile.events() if e.device_type.name == "CUDA")
    busy = sum(end - start for start, end in spans) / 1e3
    wall = (spans[-1][1] - spans[0][0]) / 1e3 if spans else 0.0
    return f"{said}; one more epoch profiled: the GPU busy {busy:.1f} of {wall:.1f} ms"


def checkpoint_parts(trainer: Trainer, folder: Path) -> str:
    """What writing a checkpoint of `trainer` costs, each part timed alone (fastest of 3, after one): its state
    copied to the host (a better epoch kept for best.pt between writes), last.pt written (torch.save, fsync,
    rename) and best.pt made a second name of it (when the epoch written is the best)."""
    state, last, best = trainer.state_dict(), folder / "last.pt", folder / "best.pt"
    copy = fastest(lambda: on_host(state), trainer.device, 1, 3) * 1e3
    write = fastest(lambda: save_file(state, last), trainer.device, 1, 3) * 1e3
    same = fastest(lambda: save_same(last, best), trainer.device, 1, 3) * 1e3
    size = last.stat().st_size / 1e6
    return (
        f"    a checkpoint ({size:.1f} MB): to the host {copy:.1f} ms, last.pt written {write:.1f} ms, best.pt as a "
        f"second name of it {same:.2f} ms"
    )


def strong_loop_rate(project: Project, layout: torch.memory_format = torch.channels_last) -> float:
    """The best loop a skilled person writes: the model and data channels_last and on the GPU, bf16 autocast,
    torch.compile(mode="reduce-overhead"), the step's losses summed on the device and read once an epoch;
    validated each epoch (compiled, under autocast). Timed as engine_steady_rate is."""
    trainer = Trainer(project, device="cuda")  # the same data (on the GPU), model, loss, freshly made
    model = trainer.model.to(memory_format=layout)
    train_x, train_y = trainer.train_x.contiguous(memory_format=layout), trainer.train_y
    val_x, val_y = trainer.val_x.contiguous(memory_format=layout), trainer.val_y
    criterion, batch = trainer.criterion, project.training.batch_size
    optimizer = trainer.program.script.make_optimizer(model)
    compiled = torch.compile(model, mode="reduce-overhead", dynamic=False)  # the last batch: its own graph
    ends: list[float] = []  # when each epoch ended
    for _ in range(project.training.epochs):
        model.train()
        total = torch.zeros((), device="cuda")
        order = torch.randperm(len(train_x), device="cuda")
        for start in range(0, len(train_x), batch):
            index = order[start : start + batch]
            torch.compiler.cudagraph_mark_step_begin()
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = criterion(compiled(train_x[index]), train_y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach()
        model.eval()
        right = torch.zeros((), device="cuda")
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            for start in range(0, len(val_x), batch):
                torch.compiler.cudagraph_mark_step_begin()
                output = compiled(val_x[start : start + batch])
                total += criterion(output, val_y[start : start + batch])
                right += (output.argmax(dim=1) == val_y[start : start + batch]).sum()
        total.item(), right.item()
        ends.append(time.perf_counter())
    return len(train_x) * (len(ends) - 1) / (ends[-1] - ends[0])


def resnet_workload(epochs: int) -> None:
    """The ResNet-18/CIFAR workload: the engine compiled (twice: compiling, then from the cache) and not (as this
    short a run is), and the strong loop."""
    with tempfile.TemporaryDirectory() as folder:
        cifar_sized_files(Path(folder))
        project = resnet18_cifar(Path(folder), 1 + (epochs or 10))
        print(f"ResNet-18 on CIFAR-10-shaped data: {project.training.epochs} epochs (the first not timed)")
        cold, trainer = engine_steady_rate(project)
        compiling = trainer.compiled.seconds if trainer.compiled else 0.0
        note = trainer.compiled.reason if trainer.compiled else "not compiled"
        print(f"  engine, compiled, first run: {cold:,.0f} samples/s; compiling took {compiling:.1f} s {note}")
        ours, trainer = engine_steady_rate(project)
        cached = trainer.compiled.seconds if trainer.compiled else 0.0
        print(f"  engine, compiled: {ours:,.0f} samples/s; compiling from the cache took {cached:.1f} s")
        print(f"  {trainer.run_start().device}; graphs captured: {trainer.graphed.captures if trainer.graphed else 0}")
        print(epoch_parts(trainer, ours))
        longer = with_settings(project, epochs=CHECKPOINTED_EPOCHS)  # where checkpoints' writing settles
        kept, keeping = engine_steady_rate(longer, checkpoints=Path(folder) / "run")
        said = f"keeping checkpoints as the app does ({CHECKPOINTED_EPOCHS} epochs)"
        print(f"  engine, compiled, {said}: {kept:,.0f} samples/s")
        print(checkpoint_parts(keeping, Path(folder) / "parts"))
        uncompiled, plain = engine_steady_rate(project, compiled=False)
        print(f"  engine, not compiled (as a run under 20,000 steps is): {uncompiled:,.0f} samples/s")
        print(epoch_parts(plain, uncompiled))
        try:
            theirs = strong_loop_rate(project)
        except Exception as err:  # torch.compile's own failures: say so, and measure the loop without channels_last
            print(f"  strong hand loop failed: {type(err).__name__}: {str(err).strip().splitlines()[0][:200]}")
            theirs = strong_loop_rate(project, torch.contiguous_format)
        print(f"  strong hand loop: {theirs:,.0f} samples/s")
        for title, rate in (("compiled", ours), ("not compiled", uncompiled)):
            print(f"  engine ({title}) / strong loop: {rate / theirs:.2f}x (target 1.5x; 250,000 samples/s)")


FIRST_STEP = """
import time
if {warm!r}:  # what the window does when the Training panel is first shown, before Train can be pressed
    import gc
    from netbuilder.ui.training.devices import list_devices_loading_torch
    list_devices_loading_torch()  # its device probe: torch, CUDA's devices, scikit-learn's datasets, dynamo
    gc.freeze()  # then (ui/main_thread_gc.py): no full collection walks torch's objects
from pathlib import Path
from netbuilder.project import load_project
project = load_project(Path({path!r}))  # the project open in the window
started = time.perf_counter()  # Train pressed: the engine imported, the run's project, the run
from netbuilder.training.engine import Progress, Trainer, with_settings
project = with_settings(project, device={device!r})
seen = []
Trainer(project).run(lambda event: seen.append(time.perf_counter() - started) if isinstance(event, Progress)
                     else None, max_steps=1)
print(seen[0])
"""


def seconds_to_first_step(device: str, warm: bool) -> float:
    """Pressing Train in a fresh process: code generated and loaded, data loaded, one step done; with torch
    already imported (`warm`, as in the window) or not."""
    import subprocess
    import sys

    script = FIRST_STEP.format(path=str(SAMPLES / "digits_cnn.nbproj"), device=device, warm=warm)
    return float(
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()[-1]
    )


def synchronize(device: str | torch.device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=0, help="override the epochs of each workload")
    parser.add_argument("--network", choices=("small", "resnet18-cifar"), default="small", help="which workloads")
    args = parser.parse_args()
    if args.network == "resnet18-cifar":
        print(f"device: cuda ({torch.cuda.get_device_name()}), torch {torch.__version__}")
        resnet_workload(args.epochs)
        return
    workloads = [
        ("digits CNN", with_settings(load_project(SAMPLES / "digits_cnn.nbproj"), epochs=args.epochs or 15)),
        ("MNIST-sized MLP", with_settings(mnist_sized_mlp(), epochs=args.epochs or 2)),
    ]
    name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {args.device} ({name}), torch {torch.__version__}")
    print(f"{'workload':20} {'engine samples/s':>17} {'hand loop samples/s':>20} {'ratio':>7}   step")
    for title, project in workloads:
        handwritten_rate(project, args.device)  # warm-up: allocators, kernels, caches
        ours = max(engine_rate(project, args.device) for _ in range(2))
        theirs = max(handwritten_rate(project, args.device) for _ in range(2))
        reason = Trainer(project, device=args.device).not_graphed
        print(f"{title:20} {ours:17,.0f} {theirs:20,.0f} {ours / theirs:6.2f}x   {reason or 'a CUDA graph'}")
        if not reason:
            eager = max(engine_rate(project, args.device, graphs=False) for _ in range(2))
            print(f"{'  (engine, eager)':20} {eager:17,.0f} {'':20} {eager / theirs:6.2f}x   without the graph")
    warm = min(seconds_to_first_step(args.device, warm=True) for _ in range(3))
    cold = min(seconds_to_first_step(args.device, warm=False) for _ in range(3))
    budget = "budget 1.5 s" if args.device == "cpu" else "target 2 s, CUDA's start included"
    print(
        f"Train pressed to first step, digits CNN: {warm:.2f} s with torch loaded (the window's case; "
        f"{budget}), {cold:.2f} s including the torch import"
    )


if __name__ == "__main__":
    main()
