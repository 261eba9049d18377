"""Time to import torchvision's resnet18 (torch.fx), to bring its weights along (renamed, checked and saved as
the project's starting weights), and to export each format, the diagrams included, for the digits CNN and that
imported resnet18. Each format is exported on its own, after one warm-up export that loads the exporters
(torch.export, onnxscript, onnxruntime), so the times are what a second export costs; the warm-up's is
printed too. Every time includes the check that reads the file back (torch.jit.load, onnxruntime).

Prints a Markdown table for docs/benchmarks.md. Run: `.venv/bin/python benchmarks/bench_export.py`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torchvision
from safetensors.torch import save_file

from netbuilder.export import FORMATS, export_formats
from netbuilder.importers import import_module
from netbuilder.importers.weights import attach_weights, read_weights_file
from netbuilder.project import Project, load_project
from netbuilder.ui.canvas.diagram_export import DIAGRAM_FORMATS, write_diagrams  # offscreen Qt where no display

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def timed_import(folder: Path) -> tuple[Project, float, float]:
    """The imported resnet18, seconds to import it, and seconds to read, rename, check and save its weights."""
    model = torchvision.models.resnet18(weights=None)
    started = time.perf_counter()
    result = import_module(model, (1, 3, 224, 224), "resnet18")
    elapsed = time.perf_counter() - started
    assert result.complete, result.report()
    original = folder / "resnet18.safetensors"
    save_file(model.state_dict(), original)
    started = time.perf_counter()
    attach_weights(result, read_weights_file(original), folder / "resnet18.weights.safetensors")
    return result.project, elapsed, time.perf_counter() - started


def timed_diagram(project: Project, name: str, folder: Path) -> tuple[float, int]:
    started = time.perf_counter()
    result = write_diagrams(project, folder, [name])[name]
    elapsed = time.perf_counter() - started
    assert result.ok, result.error
    return elapsed, result.path.stat().st_size


def timed_export(project: Project, name: str, folder: Path) -> tuple[float, int]:
    """Seconds to write and check one format, and the size of what it wrote."""
    started = time.perf_counter()
    result = export_formats(project, folder, [name])[name]
    elapsed = time.perf_counter() - started
    assert result.ok, result.error
    return elapsed, result.path.stat().st_size


def main() -> None:
    digits = load_project(SAMPLES / "digits_cnn.nbproj")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        started = time.perf_counter()
        export_formats(digits, folder / "warm-up")
        warm_up = time.perf_counter() - started
        resnet, import_seconds, weights_seconds = timed_import(folder)
        rows = []
        for title, project in (("digits CNN", digits), ("resnet18 (imported)", resnet)):
            for name in FORMATS:
                seconds, size = timed_export(project, name, folder / title)
                rows.append(f"| {title} | {name} | {seconds:.2f} s | {size / 1e6:.2f} MB |")
            for name in DIAGRAM_FORMATS:
                seconds, size = timed_diagram(project, name, folder / title)
                rows.append(f"| {title} | diagram {name} | {seconds:.2f} s | {size / 1e6:.2f} MB |")
    print(f"import torchvision resnet18 (torch.fx, input 1x3x224x224): {import_seconds:.2f} s")
    print(f"bring its weights along (read, rename, check, save by node): {weights_seconds:.2f} s")
    print(f"first export of the digits CNN in a process, all formats (loads the exporters): {warm_up:.2f} s\n")
    print("| network | format | time to export and check | file |")
    print("| --- | --- | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
