"""Ctrl+C (SIGINT) and SIGTERM close the window as Quit does, then end the program with 130 or 143.

Python runs a signal handler only when it next runs Python code, which Qt's event loop may not do for a long
time; so each signal also writes a byte to a socket (signal.set_wakeup_fd) whose QSocketNotifier wakes the
loop, and the handler runs there. It closes every window as a person would (a running task joined, unsaved
work asked about: the person may cancel), and only once all are closed ends the loop with the signal's code.
Before the loop runs, a signal unwinds the start as it does any command (netbuilder.interrupts).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys

from PySide6.QtCore import QSocketNotifier, QThread
from PySide6.QtWidgets import QApplication

from netbuilder.interrupts import ENDING_SIGNALS, INTERRUPTED_LINE, Terminated, exit_code


def close_on_signals(app: QApplication) -> None:
    """From now until `app` ends, SIGINT and SIGTERM close its windows and end its loop with the signal's exit
    code (signals the process was started to ignore stay ignored)."""
    wakeup, woken = socket.socketpair()
    for end in (wakeup, woken):
        end.setblocking(False)
    previous_fd = signal.set_wakeup_fd(wakeup.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(woken.fileno(), QSocketNotifier.Type.Read, app)
    notifier.activated.connect(lambda: _drain(woken))  # running Python here runs the handler

    def close_all(signum: int, _frame: object) -> None:
        if QThread.currentThread().loopLevel() == 0:  # still starting: end as the command does then
            raise KeyboardInterrupt if signum == signal.SIGINT else Terminated
        app.closeAllWindows()
        if not any(widget.isVisible() for widget in app.topLevelWidgets()):
            print(INTERRUPTED_LINE, file=sys.stderr)
            app.exit(exit_code(signum))

    previous = {
        signum: signal.signal(signum, close_all)
        for signum in ENDING_SIGNALS
        if signal.getsignal(signum) not in (signal.SIG_IGN, None)
    }

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        wakeup.close()
        woken.close()

    app.aboutToQuit.connect(restore)


def _drain(woken: socket.socket) -> None:
    # the bytes the signals wrote, read so the notifier rests; none left, or the socket already closed by a
    # quit that the handler (run just before this line) started
    with contextlib.suppress(OSError):
        woken.recv(64)
