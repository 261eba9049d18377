"""`netbuilder compress PROJECT [--weights W] [--channels F] [--sparsity S] [--scope global|layer] [--fine-tune N]
[--quantize M,...] [--compiled] [-o DIR] [--json]`: a trained network pruned and quantized, each result measured on
the validation split against the float network (size, parameters, CPU latency, figures, agreement) and written into
DIR with the table (compression.md, compression.json). Channel pruning writes a new version of the project, whose
graph has the smaller sizes and whose starting weights are the pruned ones. torch loads only here."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from netbuilder.cli.collector import freeze_imports
from netbuilder.cli.evaluate_command import run_of, weights_to_use, with_run_split
from netbuilder.cli.exit_codes import OK, PROBLEMS, USAGE
from netbuilder.cli.json_output import print_json
from netbuilder.cli.messages import first_model_error
from netbuilder.cli.text_table import text_table
from netbuilder.project import load_project
from netbuilder.project.run_history import RunHistory

QUANTIZE_HELP = "dynamic-int8 (Linear, LSTM, GRU), static-int8 (calibrated; convolutions), weight-int8; comma-separated"


def run_compress(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    said = first_model_error(project)
    if said:
        print(f"netbuilder: nothing compressed: {said}", file=sys.stderr)
        return PROBLEMS
    history = RunHistory(project.path)
    weights = weights_to_use(args, history, "compress")
    if weights is None:
        return PROBLEMS
    from netbuilder.training.compression.compress import CompressionError, CompressionPlan, compress  # torch
    from netbuilder.training.compression.report import report_rows
    from netbuilder.training.console import METRICS_FILE

    freeze_imports()
    try:
        plan = CompressionPlan(
            macs_fraction=args.channels,
            sparsity=args.sparsity,
            scope=args.scope,
            fine_tune_epochs=args.fine_tune,
            quantizations=tuple(name.strip() for name in args.quantize.split(",") if name.strip()),
            compiled=args.compiled,
        )
    except ValueError as err:
        print(f"netbuilder: {err}", file=sys.stderr)
        return USAGE
    if not plan.prunes and not plan.quantizations:
        print("netbuilder: say what to do: --channels, --sparsity and/or --quantize", file=sys.stderr)
        return USAGE
    project = with_run_split(project, run_of(history, weights, weights.parent / METRICS_FILE))
    out = args.out or Path(f"{args.project.with_suffix('')}-compressed")
    started = time.monotonic()

    def progress(what: str, done: float) -> None:
        elapsed = time.monotonic() - started
        left = f", about {elapsed / done * (1 - done):.0f} s left" if 0 < done < 1 else ""
        print(f"compress: {what} ({done:.0%} done{left})", file=sys.stderr)

    try:
        report = compress(project, weights, plan, out, progress=None if args.json else progress)
    except CompressionError as err:
        print(f"netbuilder: cannot compress: {err}", file=sys.stderr)
        return PROBLEMS
    except OSError as err:
        print(f"netbuilder: cannot write into {out}: {err.strerror or err}", file=sys.stderr)
        return USAGE
    if args.json:
        from netbuilder.training.compression.report import report_json

        print_json(report_json(report.rows, project.name, weights) | {"folder": str(out)})
        return OK
    header, cells = report_rows(report.rows)
    print(text_table(header, cells))
    if report.project_file is not None:
        print(f"the pruned network: {report.project_file} (open it, export it or train it further)")
    print(f"wrote the networks and {', '.join(path.name for path in report.files)} into {out}")
    return OK


def add_compress_parser(commands) -> None:
    compress = commands.add_parser(
        "compress", help="prune and quantize a trained network, each result measured against the float one"
    )
    compress.add_argument("project", type=Path)
    compress.add_argument("--weights", type=Path, help="a run's weights (RUN/model.pt); default: the last run's")
    compress.add_argument(
        "--channels", type=float, metavar="F", help="prune channels of convolutions and linear layers to F of the MACs"
    )
    compress.add_argument("--sparsity", type=float, metavar="S", help="set the share S of smallest weights to zero")
    compress.add_argument(
        "--scope", choices=("global", "layer"), default="global", help="--sparsity over all layers or in each"
    )
    compress.add_argument("--fine-tune", type=int, default=0, metavar="N", help="train N epochs after pruning")
    compress.add_argument("--quantize", default="", metavar="M,...", help=QUANTIZE_HELP)
    compress.add_argument(
        "--compiled", action="store_true", help="time static-int8 through torch.compile (its int8 kernels)"
    )
    compress.add_argument("-o", "--out", type=Path, help="the folder to write into (default: PROJECT-compressed)")
    compress.add_argument("--json", action="store_true", help="the table as one JSON object on stdout")
    compress.set_defaults(run=run_compress)
