"""The run history on disk: every run keeps its own folder, `latest` names the last run that finished, and no
failed or stopped run removes an earlier run's files."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from netbuilder.atomic_file import STALE_TEMPORARY_S
from netbuilder.project import latest_run as latest_module
from netbuilder.project.latest_run import latest_run, point_latest
from netbuilder.project.run_history import (
    MAX_RUNS,
    MAX_RUNS_WITH_FILES,
    RunHistory,
    RunRecord,
    runs_folder,
    sweep_interrupted_writes,
)


def _add(history: RunHistory, run_id: str, status: str = "completed") -> Path:
    run_dir = history.run_dir(run_id)
    run_dir.mkdir(parents=True)
    (run_dir / "model.pt").write_bytes(b"weights of " + run_id.encode())
    history.add(RunRecord(run_id, status, weights=f"{run_id}/model.pt"))
    return run_dir


def test_latest_names_the_last_run_that_finished_not_a_stopped_or_failed_one(tmp_path):
    history = RunHistory(tmp_path / "net.nbproj")
    first = _add(history, "2025-01-01_10-00-00")
    assert latest_run(history.folder) == first
    _add(history, "2025-01-01_10-00-01", "stopped")
    _add(history, "2025-01-01_10-00-02", "failed")
    assert latest_run(history.folder) == first
    early = _add(history, "2025-01-01_10-00-03", "early-stopped")
    assert latest_run(history.folder) == early
    assert os.readlink(history.folder / "latest") == "2025-01-01_10-00-03"  # relative, inside the folder


def test_a_failed_run_never_removes_an_earlier_runs_files(tmp_path):
    history = RunHistory(tmp_path / "net.nbproj")
    kept = [_add(history, f"2025-01-01_10-00-{i:02}") for i in range(MAX_RUNS_WITH_FILES)]
    for i in range(3):
        _add(history, f"2025-01-01_11-00-{i:02}", "failed")
        _add(history, f"2025-01-01_12-00-{i:02}", "stopped")
    assert all((run / "model.pt").is_file() for run in kept)


def test_the_run_latest_names_is_never_dropped_with_the_oldest(tmp_path):
    history = RunHistory(tmp_path / "net.nbproj")
    finished = _add(history, "2025-01-01_09-00-00")
    for i in range(MAX_RUNS):
        _add(history, f"2025-01-01_10-00-{i:02}", "failed")
    _add(history, "2025-01-01_11-00-00", "stopped")
    assert latest_run(history.folder) == finished and (finished / "model.pt").is_file()
    newest = _add(history, "2025-01-01_12-00-00")  # a finished run drops the oldest, now that latest moved on
    assert latest_run(history.folder) == newest
    assert not finished.exists() and not (runs_folder(tmp_path / "net.nbproj") / "2025-01-01_09-00-00.json").exists()
    assert len([p for p in history.folder.glob("*.json")]) == MAX_RUNS


def test_where_symlinks_cannot_be_made_latest_is_a_text_file_naming_the_run(tmp_path, monkeypatch):
    def refused(*_args, **_kwargs):
        raise OSError("symbolic links need a privilege here")

    monkeypatch.setattr(latest_module.os, "symlink", refused)
    (tmp_path / "2025-01-01_10-00-00").mkdir()
    (tmp_path / "2025-01-01_10-00-01").mkdir()
    point_latest(tmp_path, tmp_path / "2025-01-01_10-00-00")
    point_latest(tmp_path, tmp_path / "2025-01-01_10-00-01")
    assert not (tmp_path / "latest").is_symlink()
    assert (tmp_path / "latest").read_text() == "2025-01-01_10-00-01\n"
    assert latest_run(tmp_path) == tmp_path / "2025-01-01_10-00-01"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left


@pytest.mark.parametrize("named", ["../elsewhere", "/etc", "", "a/b", "missing"])
def test_a_latest_file_naming_anything_but_a_run_folder_beside_it_names_nothing(tmp_path, named):
    (tmp_path / "latest").write_text(named)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b").mkdir()
    assert latest_run(tmp_path) is None


def test_moving_latest_replaces_the_link_in_one_step(tmp_path):
    for name in ("2025-01-01_10-00-00", "2025-01-01_10-00-01"):
        (tmp_path / name).mkdir()
        point_latest(tmp_path, tmp_path / name)
    assert latest_run(tmp_path) == tmp_path / "2025-01-01_10-00-01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-01-01_10-00-00", "2025-01-01_10-00-01", "latest"]


def test_opening_a_project_sweeps_what_killed_runs_and_saves_left_behind(tmp_path):
    project = tmp_path / "digits.nbproj"
    runs = runs_folder(project)
    run = runs / "2025-06-01_14-05-22"
    (run / "checkpoints").mkdir(parents=True)
    old = time.time() - STALE_TEMPORARY_S - 60
    stale = [
        tmp_path / ".digits.nbproj.0123456789ab.tmp",  # a save cut short
        runs / ".latest.0123456789ab.tmp",  # a pointer half made
        run / ".last.pt.0123456789ab.tmp",  # the window's checkpoint
        run / "checkpoints" / ".best.pt.0123456789ab.tmp",  # netbuilder train --out's
    ]
    fresh = run / ".model.pt.0123456789ab.tmp"  # a run writing now
    kept = [fresh, run / "notes.tmp", runs / "elsewhere" / ".x.0123456789ab.tmp"]
    kept[2].parent.mkdir()
    for path in [*stale, *kept]:
        path.write_bytes(b"partial")
    for path in [*stale, kept[1], kept[2]]:
        os.utime(path, (old, old))
    assert sorted(sweep_interrupted_writes(project)) == sorted(stale)
    assert all(path.exists() for path in kept) and not any(path.exists() for path in stale)


def test_only_the_newest_runs_keep_their_files_and_their_records_say_so(tmp_path):
    history = RunHistory(tmp_path / "net.nbproj")
    runs = [_add(history, f"2025-01-01_10-{i // 60:02}-{i % 60:02}") for i in range(MAX_RUNS_WITH_FILES + 3)]
    assert [run.is_dir() for run in runs] == [False] * 3 + [True] * MAX_RUNS_WITH_FILES
    read = RunHistory(tmp_path / "net.nbproj").records
    assert len(read) == len(runs)  # the records stay: only the files went
    assert [r.weights is None for r in read] == [True] * 3 + [False] * MAX_RUNS_WITH_FILES


def test_a_starred_run_keeps_its_files_and_its_record_however_many_runs_follow(tmp_path):
    history = RunHistory(tmp_path / "net.nbproj")
    first = _add(history, "2025-01-01_09-00-00")
    history.update(replace(history.records[0], starred=True, name="  the good one  "))
    for i in range(MAX_RUNS + 1):
        _add(history, f"2025-01-01_10-{i // 60:02}-{i % 60:02}")
    read = RunHistory(tmp_path / "net.nbproj").records
    assert read[0].run_id == "2025-01-01_09-00-00" and read[0].starred and read[0].name == "the good one"
    assert (first / "model.pt").is_file() and len(read) == MAX_RUNS + 1


def test_the_best_run_of_a_sweep_keeps_its_files_as_a_starred_one_does(tmp_path):
    history = RunHistory(tmp_path / "net.nbproj")
    best = _add(history, "2025-01-01_09-00-00")
    history.update(
        replace(history.records[0], sweep={"id": "sweep-1", "values": {"fc1.out_features": 8}, "best": True})
    )
    for i in range(MAX_RUNS_WITH_FILES + 1):
        _add(history, f"2025-01-01_10-00-{i:02}")
    assert (best / "model.pt").is_file() and RunHistory(tmp_path / "net.nbproj").records[0].weights is not None


def test_removing_a_run_deletes_its_files_and_latest_falls_back_to_the_newest_finished_run(tmp_path):
    history = RunHistory(tmp_path / "net.nbproj")
    older = _add(history, "2025-01-01_10-00-00")
    _add(history, "2025-01-01_10-00-01", "failed")
    newest = _add(history, "2025-01-01_10-00-02")
    logs = history.folder / "tensorboard" / newest.name
    logs.mkdir(parents=True)
    (logs / "events.out.tfevents.1").write_bytes(b"")
    history.remove(newest.name)
    assert not newest.exists() and not logs.exists() and not (history.folder / f"{newest.name}.json").exists()
    assert latest_run(history.folder) == older
    assert [r.run_id for r in RunHistory(tmp_path / "net.nbproj").records] == [older.name, "2025-01-01_10-00-01"]


def test_a_record_keeps_the_project_it_ran_its_name_and_its_sweep(tmp_path):
    project = {"format_version": 3, "name": "net", "graph": {"nodes": [], "edges": []}}
    sweep = {"id": "sweep-1", "values": {"optimizer.lr": 0.01, "fc1.out_features": 64}, "bad": [1]}
    history = RunHistory(tmp_path / "net.nbproj")
    history.add(RunRecord("2025-01-01_10-00-00", "completed", project=project, name="x" * 200, sweep=sweep))
    (read,) = RunHistory(tmp_path / "net.nbproj").records
    assert read.project == project and read.title == "x" * 80
    assert read.sweep == {"id": "sweep-1", "values": {"optimizer.lr": 0.01, "fc1.out_features": 64}}
    assert (
        RunRecord("r", "completed").title == "r" and RunRecord.from_dict({**read.to_dict(), "sweep": 3}).sweep is None
    )


def test_only_the_last_run_stopped_with_its_checkpoint_still_there_can_be_continued(tmp_path):
    history = RunHistory(tmp_path / "net.nbproj")
    assert history.continuable() is None
    run_dir = _add(history, "2025-01-01_10-00-00", "stopped")
    history.records[-1] = replace(history.records[-1], checkpoint="2025-01-01_10-00-00/last.pt")
    assert history.continuable() is None  # the record names a checkpoint that is not there
    (run_dir / "last.pt").write_bytes(b"checkpoint")
    assert history.continuable() == (history.records[-1], run_dir / "last.pt")
    _add(history, "2025-01-01_10-00-01")  # a later run that completed: nothing to continue
    assert history.continuable() is None
