"""The calls a partial import could not map stay with the project: saved, then listed again by check and summary,
and export refuses while they stand, until the gaps are filled (the list dropped)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from torch import nn

from netbuilder.cli import main
from netbuilder.importers import import_module
from netbuilder.project import load_project, save_project
from netbuilder.project.import_gaps import kept_gaps

SOURCE = textwrap.dedent(
    """
    import torch
    from torch import nn


    class Tail(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return torch.special.expit(self.fc(x))
    """
)


class Cumulative(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.out = nn.Linear(3, 2)

    def forward(self, x):
        return self.out(self.fc(x).cumsum(1))


def test_a_partial_import_keeps_its_unmapped_calls_in_the_project_it_saves(tmp_path: Path) -> None:
    result = import_module(Cumulative(), (1, 4), "Cumulative")
    assert result.unmapped and result.project.import_gaps == kept_gaps(result.unmapped)
    gap = result.project.import_gaps[0]
    assert "cumsum" in gap.call and "test_import_gaps.py" in gap.where and "cumsum(1)" in gap.where
    saved = save_project(result.project, tmp_path / "cumulative.nbproj")
    assert load_project(saved).import_gaps == result.project.import_gaps
    whole = import_module(nn.Sequential(nn.Linear(4, 3)), (1, 4), "Whole")
    assert whole.project.import_gaps == ()


@pytest.fixture
def tail_project(tmp_path: Path) -> Path:
    """`netbuilder import` of a module whose last call has no block: what did import checks clean."""
    source = tmp_path / "tail.py"
    source.write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "tail.nbproj"
    assert main(["import", f"{source}:Tail", "--input-shape", "2,4", "-o", str(out)]) == 1
    return out


def test_check_and_summary_list_the_gaps_again_when_the_project_is_opened_later(tail_project, capsys) -> None:
    capsys.readouterr()
    assert main(["check", "--model-only", str(tail_project)]) == 1  # the model is known to be incomplete
    out = capsys.readouterr().out
    assert "no problems" not in out
    assert out.splitlines()[0] == (
        "imported in part: 1 call of the original model has no netbuilder block and is missing from the graph:"
    )
    assert "special_expit: no netbuilder block does this; at " in out
    assert "tail.py:12: return torch.special.expit(self.fc(x))" in out
    assert "once an edit makes the model check clean, or with Dismiss in its banner" in out

    assert main(["check", str(tail_project)]) == 1
    out = capsys.readouterr().out
    assert out.index("training needs a loss") < out.index("error(s)") < out.index("imported in part")

    assert main(["summary", str(tail_project)]) == 1
    out = capsys.readouterr().out
    assert out.index("total") < out.index("imported in part: 1 call") < out.index("special_expit")

    for command in ("check", "summary"):
        assert main([command, "--json", str(tail_project)]) == 1
        data = json.loads(capsys.readouterr().out)
        assert data["ok"] is False and [g["call"] for g in data["import_gaps"]] == [
            load_project(tail_project).import_gaps[0].call
        ]


def test_export_refuses_a_model_the_import_left_incomplete_until_the_list_is_dropped(
    tail_project, tmp_path, capsys
) -> None:
    out = tmp_path / "export"
    capsys.readouterr()
    assert main(["export", str(tail_project), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netbuilder: nothing exported: imported in part: 1 call of the original model")
    assert not out.exists()

    project = load_project(tail_project)
    project.import_gaps = ()  # filled: the window drops the list, and the next save writes none
    save_project(project)
    assert main(["check", "--model-only", str(tail_project)]) == 0
    assert capsys.readouterr().out.strip() == "no problems"
    assert main(["export", str(tail_project), "-o", str(out)]) == 0
    assert (out / "model.py").is_file()


def test_train_refuses_a_model_the_import_left_incomplete(tail_project, capsys) -> None:
    capsys.readouterr()
    assert main(["train", str(tail_project)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"netbuilder: cannot train {tail_project}: imported in part: 1 call of the original model")
