"""The command line's grammar: one argparse sub-parser per command, each naming the function that runs it, and
the training settings' options (one per declared setting, typed by it)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netbuilder import __version__
from netbuilder.cli.blocks_command import run_blocks
from netbuilder.cli.check_command import run_check
from netbuilder.cli.compress_command import add_compress_parser
from netbuilder.cli.evaluate_command import SPLIT_HELP, run_evaluate
from netbuilder.cli.explain_command import METHODS, run_explain
from netbuilder.cli.export_command import CODE_FORMAT, run_export
from netbuilder.cli.import_command import run_import
from netbuilder.cli.lr_find_command import run_lr_find
from netbuilder.cli.summary_command import run_summary
from netbuilder.cli.sweep_command import parallel_runs, run_sweep_command
from netbuilder.cli.train_command import run_train
from netbuilder.project.settings import DEVICES, SETTINGS, SettingSpec
from netbuilder.quoting import quoted

COMMANDS = (
    "blocks",
    "check",
    "summary",
    "export",
    "train",
    "import",
    "explain",
    "evaluate",
    "lr-find",
    "sweep",
    "compress",
)


def build_parser() -> argparse.ArgumentParser:
    """The `netbuilder` parser: each command's arguments, and in `run` the function that runs it."""
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
    blocks.set_defaults(run=run_blocks)

    check = commands.add_parser("check", help="print each problem with its node, message and fix")
    check.add_argument("project", type=Path)
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument(
        "--model-only", action="store_true", help="ignore what only training needs (a loss, an optimizer, a Dataset)"
    )
    check.set_defaults(run=run_check)

    summary = commands.add_parser("summary", help="print layers, output shapes, parameters and MACs")
    summary.add_argument("project", type=Path)
    summary.add_argument("--json", action="store_true", help="machine-readable output")
    summary.add_argument(
        "--expand", action="store_true", help="list the blocks inside each composite block too, under it"
    )
    summary.set_defaults(run=run_summary)

    export = commands.add_parser("export", help="write model.py, train.py and requirements.txt, or other formats")
    export.add_argument("project", type=Path)
    export.add_argument("-o", "--out", type=Path, required=True, help="folder to write into")
    export.add_argument(
        "--format",
        default=CODE_FORMAT,
        help="comma-separated: code (the Python package), torchscript, pt2 (torch.export), onnx, onnx-int8 "
        "(quantized), safetensors, summary, svg and png (the network diagram as DIR/diagram.svg and "
        "DIR/diagram.png, in the light theme); or all (default: code)",
    )
    export.add_argument(
        "--weights",
        type=Path,
        help="a run's weights (RUN/model.pt); without it, initialised with the project's seed. With code, they "
        "are put into the package for predict.py",
    )
    export.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="with --weights, skip running each model file on the validation split (agreement with torch, accuracy)",
    )
    export.add_argument(
        "--expand",
        action="store_true",
        help="draw the diagrams with every composite block expanded into the blocks it is made of",
    )
    export.set_defaults(run=run_export)

    train = commands.add_parser(
        "train", help="train the project; progress, and the run kept in its run history with weights and checkpoints"
    )
    train.add_argument("project", type=Path)
    for spec in SETTINGS:  # one option per declared training setting, overriding the project's
        train.add_argument(
            spec.flag,
            type=_option_type(spec),
            choices=spec.choices or None,
            help=f"{spec.help} ({'' if spec.choices else spec.expected() + '; '}{spec.auto + '; ' if spec.auto else ''}"
            "default: the project's)".replace("%", "%%"),
        )
    train.add_argument(
        "--out",
        type=Path,
        help="a folder of runs: this run goes into DIR/RUN/ (model.pt, checkpoints/, metrics.json, the run's "
        "record) and DIR/latest names the last run that finished; without it, PROJECT.runs/RUN/",
    )
    train.add_argument("--resume", type=Path, help="a checkpoint (a run's last.pt) to go on from")
    train.add_argument(
        "--gpus",
        type=int,
        metavar="N",
        help="train on N GPUs: N processes on CUDA, each on its share of every batch (as --processes N --device cuda)",
    )
    train.add_argument(
        "--tensorboard",
        type=Path,
        metavar="DIR",
        help="write TensorBoard event files into DIR/RUN/ (losses, metrics, learning rate, hyperparameters, the "
        "graph): tensorboard --logdir DIR compares the runs",
    )
    train.set_defaults(run=run_train)

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
    imports.set_defaults(run=run_import)

    explain = commands.add_parser(
        "explain", help="draw what a trained network looks at in one input (saliency, Grad-CAM, integrated gradients)"
    )
    explain.add_argument("project", type=Path)
    explain.add_argument("--weights", type=Path, required=True, help="a run's weights (RUN/model.pt)")
    explain.add_argument(
        "--input", type=Path, required=True, help="an image file, CSV file or .pt/.npy tensor, read as predict.py does"
    )
    explain.add_argument("--method", choices=tuple(METHODS), default="gradcam", help="default: gradcam")
    explain.add_argument("--layer", help="the convolution (node label) Grad-CAM looks at; default: the last one")
    explain.add_argument(
        "--class", dest="target", help="the class to explain (its name or number); default: the predicted one"
    )
    explain.add_argument("-o", "--out", type=Path, required=True, help="the picture to write (PNG)")
    explain.set_defaults(run=run_explain)

    evaluate = commands.add_parser(
        "evaluate", help="measure a trained network on its data: per-class table, curves, a report for a write-up"
    )
    evaluate.add_argument("project", type=Path)
    evaluate.add_argument("--weights", type=Path, help="a run's weights (RUN/model.pt); default: the last run's")
    evaluate.add_argument("--split", default="val", metavar="val|train|FOLDER", help=SPLIT_HELP)
    evaluate.add_argument("--json", action="store_true", help="the figures as one JSON object on stdout")
    evaluate.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="write report.md, metrics.json and the plots (confusion, ROC and precision-recall, or a scatter) here",
    )
    evaluate.set_defaults(run=run_evaluate)

    add_compress_parser(commands)

    lr_find = commands.add_parser(
        "lr-find", help="the learning-rate range test: train briefly at growing rates and suggest one"
    )
    lr_find.add_argument("project", type=Path)
    lr_find.add_argument("--start", type=float, default=1e-7, help="the first rate (default: 1e-7)")
    lr_find.add_argument("--end", type=float, default=10.0, help="the last rate (default: 10)")
    lr_find.add_argument("--steps", type=int, default=200, help="steps, one batch each (default: 200)")
    lr_find.add_argument("--device", choices=DEVICES, help="where it runs (default: the project's)")
    lr_find.add_argument("--json", action="store_true", help="the rates, losses and suggestion as one JSON object")
    lr_find.set_defaults(run=run_lr_find)
    _add_sweep(commands)
    return parser


