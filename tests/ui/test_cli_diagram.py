"""`netbuilder export --format svg,png`: the network diagram from the command line, with no window and no display,
in the light theme; a diagram that fails is one line on stderr while the other files are still written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtGui import QImage

from netbuilder.cli import main
from netbuilder.ui.canvas.diagram_export import MARGIN, PNG_SCALE
from netbuilder.ui.theme import LIGHT
from tests.ui.conftest import SAMPLES

LABELS = ("digits", "flatten", "fc1", "relu1", "dropout", "fc2", "loss", "optimizer")
HEADLESS_EXPORTS = """
import json, sys
from netbuilder.cli import main
project, out = sys.argv[1], sys.argv[2]
code = main(["export", project, "-o", out + "/code"])
qt_for_code = "PySide6" in sys.modules
diagrams = main(["export", project, "-o", out + "/diagrams", "--format", "svg,png"])
print(json.dumps({"code": code, "qt_for_code": qt_for_code, "diagrams": diagrams, "torch": "torch" in sys.modules}))
"""


def run_without_a_display(tmp_path: Path) -> dict:
    """The exports in a fresh process that has no display and no Qt platform chosen, as on a build server."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run(
        [sys.executable, "-c", HEADLESS_EXPORTS, str(SAMPLES / "digits_mlp.nbproj"), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_diagrams_come_out_of_the_command_line_without_a_display(tmp_path):
    outcome = run_without_a_display(tmp_path)
    assert outcome == {"code": 0, "qt_for_code": False, "diagrams": 0, "torch": False}  # each loads only if asked
    folder = tmp_path / "diagrams"
    assert sorted(p.name for p in folder.iterdir()) == ["diagram.png", "diagram.svg"]

    root = ET.parse(folder / "diagram.svg").getroot()
    texts = " ".join("".join(element.itertext()) for element in root.iter() if element.tag.endswith("text"))
    assert all(label in texts for label in LABELS)
    assert "(N, 64)" in texts

    image = QImage(str(folder / "diagram.png"))
    assert not image.isNull()
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    assert (image.width(), image.height()) == (round(width * PNG_SCALE), round(height * PNG_SCALE))
    colours = {image.pixelColor(x, y).rgb() for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert LIGHT.background.rgb() in colours and len(colours) > 20  # the light canvas, and a network on it
    margin = image.copy(0, 0, image.width(), int(MARGIN * PNG_SCALE) - 4)
    assert {margin.pixelColor(x, y).rgb() for x in range(margin.width()) for y in range(margin.height())} == {
        LIGHT.background.rgb()
    }  # a plain background: no grid


def test_a_diagram_that_fails_is_one_line_and_the_rest_is_written(qapp, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "diagram.png").mkdir(parents=True)  # a folder where the PNG should go
    status = main(["export", str(SAMPLES / "digits_mlp.nbproj"), "-o", str(out), "--format", "code,svg,png"])
    assert status == 1
    (failure,) = capsys.readouterr().err.strip().splitlines()
    assert failure.startswith("Diagram (PNG): cannot write") and "diagram.png" in failure
    assert {"model.py", "train.py", "diagram.svg"} <= {p.name for p in out.iterdir()}
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]  # nothing half-written left behind
