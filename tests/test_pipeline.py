"""The project-to-files steps the CLI, the window and the engine share (netbuilder.pipeline)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from netbuilder.pipeline import package_project, write_code_package
from netbuilder.project import load_project

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def test_the_package_is_generated_with_the_projects_own_settings_and_name():
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    project.training = replace(project.training, epochs=7, batch_size=16, seed=5, grad_clip=1.5)
    package = package_project(project)
    config = json.loads(package.files["config.json"])
    training = config["training"]
    assert (training["epochs"], training["batch_size"], training["grad_clip"]) == (7, 16, 1.5)
    assert config["split"]["seed"] == 5
    assert "digits_mlp.nbproj" in package.files["model.py"]
    assert "starting_weights" not in package.files["train.py"]
    assert package_project(project, weights_format="safetensors").files["config.json"] != package.files["config.json"]


def test_writing_the_package_says_when_train_py_needs_starting_weights(tmp_path):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    export = write_code_package(project, tmp_path / "plain")
    assert {p.name for p in export.written} >= {"model.py", "train.py", "predict.py", "config.json"}
    assert all(p.is_file() for p in export.written) and not export.needs_starting_weights

    project.weights = tmp_path / "digits.weights.safetensors"  # the file itself is export's business
    export = write_code_package(project, tmp_path / "weighted")
    assert export.needs_starting_weights and "starting_weights.safetensors" in export.package.files["train.py"]


def test_a_model_without_training_needs_no_starting_weights(tmp_path):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    for node in [n for n in project.graph.nodes.values() if n.block in ("Adam", "CrossEntropyLoss")]:
        project.graph.remove_node(node.id)
    project.weights = tmp_path / "digits.weights.safetensors"
    export = write_code_package(project, tmp_path / "model")
    assert "train.py" not in export.package.files and export.package.training_skipped
    assert not export.needs_starting_weights


def test_the_pipeline_imports_neither_torch_nor_qt():
    code = (
        "import sys, netbuilder.pipeline; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'pyqtgraph')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
