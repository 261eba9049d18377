"""`netbuilder export PROJECT -o DIR`: the code package, the network diagrams (Qt) and the other formats
(torch), each loaded only when asked for."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netbuilder.analysis import analyze
from netbuilder.analysis.training_task import wants_training
from netbuilder.atomic_file import write_atomically
from netbuilder.cli.exit_codes import OK, PROBLEMS, USAGE
from netbuilder.cli.messages import first_model_error, gaps_refusal
from netbuilder.codegen.model_code import CodegenError
from netbuilder.codegen.predict_script import WEIGHTS_FILES
from netbuilder.pipeline import expanded_project, write_code_package
from netbuilder.project import Project, load_project
from netbuilder.runtime.machine_memory import ModelTooLarge

CODE_FORMAT = "code"  # the Python package; the others are netbuilder.export.FORMATS and DIAGRAM_FORMATS
DIAGRAM_FORMATS = ("svg", "png")  # the network diagram (Qt), as netbuilder.ui.canvas.diagram_export names them


def run_export(args: argparse.Namespace) -> int:
    """The code package by the package's own path, then the diagrams, then each other format on its own: a
    failing format is one line on stderr and exit code 1, and the others are still written. torch loads only
    for the formats that need it, Qt only for the diagrams."""
    wanted = [name.strip() for name in args.format.split(",") if name.strip()]
    project = load_project(args.project)
    if wanted == [CODE_FORMAT]:
        return PROBLEMS if _refused(project) else _export_code(args, project)
    model_formats: list[str] = []
    if not wanted or any(name not in (CODE_FORMAT, *DIAGRAM_FORMATS) for name in wanted):
        # torch loads here: only the diagrams and code are named without it
        from netbuilder.export.formats import FORMATS, TITLES

        known = (CODE_FORMAT, *TITLES, *DIAGRAM_FORMATS)
        unknown = [name for name in wanted if name not in (*known, "all")]
        if unknown or not wanted:
            print(f"netbuilder: --format takes {', '.join(known)} or all, got {args.format!r}", file=sys.stderr)
            return USAGE
        if "all" in wanted:  # every format that can be written here: an extra's only when it is installed
            wanted = [CODE_FORMAT, *FORMATS, *DIAGRAM_FORMATS]
        model_formats = [name for name in wanted if name in TITLES]
    if (CODE_FORMAT in wanted or model_formats) and _refused(project):
        return PROBLEMS
    status = OK
    if CODE_FORMAT in wanted:
        status = _export_code(args, project)
        if status == USAGE:
            return status
    diagrams = [name for name in wanted if name in DIAGRAM_FORMATS]
    if diagrams:
        status = max(status, _export_diagrams(args, project, diagrams))  # exit codes rank by severity
    if model_formats:
        status = max(status, _export_formats(args, project, model_formats))
    return status


def _refused(project: Project) -> bool:
    """True, once stderr says why, when the model has an error (Analysis.errors(training=False)): its code would
    silently leave out what the error cuts off (a layer whose input is not connected), so no model file is
    written; or when an import left gaps that still stand (a call at the very end of forward() leaves no error,
    and the model would silently stop before it). A diagram alone is still drawn: it shows the graph as it is."""
    said = first_model_error(project) or gaps_refusal(project)
    if said:
        print(f"netbuilder: nothing exported: {said}", file=sys.stderr)
    return bool(said)


def _export_formats(args: argparse.Namespace, project: Project, formats: list[str]) -> int:
    """TorchScript, torch.export, ONNX (float and int8), safetensors, summary.md (netbuilder.export), each
    checked against torch; with a run's weights, each model file also on the validation split (unless
    --no-check)."""
    from netbuilder.export import ExportError, export_formats  # torch loads only for these formats

    try:
        results = export_formats(project, args.out, formats, args.weights)
    except ModelTooLarge as err:
        print(f"netbuilder: nothing exported: {err}", file=sys.stderr)
        return PROBLEMS
    except ExportError as err:
        print(f"netbuilder: {err}", file=sys.stderr)
        return USAGE
    except OSError as err:
        print(f"netbuilder: cannot write to {args.out}: {err}", file=sys.stderr)
        return USAGE
    status = _report(results.values())
    if args.weights is not None and args.check and analyze(project.graph).training_task is not None:
        status = max(status, _check_on_validation(project, args.weights, results))
    return status


def _check_on_validation(project: Project, weights: Path, results: dict) -> int:
    """Each written model file run in its consumer on the validation split beside the torch model: one line a
    file on stdout ("model.onnx: 100.0% of 360 validation predictions agree with torch; accuracy 97.2% (torch
    97.2%)"), or why the split cannot be evaluated on stderr (then PROBLEMS)."""
    from netbuilder.export.validation_check import check_on_validation
    from netbuilder.training.evaluation import EvaluationError

    try:
        checks = check_on_validation(project, weights, results)
    except EvaluationError as err:
        print(f"netbuilder: no validation check: {err}", file=sys.stderr)
        return PROBLEMS
    for check in checks:
        print(check.line(results[check.format].path.name))
    return OK


