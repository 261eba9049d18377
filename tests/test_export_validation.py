"""Every model file exported from a briefly trained run, run in its consumer on the project's validation split:
the float formats predict every class torch predicts, the int8 ONNX file nearly all, with the accuracy
`netbuilder evaluate` reports for the run; and `netbuilder export` prints that report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from netbuilder.cli import main
from netbuilder.export import ExportResult, export_formats
from netbuilder.export.formats import EXTRAS, FORMATS, TITLES, installed
from netbuilder.export.validation_check import check_on_validation
from netbuilder.project import load_project
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.evaluation import EvaluationError, evaluate_run
from netbuilder.training.program import load_program

SAMPLES = Path(__file__).parent.parent / "sample_projects"
MODEL_FORMATS = ["torchscript", "pt2", "onnx", "onnx-int8"]


def trained_run(name: str, folder: Path) -> tuple:
    """The sample trained for two epochs on the CPU, its weights saved as a run saves them (model.pt)."""
    project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), device="cpu")
    trainer = Trainer(project)
    trainer.run(max_steps=2 * trainer.steps_per_epoch)
    torch.save(trainer.model.state_dict(), folder / "model.pt")
    return project, folder / "model.pt"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_every_format_predicts_as_torch_on_the_validation_split(name, tmp_path):
    project, weights = trained_run(name, tmp_path)
    results = export_formats(project, tmp_path / "out", MODEL_FORMATS, weights)
    assert {fmt: result.error for fmt, result in results.items()} == dict.fromkeys(MODEL_FORMATS, "")
    checks = {check.format: check for check in check_on_validation(project, weights, results)}
    assert list(checks) == MODEL_FORMATS
    run = evaluate_run(project, weights)  # what `netbuilder evaluate` says of the run
    assert 0.5 < run.metrics["accuracy"] < 1.0  # trained, and still wrong on some samples to disagree about
    for fmt in ("torchscript", "pt2", "onnx"):
        assert checks[fmt].agreement == 1.0, fmt
        assert checks[fmt].accuracy == pytest.approx(run.metrics["accuracy"])
    assert checks["onnx-int8"].agreement >= 0.99
    assert abs(checks["onnx-int8"].accuracy - run.metrics["accuracy"]) <= 0.01
    for check in checks.values():
        assert check.samples == run.samples and check.torch_accuracy == pytest.approx(run.metrics["accuracy"])


@pytest.mark.slow
def test_a_file_that_computes_something_else_is_caught(tmp_path):
    """The check compares the file with torch: a file of other weights disagrees on many samples."""
    project, weights = trained_run("digits_mlp", tmp_path)
    results = export_formats(project, tmp_path / "out", ["onnx"])  # the project's initial weights, not the run's
    (check,) = check_on_validation(project, weights, results)
    assert check.agreement < 0.5 and check.accuracy < check.torch_accuracy


LINE = re.compile(
    r"^(model\.\S+): (\d+\.\d)% of (\d+) validation predictions agree with torch; accuracy (\d+\.\d)% "
    r"\(torch (\d+\.\d)%\)$"
)


@pytest.mark.slow
def test_cli_prints_the_report_with_weights_and_not_with_no_check(tmp_path, capsys):
    _, weights = trained_run("digits_mlp", tmp_path)
    project = str(SAMPLES / "digits_mlp.nbproj")
    assert (
        main(["export", project, "-o", str(tmp_path / "out"), "--format", "pt2,onnx", "--weights", str(weights)]) == 0
    )
    lines = [LINE.match(line) for line in capsys.readouterr().out.splitlines() if "agree" in line]
    assert [match.group(1) for match in lines] == ["model.pt2", "model.onnx"]
    assert all(match.group(2) == "100.0" and match.group(4) == match.group(5) for match in lines)
    args = ["export", project, "-o", str(tmp_path / "again"), "--format", "onnx", "--weights", str(weights)]
    assert main([*args, "--no-check"]) == 0
    assert "agree" not in capsys.readouterr().out


def test_an_unknown_format_is_a_usage_error_that_lists_the_formats(tmp_path, capsys):
    assert main(["export", str(SAMPLES / "digits_mlp.nbproj"), "-o", str(tmp_path), "--format", "pt2,tflite2"]) == 2
    error = capsys.readouterr().err
    assert "tflite2" in error and all(name in error for name in ("pt2", "onnx-int8", "torchscript", "onnx"))
    assert not any(tmp_path.iterdir())


def export_code_with(weights: Path, out: Path) -> int:
    return main(
        ["export", str(SAMPLES / "digits_mlp.nbproj"), "-o", str(out), "--format", "code", "--weights", str(weights)]
    )


def test_code_with_weights_puts_them_where_predict_py_loads_them(tmp_path, capsys):
    weights = tmp_path / "run" / "model.pt"
    weights.parent.mkdir()
    weights.write_bytes(b"the run's weights")  # copied as they are: predict.py reads them
    out = tmp_path / "out"
    assert export_code_with(weights, out) == 0
    assert (out / "model.pt").read_bytes() == weights.read_bytes()
    assert 'os.path.join(HERE, "model.pt")' in (out / "predict.py").read_text()
    safetensors = weights.with_name("model.safetensors")
    safetensors.write_bytes(b"tensors")
    assert export_code_with(safetensors, out) == 0
    assert (out / "model.safetensors").read_bytes() == b"tensors"
    assert "load_file(path)" in (out / "predict.py").read_text()


def test_the_package_readme_says_how_to_run_each_file_and_that_code_runs(tmp_path, monkeypatch):
    """The README's lines for model.ts, model.pt2 and the ONNX files, run as written beside the files."""
    import onnxruntime

    project = str(SAMPLES / "digits_mlp.nbproj")
    assert main(["export", project, "-o", str(tmp_path), "--format", "code,torchscript,pt2,onnx,onnx-int8"]) == 0
    readme = (tmp_path / "README.md").read_text()
    monkeypatch.chdir(tmp_path)
    x = torch.randn(3, 1, 8, 8)
    outputs = {}
    for name in ("model.ts", "model.pt2"):
        (line,) = [line for line in readme.splitlines() if line.startswith(f"- `{name}`")]
        scope = {"torch": torch, "x": x}
        exec(re.search(r"`(model = [^`]+)`", line).group(1), scope)
        outputs[name] = scope["model"](x)
    onnx_code = "\n".join(line.strip() for line in readme.splitlines() if line.startswith("      "))
    for name in ("model.onnx", "model.int8.onnx"):
        scope = {"onnxruntime": onnxruntime, "x": x}
        exec(onnx_code.replace('"model.onnx"', f'"{name}"'), scope)
        outputs[name] = torch.from_numpy(scope["output"])
    torch.testing.assert_close(outputs["model.pt2"], outputs["model.ts"])
    torch.testing.assert_close(outputs["model.onnx"], outputs["model.ts"], atol=1e-4, rtol=0)
    assert outputs["model.int8.onnx"].shape == outputs["model.ts"].shape


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "package"), [("litert", "litert_torch"), ("executorch", "executorch")])
def test_the_extras_files_predict_as_torch_on_the_validation_split(fmt, package, tmp_path):
    pytest.importorskip(package)
    project, weights = trained_run("digits_cnn", tmp_path)
    results = export_formats(project, tmp_path / "out", [fmt], weights)
    (check,) = check_on_validation(project, weights, results)
    assert check.format == fmt and check.agreement == 1.0 and check.accuracy == check.torch_accuracy


