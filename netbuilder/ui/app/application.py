"""Starting the window: the QApplication, settings, the recovery folder, and the first project."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QApplication

from netbuilder.project.recovery import Recovery
from netbuilder.ui.app.closing_signals import close_on_signals
from netbuilder.ui.app.main_window import MainWindow


def recovery_folder() -> Path:
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / "recovery"


def create_window(path: Path | None = None) -> MainWindow:
    """The main window, showing `path` or the start page, with any crashed session's work offered back (the
    recovery folder tidied first: stale temporary files and copies past their time go)."""
    recovery = Recovery(recovery_folder())
    recovery.tidy()
    window = MainWindow(QSettings(), recovery)
    window.show()
    if path is not None:
        window.open_path(path)
    window.offer_recovery()
    return window


def run(path: Path | None = None) -> int:
    """Open the window and run until it closes; the exit status."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("netbuilder")
    app.setOrganizationName("netbuilder")
    close_on_signals(app)  # Ctrl+C and SIGTERM close the window as Quit does, then exit with 130 or 143
    _window = create_window(path)  # held until exec() returns: Qt does not own a top-level window
    return app.exec()
