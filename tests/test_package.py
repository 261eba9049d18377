"""The exported package, used as its owner would use it: in a fresh process where netbuilder cannot be imported,
train.py repeats the app's split and losses, and predict.py answers as the app's trained network does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from netbuilder.analysis import analyze
from netbuilder.codegen.package import generate_package, write_package
from netbuilder.project import Project, load_project
from netbuilder.training.class_scores import class_probabilities
from netbuilder.training.engine import Progress, Trainer, with_settings

SAMPLES = Path(__file__).parent.parent / "sample_projects"

# Runs a script of the package as __main__ with every netbuilder import made to fail, then (for train.py)
# saves the data split that the script's own prepare_data makes.
WITHOUT_NETBUILDER = (
    "import runpy, sys, torch; sys.modules['netbuilder'] = None; script, *rest = sys.argv[1:]; "
    "sys.argv = [script, *rest]; names = runpy.run_path(script, run_name='__main__'); "
    "script == 'train.py' and torch.save(names['prepare_data'](0.2, 0), 'split.pt')"
)


def export(project: Project, folder: Path, **options) -> dict[str, str]:
    settings = project.training
    package = generate_package(
        project.graph,
        analyze(project.graph),
        name=project.name,
        source=project.path.name if project.path else "",
        **settings.to_dict(),
        **options,
    )
    write_package(package, folder)
    return package.files


def run_script(folder: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_NETBUILDER, *args], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def sample(name: str, **settings) -> Project:
    return with_settings(load_project(SAMPLES / f"{name}.nbproj"), device="cpu", **settings)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "epochs", "options"),
    [
        ("digits_mlp", 3, {}),
        ("spirals_mlp", 3, {}),
        ("lstm_classifier", 2, {}),
        ("sentiment_lstm", 1, {}),  # generated reviews, written again by train.py
        # the mixed-precision loop (autocast off, no scaler on the CPU) with clipping after unscaling
        ("digits_mlp", 3, {"precision": "fp16", "grad_clip": 0.5}),
    ],
)
def test_train_py_repeats_the_apps_split_and_first_50_losses(name, epochs, options, tmp_path):
    project = sample(name, epochs=epochs, val_fraction=0.2, seed=0, **options)
    trainer = Trainer(project)
    assert trainer.steps_per_epoch * epochs >= 50
    app_losses: list[float] = []
    trainer.run(lambda event: isinstance(event, Progress) and app_losses.extend(event.losses), max_steps=50)
    export(project, tmp_path)
    run_script(tmp_path, "train.py", "--device", "cpu", "--out", "weights")

    script_split = torch.load(tmp_path / "split.pt", weights_only=True)
    for script_part, app_part in zip(
        script_split, (trainer.train_x, trainer.train_y, trainer.val_x, trainer.val_y), strict=True
    ):
        assert torch.equal(script_part, app_part.cpu())
    script_losses = step_losses(tmp_path / "weights")
    assert len(app_losses) == 50 and len(script_losses) == epochs * trainer.steps_per_epoch
    assert numpy.allclose(script_losses[:50], app_losses, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_train_py_resumed_from_its_checkpoint_ends_as_an_uninterrupted_run(tmp_path):
    """`--resume out/checkpoint.pt` goes on with the model, optimizer, schedule and generators where the
    checkpoint left them: the same weights and losses as one run of all the epochs (on the CPU, bit for bit)."""
    project = sample("digits_mlp", epochs=3, val_fraction=0.2, seed=0)
    adam = next(n for n in project.graph.nodes.values() if n.block == "Adam")
    for name, value in {"schedule": "step", "step_size": 1, "gamma": 0.5, "weight_decay": 0.01}.items():
        project.graph.set_param(adam.id, name, value)
    export(project, tmp_path)
    run_script(tmp_path, "train.py", "--device", "cpu", "--out", "whole")
    run_script(tmp_path, "train.py", "--device", "cpu", "--epochs", "2", "--out", "parts")
    printed = run_script(tmp_path, "train.py", "--device", "cpu", "--resume", "parts/checkpoint.pt", "--out", "parts")

    assert printed.startswith("going on from parts/checkpoint.pt after epoch 2\nepoch 3/3")
    whole, parts = (torch.load(tmp_path / out / "model.pt", weights_only=True) for out in ("whole", "parts"))
    assert all(torch.equal(whole[name], parts[name]) for name in whole)
    history = json.loads((tmp_path / "parts" / "history.json").read_text())
    assert history == json.loads((tmp_path / "whole" / "history.json").read_text())
    assert [epoch["learning_rate"] for epoch in history["epochs"]] == [0.001, 0.0005, 0.00025]
    checkpoint = torch.load(tmp_path / "parts" / "checkpoint.pt", weights_only=True)
    assert checkpoint["run"]["epochs_done"] == 3 and set(checkpoint) >= {"model", "optimizer", "scheduler", "shuffle"}


def step_losses(out: Path) -> list[float]:
    """Every step's loss, as train.py writes them into out/history.json."""
    return json.loads((out / "history.json").read_text())["losses"]


