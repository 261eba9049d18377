"""`netbuilder explain`: a trained network's map for one input file, read as the exported predict.py reads it,
written as a picture; plain words and exit codes for what is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy
import pytest
from PIL import Image

from netbuilder.cli import main
from netbuilder.project import load_project
from netbuilder.training.engine import Trainer, with_settings

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("explain")
    path = folder / "digits_cnn.nbproj"
    shutil.copy(SAMPLES / "digits_cnn.nbproj", path)
    trainer = Trainer(with_settings(load_project(path), device="cpu", epochs=1, seed=3))
    trainer.run(max_steps=20)
    weights = trainer.save_weights(folder / "model.pt")
    digit = numpy.zeros((8, 8), dtype=numpy.uint8)
    digit[1:7, 3:5] = 255  # a one
    Image.fromarray(digit).save(folder / "one.png")
    return path, weights, folder / "one.png"


@pytest.mark.parametrize("method", ["gradcam", "saliency", "ig"])
def test_the_map_is_written_over_the_input(digits_run, tmp_path, capsys, method):
    project, weights, image = digits_run
    out = tmp_path / "map.png"
    argv = ["explain", str(project), "--weights", str(weights), "--input", str(image), "--method", method]
    assert main([*argv, "-o", str(out)]) == 0
    said = capsys.readouterr().out
    name = {"gradcam": "Grad-CAM at conv1", "saliency": "Saliency", "ig": "Integrated gradients"}[method]
    assert said.startswith(f"{out}: {name} of {image} for class ")
    written = numpy.asarray(Image.open(out))
    assert written.shape == (256, 256, 3)  # the 8x8 digit, enlarged
    plain = numpy.repeat(numpy.repeat(numpy.asarray(Image.open(image)), 32, 0), 32, 1)
    coloured = (written[..., 0] != written[..., 2]) | (plain[..., None] != written).any(axis=2)
    assert coloured.any()  # the map is over the digit


def test_a_chosen_class_and_wrong_answers(digits_run, tmp_path, capsys):
    project, weights, image = digits_run
    base = ["explain", str(project), "--weights", str(weights), "--input", str(image), "-o", str(tmp_path / "m.png")]
    assert main([*base, "--class", "7", "--method", "saliency"]) == 0
    assert " for class 7 (" in capsys.readouterr().out
    assert main([*base, "--class", "12"]) == 2
    assert "--class 12: the classes are 0, 1, 2" in capsys.readouterr().err
    assert main([*base, "--layer", "fc"]) == 2
    assert "--layer fc: Grad-CAM can look at conv1" in capsys.readouterr().err
    gone = ["explain", str(project), "--weights", str(tmp_path / "none.pt"), "--input", str(image), "-o", "x.png"]
    assert main(gone) == 1
    assert "the weights of this run are gone" in capsys.readouterr().err
