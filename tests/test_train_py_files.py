"""The exported train.py keeps its files as netbuilder does: each written all at once (a failed write leaves
the previous file whole and no temporary file), and a bad `--resume` file ends the script in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from netbuilder.project import load_project
from netbuilder.training.program import load_program
from tests.test_package import export

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.fixture(scope="module")
def script():
    return load_program(load_project(SAMPLES / "digits_mlp.nbproj")).script


def test_a_write_that_fails_leaves_the_previous_file_whole(script, tmp_path):
    path = tmp_path / "checkpoint.pt"
    script.save_atomically(str(path), {"epoch": torch.tensor(1)})
    before = path.read_bytes()
    with pytest.raises(Exception, match="pickle"):  # fails halfway through writing
        script.save_atomically(str(path), {"epoch": torch.tensor(2), "unsaveable": lambda: None})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    script.save_atomically(str(tmp_path / "history.json"), b'{"epochs": []}')
    assert (tmp_path / "history.json").read_bytes() == b'{"epochs": []}'


@pytest.mark.slow
def test_a_bad_resume_file_ends_train_py_in_one_line(tmp_path):
    export(load_project(SAMPLES / "digits_mlp.nbproj"), tmp_path)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    result = subprocess.run(
        [sys.executable, "train.py", "--device", "cpu", "--resume", "bad.pt", "--out", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("--resume bad.pt: cannot go on from it: ")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