def _add_sweep(commands: Any) -> None:
    """`netbuilder sweep`'s options."""
    sweep = commands.add_parser(
        "sweep", help="train the project with block parameters and settings swept; the runs kept in its history"
    )
    sweep.add_argument("project", type=Path)
    sweep.add_argument(
        "--set",
        action="append",
        metavar="TARGET=VALUES",
        help="what to sweep, again for each target: NODE.PARAMETER or a training setting, then a list "
        "(fc1.out_features=64,128,256), a range (optimizer.lr=1e-4:1e-1:log:8, dropout.p=0:0.5:lin:6) or random "
        "samples (optimizer.lr=1e-4:1e-1:lograndom:8)",
    )
    sweep.add_argument("--search", choices=("grid", "random"), default="grid", help="default: grid")
    sweep.add_argument(
        "--budget", type=int, metavar="N", help="at most this many runs (a random search draws this many)"
    )
    sweep.add_argument("--epochs", type=int, metavar="E", help="epochs of each run (default: the project's)")
    sweep.add_argument(
        "--halving",
        action="store_true",
        help="successive halving: every run trains a few epochs, the better half goes on for twice as many, "
        "and so on up to --epochs",
    )
    sweep.add_argument(
        "--metric", metavar="M", help="what ranks the runs (default: val_accuracy, or val_r2 for values)"
    )
    sweep.add_argument(
        "--seed", type=int, default=0, metavar="S", help="the seed of the sweep's own random draws (default: 0)"
    )
    sweep.add_argument("--device", choices=DEVICES, help="where the runs train (default: the project's)")
    sweep.add_argument(
        "--tensorboard",
        type=Path,
        metavar="DIR",
        help="each run also writes TensorBoard event files into DIR/RUN/, its swept values among its "
        "hyperparameters: tensorboard --logdir DIR compares the runs (its HPARAMS tab)",
    )
    sweep.add_argument(
        "--parallel",
        type=parallel_runs,
        default=1,
        metavar="K",
        help="runs at once on a CUDA GPU, each in a process of its own (faster for small models), or auto: "
        "as many as fit in half the GPU's free memory, up to 4 (default: 1)",
    )
    sweep.add_argument("--json", action="store_true", help="the runs and the best as one JSON object")
    sweep.set_defaults(run=run_sweep_command)


def _option_type(spec: SettingSpec) -> Callable[[str], Any]:
    """A training setting's option type: the value as its kind, or a refusal that says what the setting takes
    and quotes at most a short prefix of what was given (argparse would quote it whole, thousands of
    characters for a mistyped number)."""

    def read(text: str) -> Any:
        if spec.auto and text == "auto":
            return text
        try:
            value = spec.python_type(text)
        except ValueError:
            value = None
        if value is None or (spec.choices and value not in spec.choices):
            expected = spec.expected() + (" or auto" if spec.auto else "")
            raise argparse.ArgumentTypeError(f"expected {expected}, got {quoted(text)}")
        return value

    read.__name__ = spec.python_type.__name__
    return read
