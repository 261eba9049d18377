"""A partial import's gaps are kept in the project file, read back strictly, and listed grouped by call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netbuilder.graph import Graph
from netbuilder.project import FORMAT_VERSION, Project, ProjectError, load_project, project_from_dict, save_project
from netbuilder.project.events import ImportGapsChanged
from netbuilder.project.import_gaps import (
    MAX_CALL_CHARS,
    MAX_GAP_TEXT_CHARS,
    MAX_IMPORT_GAPS,
    ImportGap,
    grouped_gap_lines,
    kept_gaps,
)
from netbuilder.project.project_file import project_to_dict

CUMSUM = ImportGap("torch.cumsum", "model.py:17: return x.cumsum(1)", "no netbuilder block does this")
CLAMP = ImportGap("torch.clamp", "model.py:20: x = x.clamp(0, 1)", "no netbuilder block does this")


def imported_in_part(*gaps: ImportGap) -> Project:
    graph = Graph()
    graph.add_node("Input", params={"shape": (4,)}, label="x")
    graph.add_node("Linear", params={"out_features": 2}, label="fc")
    return Project(name="partial", graph=graph, import_gaps=gaps)


def test_the_gaps_of_a_partial_import_are_still_there_when_the_file_is_opened_again(tmp_path: Path) -> None:
    path = save_project(imported_in_part(CUMSUM, CLAMP, CUMSUM), tmp_path / "partial.nbproj")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format_version"] == FORMAT_VERSION
    assert data["import_gaps"][0] == {
        "call": "torch.cumsum",
        "where": "model.py:17: return x.cumsum(1)",
        "reason": "no netbuilder block does this",
    }
    assert load_project(path).import_gaps == (CUMSUM, CLAMP, CUMSUM)


def test_a_project_without_gaps_writes_no_gaps_field(tmp_path: Path) -> None:
    path = save_project(imported_in_part(), tmp_path / "whole.nbproj")
    assert "import_gaps" not in json.loads(path.read_text(encoding="utf-8"))
    assert load_project(path).import_gaps == ()


def _with_gaps(value: Any) -> dict[str, Any]:
    data = project_to_dict(imported_in_part(CUMSUM))
    data["import_gaps"] = value
    return data


GAP = {"call": "torch.cumsum", "where": "m.py:3: y = x.cumsum(1)", "reason": "no block"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"call": "x"}, "import_gaps: expected a list, got an object"),
        ([GAP, 3], "import_gaps[1]: expected an object, got 3"),
        ([{**GAP, "line": 3}], "import_gaps[0].line: unknown field (expected call, where, reason)"),
        ([{"call": "x", "where": "y"}], "import_gaps[0].reason: missing"),
        ([{**GAP, "where": "  "}], "import_gaps[0].where: expected a non-empty string, got '  '"),
        ([{**GAP, "reason": 7}], "import_gaps[0].reason: expected a non-empty string, got 7"),
        (
            [{**GAP, "call": "f" * (MAX_CALL_CHARS + 1)}],
            "import_gaps[0].call: expected at most 256 characters, got 257",
        ),
        (
            [GAP, {**GAP, "where": "w" * (MAX_GAP_TEXT_CHARS + 1)}],
            "import_gaps[1].where: expected at most 1,000 characters, got 1,001",
        ),
        ([{**GAP, "call": "f\ud800"}], "import_gaps[0].call: 'f\\ud800' holds a character that no file can save"),
        ([GAP] * (MAX_IMPORT_GAPS + 1), "import_gaps: 1,001 gaps; a project keeps at most 1,000"),
    ],
)
def test_a_bad_gap_in_a_file_is_refused_naming_where_it_is(value: Any, message: str) -> None:
    with pytest.raises(ProjectError) as info:
        project_from_dict(_with_gaps(value))
    assert str(info.value).startswith(message)


def test_a_format_2_file_opens_without_gaps_and_one_claiming_gaps_is_refused() -> None:
    data = project_to_dict(imported_in_part())
    data["format_version"] = 2
    assert project_from_dict(data).import_gaps == ()
    data["import_gaps"] = [GAP]
    with pytest.raises(ProjectError) as info:
        project_from_dict(data)
    assert str(info.value) == "import_gaps: unknown field in a format-2 file (import_gaps came with format 3)"


def test_whatever_an_import_reports_is_kept_in_a_form_the_file_reads_back(tmp_path: Path) -> None:
    odd = ImportGap(
        "torch." + "f" * 400,
        "/some/where/model.py:17:   y = (x\n     .cumsum(1))  " + "#" * 2000,
        "a surrogate \udc80 from a file name",
    )
    gaps = kept_gaps([odd, *([CUMSUM] * (MAX_IMPORT_GAPS + 5))])
    assert len(gaps) == MAX_IMPORT_GAPS
    first = gaps[0]
    assert len(first.call) == MAX_CALL_CHARS and first.call.endswith("...")
    assert first.where.startswith("/some/where/model.py:17: y = (x .cumsum(1)) ##")  # one line
    assert len(first.where) == MAX_GAP_TEXT_CHARS
    assert first.reason == "a surrogate ? from a file name"
    saved = save_project(imported_in_part(*gaps[:3]), tmp_path / "odd.nbproj")
    assert load_project(saved).import_gaps == gaps[:3]


def test_gaps_are_listed_once_per_call_and_reason_with_their_first_places() -> None:
    many = [
        ImportGap("torch.cumsum", f"m.py:{line}: y = x.cumsum(1)", "no netbuilder block does this")
        for line in range(10, 15)
    ]
    lines = grouped_gap_lines([many[0], CLAMP, *many[1:]])
    assert lines == [
        "torch.cumsum: no netbuilder block does this; at m.py:10: y = x.cumsum(1), m.py:11: y = x.cumsum(1), "
        "m.py:12: y = x.cumsum(1) and 2 more",
        "torch.clamp: no netbuilder block does this; at model.py:20: x = x.clamp(0, 1)",
    ]


def test_dropping_the_gaps_is_told_as_an_edit_that_an_undo_reverts() -> None:
    project = imported_in_part(CUMSUM, CLAMP)
    heard: list = []
    project.subscribe(heard.append)
    project.set_import_gaps(())
    project.set_import_gaps(())  # no change, nothing told
    assert heard == [ImportGapsChanged((CUMSUM, CLAMP), ())] and project.import_gaps == ()
    project.revert(heard[0])
    assert project.import_gaps == (CUMSUM, CLAMP)
    project.replay(heard[0])
    assert project.import_gaps == ()


def test_the_longest_list_an_import_can_leave_is_saved_and_read_back(tmp_path: Path) -> None:
    longest = ImportGap("f" * 999, "w" * 2000, "r" * 2000)
    gaps = kept_gaps([longest] * (MAX_IMPORT_GAPS + 1))
    assert len(gaps) == MAX_IMPORT_GAPS
    saved = save_project(imported_in_part(*gaps), tmp_path / "longest.nbproj")
    assert load_project(saved).import_gaps == gaps