def engine_answers(trainer: Trainer, x: torch.Tensor) -> list[tuple[str, float]]:
    """(class name, probability) for each input, by the engine's own rule."""
    with torch.no_grad():
        probabilities, predicted = class_probabilities(trainer.model.eval()(x), trainer.criterion)
    return [(trainer.class_names[k], probabilities[i, k].item()) for i, k in enumerate(predicted.tolist())]


def printed_answers(output: str) -> dict[str, tuple[str, float]]:
    """predict.py's lines `NAME: CLASS (P%)`, by input name."""
    answers = {}
    for line in output.splitlines():
        name, answer = line.split(": ", 1)
        class_name, percent = re.fullmatch(r"(.*) \(([\d.]+)%\)", answer).groups()
        answers[name] = (class_name, float(percent) / 100)
    return answers


def assert_same_answers(printed: list[tuple[str, float]], expected: list[tuple[str, float]]) -> None:
    assert [c for c, _ in printed] == [c for c, _ in expected]
    assert numpy.allclose([p for _, p in printed], [p for _, p in expected], rtol=0, atol=1e-5)


@pytest.mark.slow
def test_predict_py_reads_digit_images_and_agrees_with_the_engine(tmp_path):
    project = sample("digits_cnn", epochs=1)
    trainer = Trainer(project)
    trainer.run(max_steps=15)
    trainer.save_weights(tmp_path / "model.pt")
    files = export(project, tmp_path)
    assert files["requirements.txt"].split() == ["torch>=2.1", "scikit-learn>=1.3", "numpy>=1.24", "pillow>=9"]
    pixels = (trainer.val_x[:6, 0].cpu() * 255).round().to(torch.uint8)  # grey 8x8 pictures of digits
    (tmp_path / "inputs").mkdir()
    for i, picture in enumerate(pixels):
        Image.fromarray(picture.numpy(), mode="L").save(tmp_path / "inputs" / f"digit_{i}.png")
    numpy.save(tmp_path / "inputs" / "more.npy", trainer.val_x[6:9].cpu().numpy())

    printed = printed_answers(run_script(tmp_path, "predict.py", "inputs"))

    images = [printed[str(Path("inputs") / f"digit_{i}.png")] for i in range(6)]
    assert_same_answers(images, engine_answers(trainer, pixels.unsqueeze(1).float() / 255.0))
    tensors = [printed[f"{Path('inputs') / 'more.npy'}[{i}]"] for i in range(3)]
    assert_same_answers(tensors, engine_answers(trainer, trainer.val_x[6:9]))


def table_project(path: Path) -> Project:
    """CSV (target column in the middle) -> Linear -> ReLU -> Linear -> CrossEntropy -> Adam."""
    generator = numpy.random.default_rng(5)
    rows = ["width,kind,height,depth"]
    for a, b, c in generator.normal(loc=(10.0, -3.0, 100.0), scale=(2.0, 1.0, 30.0), size=(120, 3)):
        rows.append(f"{a:.4f},{'tall' if (c - 100) / 30 + (a - 10) / 2 > 0 else 'short'},{c:.3f},{b:.4f}")
    path.write_text("\n".join(rows) + "\n")
    project = Project.new("table")
    g = project.graph
    data = g.add_node("Dataset", params={"dataset": "csv", "path": str(path), "target_column": "kind"}).id
    chain = [g.add_node("Linear", params={"out_features": 8}).id, g.add_node("ReLU").id]
    chain.append(g.add_node("Linear", params={"out_features": 2}).id)
    loss, adam = g.add_node("CrossEntropy").id, g.add_node("Adam", params={"lr": 0.05}).id
    for src, dst in zip([data, *chain[:-1]], chain, strict=True):
        g.connect(src, "x" if src == data else "y", dst, "x")
    g.connect(chain[-1], "y", loss, "input")
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", adam, "loss")
    return with_settings(project, device="cpu", epochs=2, batch_size=16)


@pytest.mark.slow
def test_predict_py_standardises_csv_rows_as_training_did(tmp_path):
    project = table_project(tmp_path / "table.csv")
    trainer = Trainer(project)
    trainer.run(max_steps=8)
    trainer.save_weights(tmp_path / "model.pt")
    export(project, tmp_path)
    script = trainer.program.script
    x, y = script.load_data(0)
    _, _, raw_val_x, raw_val_y = script.split(x, y, 0.2, 0)  # as read from the file, before scaling
    names = json.loads((tmp_path / "config.json").read_text())["class_names"]
    rows = ["depth,kind,width,height"]  # the columns in another order, and the target too: picked by name
    rows += [
        f"{d!r},{names[k]},{w!r},{h!r}" for (w, h, d), k in zip(raw_val_x.tolist(), raw_val_y.tolist(), strict=True)
    ]
    (tmp_path / "new.csv").write_text("\n".join(rows) + "\n")

    printed = printed_answers(run_script(tmp_path, "predict.py", "new.csv"))

    answers = [printed[f"new.csv row {i + 1}"] for i in range(len(raw_val_x))]
    assert_same_answers(answers, engine_answers(trainer, trainer.val_x))


