"""How the `netbuilder` command ends on a signal: SIGINT (Ctrl+C) with exit code 130 and SIGTERM with 143 (the
shell's 128 + the signal's number), after one line on stderr and never a traceback.

Standard library only, so `python -m netbuilder` can install it before the command's modules load.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

INTERRUPTED_LINE = "netbuilder: interrupted"
ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM)

Handler = Callable[[int, FrameType | None], object] | int | None


class Terminated(BaseException):
    """SIGTERM arrived. Raised wherever the program stands, as Python raises KeyboardInterrupt for SIGINT, so
    `finally` blocks and context managers clean up on the way out (temporary files removed). A BaseException,
    as KeyboardInterrupt is, so that `except Exception` does not swallow it."""


def exit_code(signum: int) -> int:
    """The exit code of a command ended by signal `signum`: 128 + its number, as a shell reports it."""
    return 128 + signum


def run_ending_cleanly(command: Callable[[], int]) -> int:
    """`command()`'s exit code; on SIGINT or SIGTERM, one line on stderr and 130 or 143.

    Both signals unwind the command as exceptions (KeyboardInterrupt, Terminated). A signal the process was
    started to ignore (`nohup`, a background job) stays ignored. A command may take a signal over for a while
    (`netbuilder train` stops after the current step and keeps a checkpoint), then end as that signal would
    have ended it with `end_as_signalled`."""
    previous = _install({signal.SIGINT: signal.default_int_handler, signal.SIGTERM: _raise_terminated})
    try:
        return command()
    except KeyboardInterrupt:
        return _ended(signal.SIGINT)
    except Terminated:
        return _ended(signal.SIGTERM)
    finally:
        _install(previous)


def end_as_signalled(signum: int) -> None:
    """End as signal `signum` ends the program where it stands now (inside `run_ending_cleanly`: its exit
    code and line; elsewhere whatever that signal does), for a command that let a signal finish its work first."""
    signal.raise_signal(signum)


@contextlib.contextmanager
def signals_stop(stop: Callable[[], object]) -> Iterator[list[int]]:
    """Within the block, SIGINT and SIGTERM call `stop()` (a training that ends after its current step and
    keeps a checkpoint) instead of unwinding; yields the list of signals that came, so that afterwards the
    command can `end_as_signalled(signals[0])`. The previous handlers come back when the block ends."""
    arrived: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        arrived.append(signum)
        stop()

    previous = _install({signum: handler for signum in ENDING_SIGNALS})
    try:
        yield arrived
    finally:
        _install(previous)


def end_at_once_on_signals() -> None:
    """While the command's modules load there is nothing to clean up: from now on a signal ends the process at
    once with its line and exit code (`run_ending_cleanly` takes over for the command itself)."""
    _install({signum: _exit_now for signum in ENDING_SIGNALS})


def _install(handlers: dict[int, Handler]) -> dict[int, Handler]:
    """Set each handler (on the main thread only, where Python runs them) unless the signal is ignored;
    return the handlers that were there."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Handler] = {}
    for signum, handler in handlers.items():
        if signal.getsignal(signum) in (signal.SIG_IGN, None):  # ignored, or set outside Python: leave it
            continue
        previous[signum] = signal.signal(signum, handler)
    return previous


def _raise_terminated(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated


def _ended(signum: int) -> int:
    with contextlib.suppress(OSError):  # stderr gone with the terminal that sent it: the exit code still says it
        print(INTERRUPTED_LINE, file=sys.stderr)
    return exit_code(signum)


def _exit_now(signum: int, _frame: FrameType | None) -> None:
    with contextlib.suppress(OSError):
        os.write(2, f"{INTERRUPTED_LINE}\n".encode())
    os._exit(exit_code(signum))
