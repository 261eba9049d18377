"""The `netbuilder` command: `netbuilder [PROJECT]` opens the window; blocks | check | summary | export | train |
import.

Exit codes (ARCHITECTURE.md): 0 ok, 1 the project has problems, 2 usage or unreadable input; 130 and 143 when
Ctrl+C (SIGINT) or SIGTERM ended the command (netbuilder.interrupts).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from netbuilder import __version__
from netbuilder.analysis import Analysis, Diagnostic, analyze
from netbuilder.analysis.summary import summary_rows
from netbuilder.analysis.training_task import wants_training
from netbuilder.blocks import BLOCKS, by_category
from netbuilder.blocks.input_shape import parse_input_shape
from netbuilder.blocks.spec import BlockSpec, ParamSpec
from netbuilder.blocks.tensor_type import format_shape
from netbuilder.codegen.model_code import CodegenError
from netbuilder.interrupts import run_ending_cleanly
from netbuilder.pipeline import expanded_project, write_code_package
from netbuilder.project import Project, ProjectError, SettingsError, load_project, save_project
from netbuilder.project.import_gaps import gaps_headline, gaps_to_list, grouped_gap_lines
from netbuilder.project.settings import SETTING, SETTINGS, SettingSpec
from netbuilder.quoting import quoted
from netbuilder.runtime.library_shapes import install as install_library_shapes
from netbuilder.runtime.machine_memory import ModelTooLarge, training_memory_warning

OK, PROBLEMS, USAGE = 0, 1, 2
COMMANDS = ("blocks", "check", "summary", "export", "train", "import")
CODE_FORMAT = "code"  # the Python package; the others are netbuilder.export.FORMATS and DIAGRAM_FORMATS
DIAGRAM_FORMATS = ("svg", "png")  # the network diagram (Qt), as netbuilder.ui.canvas.diagram_export names them
# what ends a partial import's list of gaps (Project.import_gaps): said wherever the list is shown
GAPS_STAND = (
    "they stay listed until the gaps are filled: in the window, once an edit makes the model check clean, or "
    "with Dismiss in its banner"
)


def main(argv: list[str] | None = None) -> int:
    """Run the command in `argv` (default: the process's arguments); its exit code."""
    return run_ending_cleanly(lambda: _command(list(sys.argv[1:] if argv is None else argv)))


def _command(argv: list[str]) -> int:
    install_library_shapes()  # torch finds a LibraryModule's shape (loaded when one is first checked)
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        return _open(argv)
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except ProjectError as err:
        said = str(err)
        if not said.startswith("cannot read "):  # the reader names a file it cannot open (a folder, a FIFO)
            said = f"cannot read {args.project}: {said}"
        print(f"netbuilder: {said}", file=sys.stderr)
        return USAGE
    except BrokenPipeError:  # `netbuilder blocks | head`
        return OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netbuilder",
        description="Draw neural networks, check every tensor shape, export clean PyTorch.",
        epilog="Run `netbuilder PROJECT` to open a project. Exit codes: 0 ok, 1 problems found, 2 usage or "
        "unreadable input.",
    )
    parser.add_argument("--version", action="version", version=f"netbuilder {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    blocks = commands.add_parser("blocks", help="list the block catalogue by category")
    blocks.add_argument("--json", action="store_true", help="machine-readable output")
    blocks.set_defaults(run=_blocks)

    check = commands.add_parser("check", help="print each problem with its node, message and fix")
    check.add_argument("project", type=Path)
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument(
        "--model-only", action="store_true", help="ignore what only training needs (a loss, an optimizer, a Dataset)"
    )
    check.set_defaults(run=_check)

    summary = commands.add_parser("summary", help="print layers, output shapes, parameters and MACs")
    summary.add_argument("project", type=Path)
    summary.add_argument("--json", action="store_true", help="machine-readable output")
    summary.add_argument(
        "--expand", action="store_true", help="list the blocks inside each composite block too, under it"
    )
    summary.set_defaults(run=_summary)

    export = commands.add_parser("export", help="write model.py, train.py and requirements.txt, or other formats")
    export.add_argument("project", type=Path)
    export.add_argument("-o", "--out", type=Path, required=True, help="folder to write into")
    export.add_argument(
        "--format",
        default=CODE_FORMAT,
        help="comma-separated: code (the Python package), torchscript, onnx, safetensors, summary, svg and png "
        "(the network diagram as DIR/diagram.svg and DIR/diagram.png, in the light theme); or all (default: code)",
    )
    export.add_argument(
        "--weights", type=Path, help="a run's weights (RUN/model.pt); without it, initialised with the project's seed"
    )
    export.add_argument(
        "--expand",
        action="store_true",
        help="draw the diagrams with every composite block expanded into the blocks it is made of",
    )
    export.set_defaults(run=_export)

    train = commands.add_parser(
        "train", help="train the project; progress, and the run kept in its run history with weights and checkpoints"
    )
    train.add_argument("project", type=Path)
    for spec in SETTINGS:  # one option per declared training setting, overriding the project's
        train.add_argument(
            spec.flag,
            type=_option_type(spec),
            choices=spec.choices or None,
            help=f"{spec.help} ({'' if spec.choices else spec.expected() + '; '}default: the project's)".replace(
                "%", "%%"
            ),
        )
    train.add_argument(
        "--out",
        type=Path,
        help="a folder of runs: this run goes into DIR/RUN/ (model.pt, checkpoints/, metrics.json, the run's "
        "record) and DIR/latest names the last run that finished; without it, PROJECT.runs/RUN/",
    )
    train.add_argument("--resume", type=Path, help="a checkpoint (a run's last.pt) to go on from")
    train.set_defaults(run=_train)

    imports = commands.add_parser("import", help="bring a PyTorch nn.Module in as a project (torch.fx)")
    imports.add_argument("source", help="FILE.py:ClassName (built with no arguments) or torchvision:NAME")
    imports.add_argument("--input-shape", required=True, help="the input's shape, batch first: 1,3,32,32")
    imports.add_argument("--dtype", choices=("float32", "int64"), default="float32", help="int64 for token ids")
    imports.add_argument("-o", "--out", type=Path, required=True, help="the .nbproj file to write")
    imports.add_argument(
        "--weights",
        type=Path,
        help="the model's state_dict (.safetensors, or a .pt read with weights_only): training starts from it, "
        "kept beside the project as OUT.weights.safetensors",
    )
    imports.add_argument(
        "--training",
        action="store_true",
        help="trace forward() in training mode, with the branches only training runs (auxiliary heads); "
        "eval mode, the network that predicts, without it",
    )
    imports.add_argument("--verbose", action="store_true", help="when the import fails, print torch's traceback too")
    imports.set_defaults(run=_import)
    return parser


# ---- commands --------------------------------------------------------------------------------------------


def _open(argv: list[str]) -> int:
    """`netbuilder [PROJECT]`: the window, on the project or on the start page."""
    if len(argv) > 1:
        _parser().print_usage(sys.stderr)
        print("netbuilder: give one project to open, or a command", file=sys.stderr)
        return USAGE
    path = Path(argv[0]) if argv else None
    if path is not None and not path.is_file():
        print(f"netbuilder: no project file at {path}", file=sys.stderr)
        return USAGE
    from netbuilder.ui.app.application import run  # Qt loads only for the window, never for the other commands

    return run(path)


def _blocks(args: argparse.Namespace) -> int:
    groups = by_category()
    if args.json:
        _print_json({"blocks": [_block_json(spec) for specs in groups.values() for spec in specs]})
        return OK
    for category, specs in groups.items():
        print(category)
        width = max(len(s.type) for s in specs)
        for spec in specs:
            print(f"  {spec.type.ljust(width)}  {spec.summary}")
        print()
    print(f"{len(BLOCKS)} blocks. `netbuilder blocks --json` gives every parameter and port.")
    return OK


def _check(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    analysis = analyze(project.graph)
    training = not args.model_only
    problems = analysis.problems(training=training)
    failed = any(d.is_error for d in problems) or bool(project.import_gaps)
    if args.json:
        _print_json(
            {
                "project": project.name,
                "ok": not failed,
                "nodes": _nodes_json(project, analysis),
                "problems": [_diagnostic_json(project, d) for d in problems],
                "import_gaps": gaps_to_list(project.import_gaps),
            }
        )
        return PROBLEMS if failed else OK
    if not problems and not project.import_gaps:
        print("no problems")
        return OK
    for diagnostic in problems:
        print(_diagnostic_text(project, diagnostic))
    if problems:
        errors = sum(d.is_error for d in problems)
        print(f"\n{errors} error(s), {len(problems) - errors} warning(s)")
    _print_import_gaps(project, spaced=bool(problems))
    return PROBLEMS if failed else OK


def _summary(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    analysis = analyze(project.graph)
    failed = analysis.has_errors(training=False) or bool(project.import_gaps)
    if args.json:
        _print_json(
            {
                "project": project.name,
                "ok": not failed,
                "nodes": _nodes_json(project, analysis),
                "totals": {"parameters": analysis.total_params, "macs": analysis.total_macs},
                "import_gaps": gaps_to_list(project.import_gaps),
            }
        )
        return PROBLEMS if failed else OK
    rows = [("node", "block", "output shape", "parameters", "MACs")]
    for row in summary_rows(project.graph, analysis, expand=args.expand):
        counted = row.parameters is not None
        rows.append(
            (
                row.label,
                row.block,
                row.shapes,
                f"{row.parameters:,}" if counted else "",
                f"{row.macs:,}" if counted else "",
            )
        )
    rows.append(("total", "", "", f"{analysis.total_params:,}", f"{analysis.total_macs:,}"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    print(f"{project.name}  (N = batch size; MACs per sample)\n")
    for i, row in enumerate(rows):
        if i in (1, len(rows) - 1):
            print("  ".join("-" * w for w in widths))
        cells = [row[c].ljust(widths[c]) if c < 3 else row[c].rjust(widths[c]) for c in range(5)]
        print("  ".join(cells).rstrip())
    problems = analysis.problems(training=False)
    if problems:
        print(f"\n{len(problems)} problem(s): run `netbuilder check {args.project}` for details")
    _print_import_gaps(project, spaced=True)
    return PROBLEMS if failed else OK


def _export(args: argparse.Namespace) -> int:
    """The code package by the package's own path, then the diagrams, then each other format on its own: a
    failing format is one line on stderr and exit code 1, and the others are still written. torch loads only
    for the formats that need it, Qt only for the diagrams."""
    wanted = [name.strip() for name in args.format.split(",") if name.strip()]
    project = load_project(args.project)
    if wanted == [CODE_FORMAT]:
        return PROBLEMS if _refused(project) else _export_code(args, project)
    model_formats: list[str] = []
    if not wanted or any(name not in (CODE_FORMAT, *DIAGRAM_FORMATS) for name in wanted):
        from netbuilder.export import FORMATS  # torch loads here: only the diagrams and code are named without it

        known = (CODE_FORMAT, *FORMATS, *DIAGRAM_FORMATS)
        unknown = [name for name in wanted if name not in (*known, "all")]
        if unknown or not wanted:
            print(f"netbuilder: --format takes {', '.join(known)} or all, got {args.format!r}", file=sys.stderr)
            return USAGE
        if "all" in wanted:
            wanted = list(known)
        model_formats = [name for name in wanted if name in FORMATS]
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
    said = _first_model_error(project) or _gaps_refusal(project)
    if said:
        print(f"netbuilder: nothing exported: {said}", file=sys.stderr)
    return bool(said)


def _export_formats(args: argparse.Namespace, project: Project, formats: list[str]) -> int:
    """TorchScript, ONNX, safetensors, summary.md (netbuilder.export), each checked against torch."""
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
    return _report(results.values())


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
    try:
        export = write_code_package(project, args.out)
    except CodegenError as err:
        print(f"netbuilder: nothing exported: {_first_model_error(project) or err}", file=sys.stderr)
        return PROBLEMS
    except OSError as err:
        print(f"netbuilder: cannot write to {args.out}: {err}", file=sys.stderr)
        return USAGE
    written = export.written
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


def _train(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    changes = {spec.name: getattr(args, spec.name) for spec in SETTINGS if getattr(args, spec.name) is not None}
    try:
        project = replace(project, training=replace(project.training, **changes))
    except SettingsError as err:
        print(f"netbuilder: {SETTING[err.field].flag}: {err.reason}", file=sys.stderr)
        return USAGE
    gaps = _gaps_refusal(project)
    if gaps:
        print(f"netbuilder: cannot train {args.project}: {gaps}", file=sys.stderr)
        return PROBLEMS
    from netbuilder.training.console import train_in_terminal  # torch loads only when training
    from netbuilder.training.program import ProgramError

    try:
        _warn_about_memory(project)
        outcome = train_in_terminal(project, out=args.out, resume=args.resume)
    except (ProgramError, ModelTooLarge) as err:
        print(f"netbuilder: cannot train {args.project}: {err}", file=sys.stderr)
        return PROBLEMS
    except (ValueError, OSError) as err:  # no GPU for --device cuda, an unreadable checkpoint
        print(f"netbuilder: {err}", file=sys.stderr)
        return USAGE
    return OK if outcome.ok else PROBLEMS


def _warn_about_memory(project: Project) -> None:
    """One line on stderr when training would need more memory than the device has (an estimate, so the run
    still starts); ModelTooLarge when the parameters alone do not fit. After torch has loaded: it knows the
    GPU."""
    warning = training_memory_warning(analyze(project.graph), project.training)
    if warning:
        print(f"netbuilder: warning: {warning}", file=sys.stderr)


def _import(args: argparse.Namespace) -> int:
    try:
        shape = parse_input_shape(args.input_shape)
    except ValueError as err:
        print(f"netbuilder: --input-shape: {err}", file=sys.stderr)
        return USAGE
    if args.out.is_dir() or not args.out.parent.is_dir():  # said now, not after tracing the model
        where = "is a folder" if args.out.is_dir() else "is in no folder that exists"
        print(f"netbuilder: -o {args.out} {where}: give the .nbproj file to write", file=sys.stderr)
        return USAGE
    from netbuilder.importers import ImportFailure, import_module  # torch loads only when importing
    from netbuilder.importers.sources import SourceError, model_from_source

    try:
        module, name = model_from_source(args.source)
    except SourceError as err:
        print(f"netbuilder: cannot import {args.source}: {err}", file=sys.stderr)
        return USAGE
    try:
        result = import_module(module, shape, name, dtype=args.dtype, training=args.training)
    except ImportFailure as err:
        if args.verbose and err.__cause__ is not None:
            traceback.print_exception(err.__cause__, file=sys.stderr)
        print(f"netbuilder: nothing imported: {err}", file=sys.stderr)
        if not args.verbose:
            print("netbuilder: --verbose prints torch's traceback", file=sys.stderr)
        return PROBLEMS
    print(result.report(), file=sys.stdout if result.complete else sys.stderr)
    if args.weights is not None:
        status = _import_weights(args, result)
        if status != OK:
            return status
    try:
        save_project(result.project, args.out)
    except ProjectError as err:
        print(f"netbuilder: {err}", file=sys.stderr)
        return USAGE
    print(f"wrote {args.out}")
    return OK if result.complete else PROBLEMS


def _import_weights(args: argparse.Namespace, result) -> int:
    """--weights: the state_dict becomes the project's starting weights, or nothing is written."""
    from netbuilder.codegen.model_code import CodegenError
    from netbuilder.importers import WeightsError
    from netbuilder.importers.weights import attach_weights, read_weights_file
    from netbuilder.project.project_file import WEIGHTS_SUFFIX
    from netbuilder.runtime.weights import WeightsFileError

    target = args.out.with_name(args.out.stem + WEIGHTS_SUFFIX)
    try:
        attached = attach_weights(result, read_weights_file(args.weights), target, str(args.weights))
    except FileNotFoundError:
        print(f"netbuilder: no weights file {args.weights}", file=sys.stderr)
        return USAGE
    except (WeightsFileError, WeightsError) as err:
        print(f"netbuilder: nothing written: {err}", file=sys.stderr)
        return USAGE
    except CodegenError as err:
        print(f"netbuilder: nothing written: the weights need the whole model imported ({err})", file=sys.stderr)
        return PROBLEMS
    except OSError as err:
        print(f"netbuilder: cannot write {target}: {err}", file=sys.stderr)
        return USAGE
    print(f"wrote {target}: {attached.note}")
    return OK


# ---- helpers ---------------------------------------------------------------------------------------------


def _option_type(spec: SettingSpec) -> Callable[[str], Any]:
    """A training setting's option type: the value as its kind, or a refusal that says what the setting takes
    and quotes at most a short prefix of what was given (argparse would quote it whole, thousands of
    characters for a mistyped number)."""

    def read(text: str) -> Any:
        try:
            value = spec.python_type(text)
        except ValueError:
            value = None
        if value is None or (spec.choices and value not in spec.choices):
            raise argparse.ArgumentTypeError(f"expected {spec.expected()}, got {quoted(text)}")
        return value

    read.__name__ = spec.python_type.__name__
    return read


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _first_model_error(project: Project) -> str:
    """The first error that stops the model from being generated, where it is and what it says; '' if none."""
    errors = analyze(project.graph).errors(training=False)
    if not errors:
        return ""
    more = f" ({len(errors) - 1} more: netbuilder check --model-only)" if len(errors) > 1 else ""
    return f"{_where(project, errors[0])}: {errors[0].message}{more}"


def _gaps_refusal(project: Project) -> str:
    """Why a project whose import left gaps is not exported; '' when none stand."""
    if not project.import_gaps:
        return ""
    return f"{gaps_headline(len(project.import_gaps))} (netbuilder check lists them); {GAPS_STAND}"


def _print_import_gaps(project: Project, *, spaced: bool) -> None:
    """A partial import's gaps, after the diagnostics (`spaced`: a blank line after what came before): one line
    per call and reason, as the import listed them."""
    if not project.import_gaps:
        return
    blank = "\n" if spaced else ""
    print(f"{blank}{gaps_headline(len(project.import_gaps))}:")
    for line in grouped_gap_lines(project.import_gaps):
        print(f"  {_one_line(line)}")
    print(GAPS_STAND)


def _where(project: Project, diagnostic: Diagnostic) -> str:
    if diagnostic.node is None:
        return "project"
    node = project.graph.nodes[diagnostic.node]
    port = f".{diagnostic.port}" if diagnostic.port else ""
    return f"{_one_line(node.label)}{port} ({node.block})"


def _diagnostic_text(project: Project, diagnostic: Diagnostic) -> str:
    text = f"{_where(project, diagnostic)}: {diagnostic.severity}: {diagnostic.message}"
    if diagnostic.fix is not None:
        text += f"\n    fix: {diagnostic.fix.describe(project.graph)}"
    return text


def _diagnostic_json(project: Project, diagnostic: Diagnostic) -> dict[str, Any]:
    node = project.graph.nodes[diagnostic.node] if diagnostic.node else None
    return {
        "node": diagnostic.node,
        "label": node.label if node else None,
        "severity": diagnostic.severity,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "port": diagnostic.port,
        "param": diagnostic.param,
        "fix": diagnostic.fix.describe(project.graph) if diagnostic.fix else None,
        "training_only": diagnostic.training_only,
    }


def _nodes_json(project: Project, analysis: Analysis) -> list[dict[str, Any]]:
    model = set(analysis.model_nodes)
    nodes = []
    for node_id in analysis.order:
        node, result = project.graph.nodes[node_id], analysis.results[node_id]
        nodes.append(
            {
                "id": node_id,
                "label": node.label,
                "block": node.block,
                "outputs": {port: format_shape(t.shape) for port, t in result.outputs.items()},
                "parameters": result.params if node_id in model else 0,
                "macs": result.macs if node_id in model else 0,
                "diagnostics": [_diagnostic_json(project, d) for d in analysis.for_node(node_id)],
            }
        )
    return nodes


def _param_json(param: ParamSpec) -> dict[str, Any]:
    facts: dict[str, Any] = {"name": param.name, "kind": param.kind, "default": param.default, "help": param.help}
    for key in ("min", "max"):
        if getattr(param, key) is not None:
            facts[key] = getattr(param, key)
    if param.choices:
        facts["choices"] = list(param.choices)
    if param.lengths:  # how many integers: of an ints value, or of an int_per_dim value given per dimension
        facts["lengths"] = list(param.lengths)
    if param.inferred:
        facts["inferred"] = True
    return facts


def _block_json(spec: BlockSpec) -> dict[str, Any]:
    return {
        "type": spec.type,
        "category": spec.category,
        "role": spec.role,
        "summary": spec.summary,
        "doc": spec.doc,
        "params": [_param_json(p) for p in spec.params],
        "inputs": [{"name": p.name, "accepts": sorted(p.accepts)} for p in spec.inputs],
        "outputs": [{"name": p.name, "kind": p.kind} for p in spec.outputs],
    }


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))
