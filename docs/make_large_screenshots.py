"""Import torchvision's resnet18, show it whole in the window, then open one of its blocks, and save the README's
screenshots of a large network: collapsed (the top level: stages as composite blocks) and opened (a downsampling
basic block inside its stage, with the breadcrumb). Run it on a display, or under Xvfb:

    xvfb-run -s "-screen 0 1600x900x24" .venv/bin/python docs/make_large_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder.importers import import_module
from netbuilder.project import save_project
from netbuilder.project.recovery import Recovery
from netbuilder.ui.app.main_window import MainWindow

IMAGES = Path(__file__).parent / "images"


def settle(ms: int = 200) -> None:
    QTest.qWait(ms)


def double_click(window: MainWindow, label: str) -> None:
    """A real double-click on the node labelled `label`, where the canvas shows it."""
    view = window.view
    item = next(i for i in view.scene().nodes.values() if i.node.label == label)
    point = view.mapFromScene(item.sceneBoundingRect().center())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    settle(400)


def main() -> int:
    import torchvision

    app = QApplication(sys.argv)
    folder = Path(tempfile.mkdtemp())
    result = import_module(torchvision.models.resnet18(weights=None), (1, 3, 224, 224), "resnet18")
    path = save_project(result.project, folder / "resnet18.nbproj")
    window = MainWindow(
        QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat), Recovery(folder / "recovery")
    )
    window.resize(1600, 900)
    window.show()
    window.open_path(path)
    settle(800)
    window.view.frame_all()
    settle(400)
    window.grab().save(str(IMAGES / "resnet18.png"))
    double_click(window, "layer2")
    double_click(window, "0")
    window.view.frame_all()
    settle(400)
    window.grab().save(str(IMAGES / "resnet18_block.png"))
    window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
