"""The `netbuilder` command: `netbuilder [PROJECT]` opens the window; blocks | check | summary | export | train |
import | explain | evaluate | lr-find | sweep | compress.

Exit codes (ARCHITECTURE.md): 0 ok, 1 the project has problems, 2 usage or unreadable input; 130 and 143 when
Ctrl+C (SIGINT) or SIGTERM ended the command (netbuilder.interrupts).

Each command is a module of its own (blocks_command.py ... evaluate_command.py), the parser that names them is
parser.py, what several of them say is messages.py; they import one another, never this package's __init__.
"""

from __future__ import annotations

import sys
from pathlib import Path

from netbuilder.cli.collector import thaw_imports
from netbuilder.cli.exit_codes import OK, USAGE
from netbuilder.cli.parser import COMMANDS, build_parser
from netbuilder.interrupts import run_ending_cleanly
from netbuilder.project import ProjectError
from netbuilder.runtime.library_shapes import install as install_library_shapes

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command in `argv` (default: the process's arguments); its exit code."""
    return run_ending_cleanly(lambda: _command(list(sys.argv[1:] if argv is None else argv)))


def _command(argv: list[str]) -> int:
    install_library_shapes()  # torch finds a LibraryModule's shape (loaded when one is first checked)
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        return _open(argv)
    args = build_parser().parse_args(argv)
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
    finally:
        thaw_imports()  # what the command froze once torch loaded (collector.py)


def _open(argv: list[str]) -> int:
    """`netbuilder [PROJECT]`: the window, on the project or on the start page."""
    if len(argv) > 1:
        build_parser().print_usage(sys.stderr)
        print("netbuilder: give one project to open, or a command", file=sys.stderr)
        return USAGE
    path = Path(argv[0]) if argv else None
    if path is not None and not path.is_file():
        print(f"netbuilder: no project file at {path}", file=sys.stderr)
        return USAGE
    from netbuilder.ui.app.application import run  # Qt loads only for the window, never for the other commands

    return run(path)
