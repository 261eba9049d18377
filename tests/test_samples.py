"""Every sample project: checks clean, exports, its model.py builds and runs, and its train.py trains one
epoch in a process where netbuilder cannot even be imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.blocks.tensor_type import LONG
from netbuilder.codegen.package import generate_package
from netbuilder.project import load_project
from netbuilder.runtime.build import load_module

SAMPLES = sorted((Path(__file__).parent.parent / "sample_projects").glob("*.nbproj"))

# Runs train.py as __main__ with every netbuilder import made to fail.
WITHOUT_NETBUILDER = (
    "import runpy, sys; sys.modules['netbuilder'] = None; sys.argv = ['train.py', *sys.argv[1:]]; "
    "runpy.run_path('train.py', run_name='__main__')"
)


def test_the_samples_named_in_the_readme_exist():
    names = {p.stem for p in SAMPLES}
    assert {"digits_mlp", "digits_cnn", "spirals_mlp", "residual_cnn", "lstm_classifier", "digits_autoencoder"} <= names


@pytest.fixture(scope="module", params=SAMPLES, ids=lambda p: p.stem)
def exported(request, tmp_path_factory):
    project = load_project(request.param)
    analysis = analyze(project.graph)
    assert analysis.diagnostics == [], [d.message for d in analysis.diagnostics]
    settings = project.training
    package = generate_package(
        project.graph,
        analysis,
        name=project.name,
        source=request.param.name,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        val_fraction=settings.val_fraction,
        seed=settings.seed,
    )
    assert not package.training_skipped
    out = tmp_path_factory.mktemp(request.param.stem)
    for name, text in package.files.items():
        (out / name).write_text(text)
    return project, analysis, out


def test_model_builds_and_runs_forward(exported):
    project, analysis, out = exported
    module = load_module((out / "model.py").read_text())
    classes = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, torch.nn.Module) and v is not torch.nn.Module
    ]
    model_class = classes[-1]  # the model comes after the classes of the composite blocks it is made of
    model = model_class().eval()
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    data = next(n for n in analysis.order if project.graph.nodes[n].block == "Dataset")
    x_type = analysis.output_type(data, "x")
    if x_type.dtype == LONG:  # token indices, below the vocabulary's size
        x = torch.randint(x_type.classes, (2, *x_type.features))
    else:
        x = torch.randn(2, *x_type.features)
    output = model(x)
    loss = next(
        n
        for n in analysis.order
        if project.graph.nodes[n].block
        in ("CrossEntropy", "MSE", "NLL", "BCEWithLogits", "BCE", "L1", "SmoothL1", "Huber", "KLDiv")
    )
    expected = analysis.edge_type(project.graph.inputs_of(loss)["input"])
    assert tuple(output.shape) == (2, *expected.features)


@pytest.mark.slow
def test_train_script_runs_one_epoch_without_netbuilder(exported):
    _, _, out = exported
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_NETBUILDER, "--epochs", "1", "--out", "weights"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "epoch 1/1" in result.stdout
    state = torch.load(out / "weights" / "model.pt", weights_only=True)
    assert state and all(torch.isfinite(t).all() for t in state.values() if t.is_floating_point())
    requirements = (out / "requirements.txt").read_text().split()
    imported = {
        line.split()[1].split(".")[0]
        for script in ("train.py", "predict.py")
        for line in (out / script).read_text().splitlines()
        if line.startswith(("import ", "from "))
    }
    third_party = imported - set(sys.stdlib_module_names) - {"model", "train"}
    modules = {"scikit-learn": "sklearn", "pillow": "PIL"}
    assert {modules.get(r.split(">=")[0], r.split(">=")[0]) for r in requirements} == third_party


def test_exported_code_passes_ruff(exported):
    """What people keep must pass a linter as it is: no unused imports, sorted imports, no undefined names."""
    _, _, out = exported
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(  # run from the folder, as its owner would: model.py is then first-party
        [str(ruff), "check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "120", "."],
        cwd=out,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