@pytest.mark.parametrize("fmt", ["litert", "executorch"])
def test_an_extra_that_is_not_installed_says_what_to_install(fmt, tmp_path, capsys):
    if installed(fmt):
        pytest.skip(f"netbuilder[{fmt}] is installed")
    assert fmt not in FORMATS
    project = str(SAMPLES / "digits_mlp.nbproj")
    assert main(["export", project, "-o", str(tmp_path), "--format", f"{fmt},summary"]) == 1
    assert f"pip install netbuilder[{fmt}]" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]


def test_the_export_dialog_names_every_format_and_knows_the_extras():
    """The dialog lists the formats itself (importing netbuilder.export would load torch on the window's path)."""
    from netbuilder.ui.import_export.export_dialog import FORMAT_LABELS, OPTIONAL_FORMATS

    assert list(FORMAT_LABELS) == list(TITLES) and OPTIONAL_FORMATS == EXTRAS


@pytest.mark.slow
def test_a_regression_agrees_value_by_value_within_a_share_of_the_spread(tmp_path):
    project, weights = trained_run("digits_autoencoder", tmp_path)  # gives back its 64 input pixels
    results = export_formats(project, tmp_path / "out", ["onnx", "onnx-int8"], weights)
    checks = {check.format: check for check in check_on_validation(project, weights, results)}
    assert checks["onnx"].agreement == 1.0 and checks["onnx"].accuracy is None
    assert checks["onnx-int8"].agreement < 1.0  # int8 is off by more than 1% of the spread on some pixels
    assert checks["onnx"].line("model.onnx") == (
        f"model.onnx: 100.0% of {checks['onnx'].samples} validation predictions agree with torch "
        "(every value within 1% of the spread of torch's)"
    )


def test_a_file_its_runtime_refuses_is_named(tmp_path):
    project = load_project(SAMPLES / "digits_mlp.nbproj")
    torch.save(fresh_state(project), tmp_path / "model.pt")
    (tmp_path / "model.onnx").write_bytes(b"not an ONNX file")
    with pytest.raises(EvaluationError, match=r"^model\.onnx fails in its runtime: "):
        check_on_validation(project, tmp_path / "model.pt", {"onnx": ExportResult("onnx", tmp_path / "model.onnx")})


def fresh_state(project) -> dict:
    """The weights of the project's network as train.py builds it, untrained."""
    return load_program(project).new_model().state_dict()
