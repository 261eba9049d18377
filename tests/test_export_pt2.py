"""model.pt2 read back as a user reads it, torch.export.load(...).module(): it computes what the model computes at
any batch size, for a plain network and one of composite blocks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.export import export_formats
from netbuilder.project import load_project
from netbuilder.runtime.build import build_model

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.mark.parametrize("name", ["digits_cnn", pytest.param("digits_resnet", marks=pytest.mark.slow)])
def test_pt2_loads_with_torch_export_and_computes_what_the_model_does_at_any_batch(name, tmp_path):
    project = load_project(SAMPLES / f"{name}.nbproj")
    torch.manual_seed(7)  # not the project's seed: the weights must come from the file
    model = build_model(generate_model(project.graph, analyze(project.graph), name=project.name)).eval()
    torch.save(model.state_dict(), tmp_path / "model.pt")
    (result,) = export_formats(project, tmp_path / "out", ["pt2"], tmp_path / "model.pt").values()
    assert result.error == "" and result.path == tmp_path / "out" / "model.pt2"
    assert sorted(p.name for p in result.path.parent.iterdir()) == ["model.pt2"]  # no partial file left
    loaded = torch.export.load(str(result.path)).module()
    with torch.no_grad():
        for batch in (1, 5, 64):
            x = torch.randn(batch, 1, 8, 8, generator=torch.Generator().manual_seed(batch))
            torch.testing.assert_close(loaded(x), model(x), atol=1e-5, rtol=0)