def _export_diagrams(args: argparse.Namespace, project: Project, formats: list[str]) -> int:
    """DIR/diagram.svg and .png, drawn as the window draws the canvas, in the light theme, with no window."""
    from netbuilder.ui.canvas.diagram_export import write_diagrams  # Qt loads only for the diagrams

    if args.expand:
        project = expanded_project(project)
    return _report(write_diagrams(project, args.out, formats).values())


def _report(results) -> int:
    """Each format's file on stdout, or its one-line failure on stderr (then PROBLEMS)."""
    status = OK
    for result in results:
        if result.ok:
            print(f"wrote {result.path}")
        else:
            print(result.error, file=sys.stderr)
            status = PROBLEMS
    return status


def _export_code(args: argparse.Namespace, project: Project) -> int:
    """model.py, train.py and the rest of the code package (netbuilder.pipeline), and the starting weights its
    train.py loads."""
    weights_format = "safetensors" if args.weights is not None and args.weights.suffix == ".safetensors" else "pt"
    try:
        export = write_code_package(project, args.out, weights_format=weights_format)
    except CodegenError as err:
        print(f"netbuilder: nothing exported: {first_model_error(project) or err}", file=sys.stderr)
        return PROBLEMS
    except OSError as err:
        print(f"netbuilder: cannot write to {args.out}: {err}", file=sys.stderr)
        return USAGE
    written = export.written
    if args.weights is not None:
        try:
            written.append(_copy_weights(args.weights, args.out / WEIGHTS_FILES[weights_format]))
        except OSError as err:
            print(f"netbuilder: cannot put the weights into the package: {err}", file=sys.stderr)
            return USAGE
    if export.needs_starting_weights:
        status = _export_starting_weights(args, project, written)
        if status != OK:
            return status
    for path in written:
        print(f"wrote {path}")
    if export.package.training_skipped:
        print(export.package.training_skipped, file=sys.stderr)
        return PROBLEMS if wants_training(project.graph) else OK
    print(f"train with: cd {args.out} && python train.py --epochs {project.training.epochs}")
    return OK


def _copy_weights(source: Path, target: Path) -> Path:
    """The run's weights as the file predict.py loads by default (model.pt, or model.safetensors for safetensors
    weights), written atomically."""
    write_atomically(target, source.read_bytes())
    return target


def _export_starting_weights(args: argparse.Namespace, project: Project, written: list[Path]) -> int:
    """starting_weights.safetensors beside train.py, which loads it (torch loads only for such a project)."""
    from netbuilder.export import ExportError
    from netbuilder.export.weights_file import write_starting_weights_file

    try:
        written.append(write_starting_weights_file(project, args.out))
    except ExportError as err:
        print(f"netbuilder: train.py needs its starting weights: {err}", file=sys.stderr)
        return PROBLEMS
    except OSError as err:
        print(f"netbuilder: cannot write to {args.out}: {err}", file=sys.stderr)
        return USAGE
    return OK
