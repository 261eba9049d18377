"""Train pressed to the end of the first step, with torch already loaded (as the window loads it when the
Training panel is first shown), phase by phase: analysis and code generation, loading the generated modules,
reading, splitting and normalising the data (or reading the prepared-data cache), moving it to the device,
waiting for CUDA to have started, building the model and optimizer, and the first step.

Each case runs in a fresh process: "cold" with an empty cache, "warm" with the cache the cold run filled,
and "again" pressing Train a second time in the warm process (the window's second run). Two projects: the
digits CNN sample, and a ResNet-18 imported from torchvision training on CIFAR-10-shaped data (50,000
generated 32x32 colour images in CIFAR-10's binary files, 154 MB, read by the cifar10 Dataset), batch 512,
SGD. The phases are marks set by thin wrappers around the engine's own functions, so the run timed is the
engine's as it is. The cache goes into a temporary folder (NETBUILDER_CACHE). Target: first step < 2 s after
pressing Train with torch loaded. The child processes load torch
as the window does, then take its objects out of the garbage collector's sight as the window does (without
that, one full collection during the setup costs 0.2-0.3 s with torch loaded). Needs torchvision. Run:
`.venv/bin/python benchmarks/bench_first_step.py [--device cpu|cuda] [--images 50000] [--batch-size 512]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"
PHASES = (
    ("codegen", "analysis + codegen"),
    ("modules", "load modules"),
    ("data", "read/split/normalise"),
    ("to_device", "to device"),
    ("cuda_wait", "wait for CUDA"),
    ("model", "model + optimizer"),
    ("step", "first step"),
)


# ---- the child: one fresh process, Train pressed (twice) -----------------------------------------------------


def child(project_path: str, device: str) -> None:
    """Load torch as the window does, then press Train twice; print each press's phases as JSON."""
    from netbuilder.ui.training.devices import list_devices_loading_torch

    list_devices_loading_torch()  # torch, scikit-learn's datasets, torch._dynamo: what the window loads early
    gc.freeze()  # as the window does then (ui/main_thread_gc.py): no full collection walks torch's objects
    import torch

    from netbuilder.project import load_project
    from netbuilder.training import cuda_start, data_cache, engine, program
    from netbuilder.training.engine import Trainer, with_settings

    marks: list[tuple[str, float]] = []

    def marked(function, before: str | None, after: str | None):
        def wrapper(*args, **kwargs):
            if before:
                marks.append((before, time.perf_counter()))
            value = function(*args, **kwargs)
            if after:
                marks.append((after, time.perf_counter()))
            return value

        return wrapper

    program.package_project = marked(program.package_project, None, "codegen")
    engine.load_program = marked(engine.load_program, None, "modules")
    engine.prepared_data = marked(engine.prepared_data, None, "data")
    cuda_start.CudaStart.join = marked(cuda_start.CudaStart.join, "to_device", "cuda_wait")

    project = with_settings(load_project(project_path), device=device)
    presses = []
    for _ in range(2):
        marks.clear()
        pressed = time.perf_counter()
        trainer = Trainer(project)
        marks.append(("model", time.perf_counter()))
        outcome = trainer.run(max_steps=1)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        marks.append(("step", time.perf_counter()))
        assert outcome.status == "stopped", outcome.message
        phases, last = {}, pressed
        for name, at in marks:
            phases[name] = phases.get(name, 0.0) + at - last
            last = at
        phases["total"] = last - pressed
        presses.append(phases)
        data_cache.finish_writing()  # the entry a cold run writes in the background, before the next press
        del trainer
    print(json.dumps(presses))


# ---- the parent: the cases, each in its own process ------------------------------------------------------------


def cifar_project(folder: Path, images: int, batch_size: int) -> Path:
    """torchvision's ResNet-18 (10 classes) imported at 3x32x32, its input replaced by a cifar10 Dataset reading
    `images` generated images from CIFAR-10's binary files in `folder`, CrossEntropy and SGD."""
    import numpy
    import torchvision

    from netbuilder.importers import import_module
    from netbuilder.project import TrainingSettings, save_project

    batches = folder / "cifar-10-batches-bin"
    batches.mkdir(parents=True, exist_ok=True)
    rng = numpy.random.default_rng(0)
    for index, count in enumerate(numpy.array_split(numpy.arange(images), 5), start=1):
        records = rng.integers(0, 256, (len(count), 3073), dtype=numpy.uint8)
        records[:, 0] %= 10  # the label byte
        records.tofile(batches / f"data_batch_{index}.bin")
    project = import_module(torchvision.models.resnet18(weights=None, num_classes=10), (1, 3, 32, 32), "resnet18")
    project = project.project
    graph = project.graph
    (source,) = [node.id for node in graph.nodes.values() if node.block == "Input"]
    users = [edge for edge in graph.edges if edge.src == source]
    (last,) = [node for node in graph.nodes if not any(edge.src == node for edge in graph.edges)]
    graph.remove_node(source)
    data = graph.add_node("Dataset", params={"dataset": "cifar10", "path": str(folder)}).id
    for edge in users:
        graph.connect(data, "x", edge.dst, edge.dst_port)
    loss, sgd = graph.add_node("CrossEntropy").id, graph.add_node("SGD").id
    graph.connect(last, "y", loss, "input")
    graph.connect(data, "target", loss, "target")
    graph.connect(loss, "loss", sgd, "loss")
    project.training = TrainingSettings(epochs=1, batch_size=batch_size)
    return save_project(project, folder / "resnet18_cifar.nbproj")


def run_case(project: Path, device: str, cache: Path) -> list[dict[str, float]]:
    environment = {**os.environ, "NETBUILDER_CACHE": str(cache)}
    command = [sys.executable, __file__, "--child", str(project), "--device", device]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if done.returncode:
        raise SystemExit(f"{project.name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--images", type=int, default=50_000, help="CIFAR-shaped images generated")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.device)
        return
    import torch

    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {os.cpu_count()} cores"
    print(f"device: {args.device} ({name}), torch {torch.__version__}; seconds from Train pressed")
    print(f"{'project':16} {'case':6}" + "".join(f" {title:>20}" for _, title in PHASES) + f" {'total':>8}")
    with tempfile.TemporaryDirectory(prefix="bench-first-step-") as temporary:
        folder = Path(temporary)
        projects = [
            ("digits CNN", SAMPLES / "digits_cnn.nbproj"),
            ("ResNet-18 CIFAR", cifar_project(folder / "data", args.images, args.batch_size)),
        ]
        for title, project in projects:
            cache = folder / ("cache-" + project.stem)
            cold, _ = run_case(project, args.device, cache)
            warm, again = run_case(project, args.device, cache)
            for case, phases in (("cold", cold), ("warm", warm), ("again", again)):
                figures = "".join(f" {phases.get(key, 0.0):20.3f}" for key, _ in PHASES)
                print(f"{title:16} {case:6}{figures} {phases['total']:8.2f}")
            saved = cold["data"] - warm["data"]
            print(
                f"{'':16} the cache saves {saved:.2f} s of {cold['data']:.2f} s preparing the data; "
                f"cold {cold['total']:.2f} s -> warm {warm['total']:.2f} s ({cold['total'] / warm['total']:.1f}x)"
            )


if __name__ == "__main__":
    main()
