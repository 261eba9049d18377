"""`netbuilder import SOURCE --input-shape ... -o OUT.nbproj`: an nn.Module traced into a project (torch.fx),
with its weights as the project's starting weights when given."""

from __future__ import annotations

import argparse
import sys
import traceback

from netbuilder.blocks.input_shape import parse_input_shape
from netbuilder.cli.exit_codes import OK, PROBLEMS, USAGE
from netbuilder.project import ProjectError, save_project


def run_import(args: argparse.Namespace) -> int:
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
