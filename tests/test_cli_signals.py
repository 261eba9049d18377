"""Ctrl+C (SIGINT) and SIGTERM end every `netbuilder` command cleanly: one line, exit code 130 or 143, never a
traceback, whenever they arrive (while the command's modules or torch load, or during training, which first
stops after its step and keeps the run). Real processes receive real signals; each test waits for a line the
process prints, never for a time, so a loaded machine only makes them slower."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from netbuilder.interrupts import INTERRUPTED_LINE
from netbuilder.project.run_history import RunHistory

SAMPLES = Path(__file__).parent.parent / "sample_projects"
IMPORT_TIME = "import time:"
TIMEOUT = 300  # seconds for a process to end once signalled: generous, for a loaded machine


def _loaded(package: str) -> Callable[[str], bool]:
    """A line of `-X importtime`'s report saying that a module of `package` has loaded (while the package
    itself may still be loading): the report names modules after its last bar, indented by depth."""
    return lambda line: line.startswith(IMPORT_TIME) and line.rsplit("|", 1)[-1].strip().split(".")[0] == package


def _signal_when(command: list[str], ready: str | Callable[[str], bool], signum: int) -> tuple[int, str]:
    """Start `python -m netbuilder COMMAND`, send `signum` once a line of its stderr is `ready` (contains it,
    or passes it), and return its exit code and the stderr lines it printed (less the -X importtime report,
    asked for when `ready` waits for a module)."""
    importtime = callable(ready)
    is_ready = ready if callable(ready) else lambda line: ready in line
    process = subprocess.Popen(
        [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "netbuilder", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        for line in process.stderr:
            seen.append(line)
            if is_ready(line):
                process.send_signal(signum)
                break
        else:
            raise AssertionError(f"never ready: {''.join(seen)[-2000:]}")
        _, rest = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
        process.wait()
    printed = [line for line in (*seen, *rest.splitlines()) if not line.startswith(IMPORT_TIME)]
    return process.returncode, "".join(f"{line.rstrip()}\n" for line in printed)


def test_ctrl_c_while_torch_loads_ends_with_one_line_and_130(tmp_path):
    project = SAMPLES / "digits_mlp.nbproj"
    code, err = _signal_when(
        ["export", str(project), "-o", str(tmp_path / "out"), "--format", "safetensors"],
        _loaded("torch"),  # a module of torch has loaded: torch itself is still loading
        signal.SIGINT,
    )
    assert code == 130
    assert err.strip() == INTERRUPTED_LINE


def test_sigterm_while_torch_loads_ends_with_one_line_and_143(tmp_path):
    project = Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "digits_mlp.nbproj"))
    code, err = _signal_when(["train", str(project)], _loaded("torch"), signal.SIGTERM)
    assert code == 143
    assert err.strip() == INTERRUPTED_LINE


def test_ctrl_c_while_the_command_itself_loads_ends_with_one_line_and_130():
    code, err = _signal_when(["check", str(SAMPLES / "digits_mlp.nbproj")], _loaded("networkx"), signal.SIGINT)
    assert code == 130
    assert err.strip() == INTERRUPTED_LINE


def test_sigterm_during_training_keeps_the_run_and_its_checkpoint_then_exits_143(tmp_path):
    project = Path(shutil.copy(SAMPLES / "digits_mlp.nbproj", tmp_path / "digits_mlp.nbproj"))
    code, err = _signal_when(
        ["train", str(project), "--epochs", "200", "--device", "cpu"], "epoch 1/200", signal.SIGTERM
    )
    assert code == 143, err
    assert "Traceback" not in err and err.strip().endswith(INTERRUPTED_LINE)
    (record,) = RunHistory(project).records
    assert record.status == "stopped" and 1 <= record.epochs_done < 200
    checkpoint = RunHistory(project).file_path(record, record.checkpoint)
    assert checkpoint is not None and checkpoint.is_file()
    assert f"--resume {checkpoint}" in err
