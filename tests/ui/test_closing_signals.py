"""Ctrl+C or SIGTERM sent to the window's process closes its windows as Quit does and ends the event loop with
130 or 143, even while the loop runs no Python code; a person asked about unsaved work may still say no."""

from __future__ import annotations

import os
import signal

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from netbuilder.ui.app.closing_signals import close_on_signals


class Unsaved(QWidget):
    """A window that refuses to close, as one with unsaved work does when the person cancels."""

    def closeEvent(self, event) -> None:
        event.ignore()


def test_sigterm_closes_the_windows_and_ends_the_loop_with_143(qapp: QApplication, capsys):
    window = QWidget()
    window.show()
    handler = signal.getsignal(signal.SIGTERM)
    close_on_signals(qapp)
    QTimer.singleShot(0, lambda: os.kill(os.getpid(), signal.SIGTERM))
    assert qapp.exec() == 143
    assert not window.isVisible()
    assert capsys.readouterr().err.strip() == "netbuilder: interrupted"
    assert signal.getsignal(signal.SIGTERM) is handler  # given back when the loop ended


def test_a_window_that_may_not_close_keeps_the_loop_running(qapp: QApplication):
    window = Unsaved()
    window.show()
    close_on_signals(qapp)
    QTimer.singleShot(0, lambda: os.kill(os.getpid(), signal.SIGINT))
    QTimer.singleShot(500, lambda: qapp.exit(7))  # the loop still runs after the signal: end it here
    assert qapp.exec() == 7
    assert window.isVisible()
    window.hide()
