"""Validation on a GPU: train.py's evaluate() run eagerly against the engine's replayed CUDA graphs of its
evaluate_batch (training/graphed_evaluation.py), on the same weights and data, both measured in this run, with
the figures they give compared (the confusion matrix and the loss).

Run on CUDA: `.venv/bin/python benchmarks/bench_validation.py [--network small|resnet18-cifar] [--repeats N]
[--batch-size B]` (B: training batches of another size than the project's). Both validate in train.py's
evaluation_batch, twice the training batch. `small` is the digits CNN (359 validation images, training batch 64);
`resnet18-cifar` bench_training's ResNet-18 on CIFAR-10-shaped data (10,000 validation images, training batch 512,
bf16), the workload whose validation took 16 % of a run when it was eager.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from netbuilder.project import Project, load_project
from netbuilder.training.engine import Trainer, with_settings

sys.path.insert(0, str(Path(__file__).parent))
from bench_training import SAMPLES, cifar_sized_files, resnet18_cifar


def seconds(evaluate, repeats: int) -> tuple[float, dict]:
    """The median seconds of one validation (each ends reading its figures, so it waits for the GPU)."""
    times, figures = [], {}
    for _ in range(repeats):
        started = time.perf_counter()
        figures = evaluate()
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2], figures


def compare(project: Project, repeats: int) -> None:
    trainer = Trainer(project, device="cuda")
    script, size = trainer.program.script, trainer.evaluation_batch
    amp = trainer._mixed[:1]

    def eager() -> dict:
        return script.evaluate(trainer.model, trainer.criterion, trainer.val_x, trainer.val_y, size, *amp)

    def graphed() -> dict:
        return trainer.evaluation.evaluate(trainer.val_x, trainer.val_y)

    eager()  # cuDNN and cuBLAS start outside the timing
    started = time.perf_counter()
    graphed()
    capture = time.perf_counter() - started
    assert trainer.evaluation.reason == "", trainer.evaluation.reason
    eager_seconds, eager_figures = seconds(eager, repeats)
    graphed_seconds, graphed_figures = seconds(graphed, repeats)
    samples = trainer.val_size
    device = f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    print(f"  {samples} validation samples, batch {size} (training {trainer.settings.batch_size}), {device}")
    print(f"  eager evaluate():   {eager_seconds * 1e3:8.2f} ms  ({samples / eager_seconds:,.0f} samples/s)")
    print(f"  replayed graphs:    {graphed_seconds * 1e3:8.2f} ms  ({samples / graphed_seconds:,.0f} samples/s)")
    print(f"  graphs / eager: {eager_seconds / graphed_seconds:.2f}x faster; capturing took {capture:.2f} s once")
    same = graphed_figures.get("confusion") == eager_figures.get("confusion")
    print(
        f"  the same confusion matrix: {same}; loss {graphed_figures['loss']:.6f} against {eager_figures['loss']:.6f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--network", choices=("small", "resnet18-cifar"), default="small")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=0, help="training batches of this size (0: the project's)")
    args = parser.parse_args()
    sized = (lambda project: with_settings(project, batch_size=args.batch_size)) if args.batch_size else (lambda p: p)
    if not torch.cuda.is_available():
        raise SystemExit("this benchmark needs an NVIDIA GPU (validation is graphed on CUDA only)")
    if args.network == "small":
        print("digits CNN")
        compare(sized(with_settings(load_project(SAMPLES / "digits_cnn.nbproj"), device="cuda")), args.repeats)
        return
    with tempfile.TemporaryDirectory() as folder:
        cifar_sized_files(Path(folder))
        print("ResNet-18 on CIFAR-10-shaped data")
        compare(sized(resnet18_cifar(Path(folder), 1)), args.repeats)


if __name__ == "__main__":
    main()
