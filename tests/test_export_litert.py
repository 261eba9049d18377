"""model.tflite read back in LiteRT's interpreter (the optional extra litert; skipped without it), and the
fixed-batch runner that lets its file, and ExecuTorch's, take any number of samples."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.export.checks import MismatchError
from netbuilder.export.fixed_batch import in_fixed_batches
from netbuilder.export.subject import EXAMPLE_BATCH, Subject, make_subject
from netbuilder.project import load_project

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def subject_of(sample: str) -> Subject:
    """A sample project's model, initialised with its seed, as every format is written from it."""
    project = load_project(SAMPLES / sample)
    return make_subject(project, generate_model(project.graph, analyze(project.graph), name=project.name), None)


def test_fixed_batches_run_every_piece_at_the_file_batch_and_drop_the_padding():
    seen = []

    def run(inputs):  # a "file" that only takes 3 samples, with two outputs
        x, y = inputs
        seen.append(x.shape[0])
        assert x.shape[0] == 3
        return [x * 2, (x + y).sum(1)]

    x, y = torch.randn(7, 4), torch.randn(7, 4)
    doubled, summed = in_fixed_batches(run, 3)(x, y)
    assert seen == [3, 3, 3]
    torch.testing.assert_close(doubled, x * 2)
    torch.testing.assert_close(summed, (x + y).sum(1))
    single = in_fixed_batches(lambda inputs: [inputs[0] + 1], 3)(x)
    assert isinstance(single, torch.Tensor)
    torch.testing.assert_close(single, x + 1)


@pytest.fixture(scope="module")
def litert():
    """litert-torch, or the test is skipped: the extra is optional."""
    return pytest.importorskip("litert_torch")


# the LSTM sample is slow to convert (here 22 s for LiteRT, 139 s for ExecuTorch): heavy
@pytest.mark.parametrize(
    "sample", ["digits_cnn.nbproj", pytest.param("sentiment_lstm.nbproj", marks=pytest.mark.heavy)]
)
def test_tflite_computes_what_the_model_does_in_the_litert_interpreter(litert, sample, tmp_path):
    from netbuilder.export.litert_file import load_litert, write_litert

    subject = subject_of(sample)
    path = tmp_path / "model.tflite"
    write_litert(subject, path)
    run = load_litert(path)
    inputs = subject.example_inputs(2 * EXAMPLE_BATCH + 3)  # several pieces of the file's fixed batch
    with torch.no_grad():
        expected = subject.model(*inputs)
    torch.testing.assert_close(run(*inputs), expected, atol=1e-4, rtol=0)


def test_a_tflite_that_computes_something_else_is_refused(litert, tmp_path, monkeypatch):
    from netbuilder.export import litert_file

    subject = subject_of("digits_cnn.nbproj")
    loaded = litert_file.load_litert

    def off_by_one(path):
        run = loaded(path)
        return lambda *inputs: run(*inputs) + 1

    monkeypatch.setattr(litert_file, "load_litert", off_by_one)
    with pytest.raises(MismatchError, match="LiteRT's interpreter"):
        litert_file.write_litert(subject, tmp_path / "model.tflite")
