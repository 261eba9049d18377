"""model.pte read back in ExecuTorch's runtime (the optional extra executorch; skipped without it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.export.checks import MismatchError
from netbuilder.export.subject import EXAMPLE_BATCH, Subject, make_subject
from netbuilder.project import load_project

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def subject_of(sample: str) -> Subject:
    """A sample project's model, initialised with its seed, as every format is written from it."""
    project = load_project(SAMPLES / sample)
    return make_subject(project, generate_model(project.graph, analyze(project.graph), name=project.name), None)


@pytest.fixture(scope="module")
def executorch():
    """ExecuTorch, or the test is skipped: the extra is optional."""
    return pytest.importorskip("executorch.runtime")


# the LSTM sample is slow to convert (here 22 s for LiteRT, 139 s for ExecuTorch): heavy
@pytest.mark.parametrize(
    "sample", ["digits_cnn.nbproj", pytest.param("sentiment_lstm.nbproj", marks=pytest.mark.heavy)]
)
def test_pte_computes_what_the_model_does_in_the_executorch_runtime(executorch, sample, tmp_path):
    from netbuilder.export.executorch_file import load_executorch, write_executorch

    subject = subject_of(sample)
    path = tmp_path / "model.pte"
    write_executorch(subject, path)
    run = load_executorch(path)
    inputs = subject.example_inputs(2 * EXAMPLE_BATCH + 3)  # several pieces of the file's fixed batch
    with torch.no_grad():
        expected = subject.model(*inputs)
    torch.testing.assert_close(run(*inputs), expected, atol=1e-4, rtol=0)


def test_a_pte_that_computes_something_else_is_refused(executorch, tmp_path, monkeypatch):
    from netbuilder.export import executorch_file

    subject = subject_of("digits_cnn.nbproj")
    loaded = executorch_file.load_executorch

    def off_by_one(path):
        run = loaded(path)
        return lambda *inputs: run(*inputs) + 1

    monkeypatch.setattr(executorch_file, "load_executorch", off_by_one)
    with pytest.raises(MismatchError, match="ExecuTorch's runtime"):
        executorch_file.write_executorch(subject, tmp_path / "model.pte")