@pytest.mark.slow
def test_predict_py_loads_safetensors_weights_and_reads_tensor_files(tmp_path):
    project = sample("lstm_classifier", epochs=1)
    trainer = Trainer(project)
    trainer.run(max_steps=6)
    save_file(trainer.model.state_dict(), str(tmp_path / "model.safetensors"))
    files = export(project, tmp_path, weights_format="safetensors")
    assert "safetensors>=0.4" in files["requirements.txt"].split()
    assert (
        "safetensors"
        not in generate_package(
            project.graph, analyze(project.graph), name="x", source="", **project.training.to_dict()
        ).files["requirements.txt"]
    )
    torch.save(trainer.val_x[:5].clone(), tmp_path / "batch.pt")

    printed = printed_answers(run_script(tmp_path, "predict.py", "batch.pt"))

    assert_same_answers([printed[f"batch.pt[{i}]"] for i in range(5)], engine_answers(trainer, trainer.val_x[:5]))


@pytest.mark.slow
def test_predict_py_prints_the_values_of_a_network_that_gives_numbers(tmp_path):
    project = sample("digits_autoencoder", epochs=1)
    trainer = Trainer(project)
    trainer.run(max_steps=5)
    trainer.save_weights(tmp_path / "model.pt")
    export(project, tmp_path)
    torch.save(trainer.val_x[0].clone(), tmp_path / "one.pt")

    (line,) = run_script(tmp_path, "predict.py", "one.pt").splitlines()

    with torch.no_grad():
        expected = trainer.model.eval()(trainer.val_x[:1]).reshape(-1)
    name, values = line.split(": ")
    assert name == "one.pt"
    assert numpy.allclose([float(v) for v in values.split(", ")], expected.numpy(), rtol=1e-6, atol=1e-6)


HOSTILE = "a\"\"\"b'''\n# Injected heading\n```python\nimport os\n``` `tick` [link](http://x) <b>|cell|</b> \\"


def test_readme_and_config_survive_hostile_names_labels_and_values(tmp_path):
    path = tmp_path / "table.csv"
    quoted = HOSTILE.replace('"', '""')
    rows = [f'"{quoted}",f2,label'] + [f'{i % 7},{i % 3},"{quoted if i % 2 else "`x`"}"' for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    project = Project.new(HOSTILE)
    g = project.graph
    data = g.add_node("Dataset", params={"dataset": "csv", "path": str(path), "target_column": "label"}).id
    fc = g.add_node("Linear", params={"out_features": 2}, label=HOSTILE).id
    loss, adam = g.add_node("CrossEntropy").id, g.add_node("Adam").id
    g.connect(data, "x", fc, "x")
    g.connect(fc, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    g.connect(loss, "loss", adam, "loss")
    package = generate_package(g, analyze(g), name=HOSTILE, source=HOSTILE + ".nbproj", **project.training.to_dict())

    config = json.loads(package.files["config.json"])
    assert config["project"] == HOSTILE
    assert config["class_names"] == sorted(["`x`", HOSTILE.strip()])
    assert config["dataset"]["feature_columns"] == [HOSTILE.strip(), "f2"]
    readme = package.files["README.md"].splitlines()
    assert [line for line in readme if line.startswith("#")] == [readme[0], "## Install", "## Train", "## Predict"]
    assert "\n" not in readme[0] and "<b>" not in package.files["README.md"]
    assert not any(line.lstrip().startswith("```") for line in readme)
    assert all(line.count("|") - line.count("\\|") == 3 for line in readme if line.startswith("| "))
    for script in ("model.py", "train.py", "predict.py"):
        compile(package.files[script], script, "exec")


@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_train_py_trains_in_mixed_precision_as_the_app_does_on_cuda(precision, tmp_path):
    """The same autocast (and for fp16 the same gradient scaling) on both sides: the first 50 losses agree as
    closely as two runs of one GPU program do (CUDA kernels may sum in another order), and far closer than
    fp32 and mixed precision agree with each other."""
    settings = {"epochs": 3, "val_fraction": 0.2, "seed": 0, "precision": precision}
    project = with_settings(load_project(SAMPLES / "digits_mlp.nbproj"), device="cuda", **settings)
    trainer = Trainer(project)
    app_losses: list[float] = []
    trainer.run(lambda event: isinstance(event, Progress) and app_losses.extend(event.losses), max_steps=50)
    export(project, tmp_path)
    run_script(tmp_path, "train.py", "--device", "cuda", "--out", "mixed")
    run_script(tmp_path, "train.py", "--device", "cuda", "--precision", "fp32", "--out", "full")
    mixed = step_losses(tmp_path / "mixed")[:50]
    full = step_losses(tmp_path / "full")[:50]
    gap = numpy.abs(numpy.subtract(mixed, app_losses)).max()
    assert gap < 1e-3, gap
    assert numpy.abs(numpy.subtract(full, app_losses)).max() > 10 * gap
