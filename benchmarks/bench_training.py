"""Training throughput: our engine against an idiomatic hand-written PyTorch loop on the same model and
data, both measured in this run (TensorDataset, DataLoader with shuffle, loss.item() each step).

Targets: at least 1.0x on CPU, at least 3x on a GPU for data that fits in memory. Run:
`.venv/bin/python benchmarks/bench_training.py [--device cpu|cuda] [--epochs N]`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from netbuilder.project import Project, TrainingSettings, load_project
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


FIRST_STEP = """
import time
if {warm!r}:  # the window's device probe loads these when the Training panel is first shown
    import sklearn.datasets  # noqa: F401
    import torch  # noqa: F401
    import torch._dynamo  # noqa: F401
started = time.perf_counter()
from pathlib import Path
from netbuilder.project import load_project
from netbuilder.training.engine import Progress, Trainer, with_settings
project = with_settings(load_project(Path({path!r})), device={device!r})
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


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=0, help="override the epochs of each workload")
    args = parser.parse_args()
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
    print(
        f"Train pressed to first step, digits CNN: {warm:.2f} s with torch loaded (the window's case; "
        f"budget 1.5 s), {cold:.2f} s including the torch import"
    )


if __name__ == "__main__":
    main()
