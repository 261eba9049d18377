"""`export_formats`: each format written on its own, so that one that fails (an op ONNX cannot express)
is reported with the node that caused it while the others are still written."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import CodegenError, generate_model
from netbuilder.codegen.training_loop import VOCABULARY_FILE
from netbuilder.export import (
    executorch_file,
    litert_file,
    onnx_file,
    onnx_int8_file,
    pt2_file,
    summary_table,
    torchscript_file,
    weights_file,
)
from netbuilder.export.subject import Subject, make_subject
from netbuilder.project import Project

TITLES = {
    "torchscript": "TorchScript",
    "pt2": "torch.export",
    "onnx": "ONNX",
    "onnx-int8": "ONNX int8",
    "safetensors": "safetensors",
    "summary": "summary",
    "litert": "LiteRT",
    "executorch": "ExecuTorch",
}
"""Every format written here, by name; the code package (model.py, train.py ...) is codegen.package's."""
EXTRAS = {"litert": ("litert_torch", "ai_edge_litert"), "executorch": ("executorch",)}
"""The formats of an optional extra (pip install netbuilder[name]), by the packages their writers import."""


def installed(name: str) -> bool:
    """Whether the packages a format needs are installed: always, but for a format of an optional extra."""
    return all(importlib.util.find_spec(package) is not None for package in EXTRAS.get(name, ()))


FORMATS = tuple(name for name in TITLES if installed(name))
"""The formats that can be written here now: all of TITLES but an extra's whose packages are missing."""

_WRITERS: dict[str, tuple[str, Callable[[Subject, Path], None]]] = {
    "torchscript": (torchscript_file.FILE_NAME, torchscript_file.write_torchscript),
    "pt2": (pt2_file.FILE_NAME, pt2_file.write_pt2),
    "onnx": (onnx_file.FILE_NAME, onnx_file.write_onnx),
    "onnx-int8": (onnx_int8_file.FILE_NAME, onnx_int8_file.write_onnx_int8),
    "safetensors": (weights_file.FILE_NAME, weights_file.write_safetensors),
    "litert": (litert_file.FILE_NAME, litert_file.write_litert),
    "executorch": (executorch_file.FILE_NAME, executorch_file.write_executorch),
}


@dataclass(frozen=True)
class ExportResult:
    """One format's outcome: the file written, or why there is none ("ONNX: fc (Linear) ...")."""

    format: str
    path: Path | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.path is not None


def export_formats(
    project: Project, folder: Path, formats: Iterable[str] = FORMATS, weights: Path | None = None
) -> dict[str, ExportResult]:
    """Write each of `formats` into `folder` (made if missing) from `project`, with the weights of a run
    (`weights`: its model.pt; a text run's vocab.json beside it is copied too) or, without one, initialised
    with the project's seed. ExportError when the weights cannot be read or are not this network's;
    ValueError for a format name not in TITLES. A format of an optional extra that is not installed is a
    result whose error says what to install."""
    formats = list(dict.fromkeys(formats))
    unknown = [name for name in formats if name not in TITLES]
    if unknown:
        raise ValueError(f"unknown export format {unknown[0]!r}: choose from {', '.join(TITLES)}")
    folder.mkdir(parents=True, exist_ok=True)
    analysis = analyze(project.graph)
    results: dict[str, ExportResult] = {}
    if "summary" in formats:
        results["summary"] = ExportResult("summary", summary_table.write_summary(project, analysis, folder))
    model_formats = [name for name in formats if name in _WRITERS]
    if not model_formats:
        return results
    source = project.path.name if project.path else ""
    try:
        code = generate_model(project.graph, analysis, name=project.name, source=source)
    except CodegenError as err:
        return results | {name: ExportResult(name, error=f"{TITLES[name]}: {err}") for name in model_formats}
    subject = make_subject(project, code, weights)
    for name in model_formats:
        if installed(name):
            results[name] = _write(name, subject, folder)
        else:
            results[name] = ExportResult(name, error=f"{TITLES[name]}: needs pip install netbuilder[{name}]")
    written = {name: results[name] for name in formats}
    if weights is not None and weights.with_name(VOCABULARY_FILE).is_file():  # a text run's tokens by index
        written[VOCABULARY_FILE] = _copy_vocabulary(weights.with_name(VOCABULARY_FILE), folder)
    return written


def _copy_vocabulary(source: Path, folder: Path) -> ExportResult:
    """The run's vocab.json beside the weights, which a text network's indices mean nothing without; copied
    under a temporary name, then renamed."""
    path = folder / VOCABULARY_FILE
    partial = folder / f".{VOCABULARY_FILE}.partial"
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, path)
    except OSError as err:
        partial.unlink(missing_ok=True)
        return ExportResult(VOCABULARY_FILE, error=f"{VOCABULARY_FILE}: {err.strerror or err}")
    return ExportResult(VOCABULARY_FILE, path)


def _write(name: str, subject: Subject, folder: Path) -> ExportResult:
    """One format into a temporary file renamed into place once it is checked, so a failure leaves no file
    that looks finished."""
    file_name, write = _WRITERS[name]
    path = folder / file_name
    partial = folder / f".{file_name}.partial"
    try:
        write(subject, partial)
        os.replace(partial, path)
    except Exception as err:  # any failure of one format is reported, and the others go on
        partial.unlink(missing_ok=True)
        return ExportResult(name, error=f"{TITLES[name]}: {subject.blame(err)}{_why(err)}")
    return ExportResult(name, path)


def _why(err: BaseException) -> str:
    """The first line of the innermost error it was raised from: the most specific one (exporters wrap
    their causes in pages of advice)."""
    root = err
    while root.__cause__ is not None:
        root = root.__cause__
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(root)).strip()
    first = text.splitlines()[0].strip() if text else ""
    return f"{type(root).__name__}: {first}" if first else type(root).__name__
