"""Crash recovery without the window: what a crash leaves behind is offered back, whole, with its times, and
the recovery folder and project folders do not fill up with leftovers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netbuilder import atomic_file
from netbuilder.atomic_file import STALE_TEMPORARY_S, sweep_stale_temporaries, write_atomically
from netbuilder.project import Project, ProjectError, load_project, project_to_json
from netbuilder.project.recovery import (
    GENERATIONS,
    MAX_AGE_S,
    MAX_ENTRIES,
    Recovery,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_projects"


@pytest.fixture
def recovery(tmp_path) -> Recovery:
    return Recovery(tmp_path / "recovery")


@pytest.fixture
def project(tmp_path) -> Project:
    path = tmp_path / "cnn.nbproj"
    shutil.copy(SAMPLES / "digits_cnn.nbproj", path)
    return load_project(path)


def edit(project: Project, n: int) -> None:
    """A change a person might make: one more block."""
    project.graph.add_node("Dropout", label=f"drop{n}", position=(10.0 * n, 500.0))


def after_a_crash(recovery: Recovery) -> Recovery:
    """The next session: the same folder, nothing remembered in memory, and the locks the dead process held
    let go (as the system does)."""
    recovery.close()
    return Recovery(recovery.folder)


def test_an_autosave_is_offered_back_with_its_file_name_time_and_size(recovery, project):
    entry = recovery.new_entry()
    edit(project, 1)
    before = time.time()
    recovery.save(entry, project)
    [work] = after_a_crash(recovery).pending()
    assert work.entry == entry and work.original == project.path and work.name == "Digits CNN"
    assert before <= work.saved_at <= time.time()
    assert work.newest.nodes == len(project.graph.nodes)
    restored = after_a_crash(recovery).restore(work)
    assert restored.path == project.path and "drop1" in {n.label for n in restored.graph.nodes.values()}


def test_each_autosave_is_one_file_so_a_kill_never_leaves_a_copy_without_its_note(recovery, project):
    entry = recovery.new_entry()
    edit(project, 1)
    recovery.save(entry, project)
    assert sorted(p.suffix for p in recovery.folder.iterdir()) == [".lock", ".nbrecovery"]  # and its lock


def test_a_kill_during_an_autosave_keeps_the_earlier_ones_offered(recovery, project, monkeypatch):
    entry = recovery.new_entry()
    edit(project, 1)
    recovery.save(entry, project)
    edit(project, 2)

    def killed(source, target):  # the process dies after the temporary file is written, before the rename
        raise SystemExit

    monkeypatch.setattr(atomic_file.os, "replace", killed)
    monkeypatch.setattr(atomic_file.os, "unlink", lambda path: None)  # and so removes nothing either
    with pytest.raises(SystemExit):
        recovery.save(entry, project)
    monkeypatch.undo()
    assert any(p.name.endswith(".tmp") for p in recovery.folder.iterdir())
    [work] = after_a_crash(recovery).pending()
    assert len(work.generations) == 1
    assert "drop1" in {n.label for n in Recovery(recovery.folder).restore(work).graph.nodes.values()}


def test_the_last_three_autosaves_are_offered_newest_first_and_older_ones_dropped(recovery, project):
    entry = recovery.new_entry()
    for n in range(1, GENERATIONS + 3):
        edit(project, n)
        recovery.save(entry, project)
    [work] = after_a_crash(recovery).pending()
    assert len(work.generations) == GENERATIONS == 3
    times = [a.saved_at for a in work.generations]
    assert times == sorted(times, reverse=True)
    counts = [a.nodes for a in work.generations]
    assert counts == sorted(counts, reverse=True) and counts[0] == len(project.graph.nodes)
    oldest = after_a_crash(recovery).restore(work, work.generations[-1])
    assert len(oldest.graph.nodes) == len(project.graph.nodes) - 2


def test_an_idle_minute_adds_no_autosave(recovery, project):
    entry = recovery.new_entry()
    edit(project, 1)
    assert recovery.save(entry, project) is not None
    assert recovery.save(entry, project) is None
    [work] = after_a_crash(recovery).pending()
    assert len(work.generations) == 1


def test_every_document_that_was_not_saved_is_offered(recovery, project, tmp_path):
    other = Project.new("Untitled 3", named=False)
    other.graph.add_node("Dataset", label="data", position=(0.0, 0.0))
    edit(project, 1)
    recovery.save(recovery.new_entry(), project)
    recovery.save(recovery.new_entry(), other)
    works = after_a_crash(recovery).pending()
    assert [w.name for w in works] == ["Untitled 3", "Digits CNN"]
    assert works[0].original is None and not works[0].newest.named


def test_recovered_work_keeps_autosaving_into_its_entry_so_a_second_crash_offers_it_again(recovery, project):
    entry = recovery.new_entry()
    edit(project, 1)
    recovery.save(entry, project)
    second = after_a_crash(recovery)
    [work] = second.pending()
    recovered = second.restore(work)
    assert second.save(work.entry, recovered) is None  # unchanged since recovered: nothing new to keep
    edit(recovered, 2)
    second.save(work.entry, recovered)
    third = after_a_crash(second)
    [again] = third.pending()
    assert again.entry == entry and len(again.generations) == 2
    assert {"drop1", "drop2"} <= {n.label for n in third.restore(again).graph.nodes.values()}


def test_work_open_in_a_running_netbuilder_is_not_offered_until_that_one_dies(recovery, project):
    entry = recovery.new_entry()
    edit(project, 1)
    recovery.save(entry, project)
    another_window = Recovery(recovery.folder)
    assert recovery.pending() == [] and another_window.pending() == []
    another_window.tidy(now=time.time() + MAX_AGE_S + 60)  # nor tidied away, however old
    another_window.discard(entry)  # nor discarded
    [work] = after_a_crash(recovery).pending()
    assert work.entry == entry


def test_work_recovered_in_one_window_cannot_be_recovered_in_another(recovery, project):
    edit(project, 1)
    recovery.save(recovery.new_entry(), project)
    first, second = after_a_crash(recovery), Recovery(recovery.folder)
    [work] = second.pending()
    first.restore(work)
    with pytest.raises(ProjectError, match="open in another netbuilder window"):
        second.restore(work)
    assert second.pending() == []


def test_discarding_removes_every_autosave_of_that_document_only(recovery, project):
    kept, dropped = recovery.new_entry(), recovery.new_entry()
    edit(project, 1)
    recovery.save(kept, project)
    for n in (2, 3):
        edit(project, n)
        recovery.save(dropped, project)
    recovery.discard(dropped)
    assert [w.entry for w in after_a_crash(recovery).pending()] == [kept]


def test_text_that_cannot_be_saved_is_refused_with_the_field_named(recovery, project):
    project.name = "x\udc80" * 100  # a lone surrogate, as json.loads makes of "\\udc80"
    with pytest.raises(ProjectError) as caught:
        recovery.save(recovery.new_entry(), project)
    message = str(caught.value)
    assert message.startswith("name: ") and "U+DC80" in message and "..." in message
    assert len(message) < 200 and "\n" not in message
    assert not recovery.folder.exists() or not any(recovery.folder.iterdir())


def test_a_file_name_that_is_not_utf8_is_kept_exactly(recovery, project, tmp_path):
    strange = tmp_path / os.fsdecode(b"caf\xe9.nbproj")
    edit(project, 1)
    project.path = strange
    recovery.save(recovery.new_entry(), project)
    [work] = after_a_crash(recovery).pending()
    assert work.original == strange


def test_a_damaged_or_foreign_file_in_the_folder_is_not_offered(recovery, project):
    edit(project, 1)
    recovery.save(recovery.new_entry(), project)
    recovery.folder.joinpath("0123456789abcdef.10" + ".nbrecovery").write_text("{ not json")
    recovery.folder.joinpath("0123456789abcdee.11" + ".nbrecovery").write_text('{"netbuilder_recovery": 99}')
    recovery.folder.joinpath("notes.txt").write_text("mine")
    assert [w.name for w in after_a_crash(recovery).pending()] == ["Digits CNN"]


def test_an_autosave_of_the_earlier_two_file_kind_is_still_offered_and_joins_its_entry(recovery, project):
    recovery.folder.mkdir()
    slot = recovery.folder / "00112233aabbccdd.nbproj"
    edit(project, 1)
    slot.write_text(project_to_json(project))
    note = {"original": str(project.path), "saved_at": 1000.0, "name": project.name, "named": True}
    slot.with_suffix(".json").write_text(json.dumps(note))
    [work] = recovery.pending()
    assert (work.entry, work.original, work.saved_at) == ("00112233aabbccdd", project.path, 1000.0)
    recovered = recovery.restore(work)
    assert recovered.path == project.path and "drop1" in {n.label for n in recovered.graph.nodes.values()}
    edit(recovered, 2)
    recovery.save(work.entry, recovered)
    [again] = after_a_crash(recovery).pending()
    assert again.entry == work.entry and len(again.generations) == 2
    recovery.discard(work.entry)
    assert list(recovery.folder.iterdir()) == []


def test_an_earlier_copy_whose_note_was_never_written_is_still_offered(recovery, project):
    recovery.folder.mkdir()
    slot = recovery.folder / "00112233aabbccdd.nbproj"
    slot.write_text(project_to_json(project))
    [work] = recovery.pending()
    assert work.name == "Digits CNN" and work.original is None
    assert abs(work.saved_at - slot.stat().st_mtime) < 1


def test_the_folder_keeps_no_copy_older_than_a_month_and_at_most_the_newest_entries(recovery, project):
    edit(project, 1)
    for _ in range(MAX_ENTRIES + 2):
        recovery.save(recovery.new_entry(), project)
    recovery = after_a_crash(recovery)
    works = recovery.pending()
    assert len(works) == MAX_ENTRIES + 2
    recovery.tidy()
    assert recovery.pending() == works[:MAX_ENTRIES]
    recovery.tidy(now=time.time() + MAX_AGE_S + 60)
    assert recovery.pending() == [] and list(recovery.folder.iterdir()) == []  # their locks gone too


def test_a_kill_between_an_autosave_and_its_pruning_is_tidied_at_the_next_start(recovery, project):
    entry = recovery.new_entry()
    for n in range(1, GENERATIONS + 2):
        edit(project, n)
        recovery.save(entry, project)
    recovery = after_a_crash(recovery)
    [work] = recovery.pending()
    shutil.copy(work.generations[-1].copy, recovery.folder / f"{entry}.1{'.nbrecovery'}")  # an older one left
    assert len(recovery.pending()[0].generations) == GENERATIONS + 1
    recovery.tidy()
    assert len(recovery.pending()[0].generations) == GENERATIONS


def leftover_of_a_killed_save(target: Path, monkeypatch) -> Path:
    """The temporary file write_atomically leaves when the process dies before its rename."""
    monkeypatch.setattr(atomic_file.os, "replace", lambda *a: (_ for _ in ()).throw(SystemExit))
    monkeypatch.setattr(atomic_file.os, "unlink", lambda path: None)
    with pytest.raises(SystemExit):
        write_atomically(target, b"half")
    monkeypatch.undo()
    [temporary] = [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.")]
    return temporary


def test_temporary_files_of_a_killed_save_are_swept_once_stale_and_fresh_or_foreign_ones_kept(tmp_path, monkeypatch):
    project_file = tmp_path / "cnn.nbproj"
    project_file.write_text("{}")
    stale = leftover_of_a_killed_save(project_file, monkeypatch)
    old = time.time() - STALE_TEMPORARY_S - 60
    os.utime(stale, (old, old))
    fresh = leftover_of_a_killed_save(tmp_path / "model.py", monkeypatch)
    foreign = [tmp_path / ".cache.tmp", tmp_path / "notes.0123456789ab.tmp", tmp_path / ".x.0123456789AB.tmp"]
    for path in foreign:
        path.write_text("someone else's")
        os.utime(path, (old, old))
    (tmp_path / ".dir.0123456789ab.tmp").mkdir()
    assert sweep_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists() and fresh.exists() and all(p.exists() for p in foreign)
    assert project_file.read_text() == "{}"


def test_stale_temporary_files_in_the_recovery_folder_go_at_start(recovery, project, monkeypatch):
    edit(project, 1)
    copy = recovery.save(recovery.new_entry(), project)
    stale = leftover_of_a_killed_save(copy, monkeypatch)
    old = time.time() - STALE_TEMPORARY_S - 60
    os.utime(stale, (old, old))
    recovery.tidy()
    assert not stale.exists() and copy.exists()


def test_an_autosave_damaged_on_disk_is_listed_but_refused_with_a_message_when_opened(recovery, project):
    entry = recovery.new_entry()
    edit(project, 1)
    copy = recovery.save(entry, project)
    note, body = copy.read_bytes().split(b"\n", 1)
    copy.write_bytes(note + b"\n" + body[: len(body) // 2])  # the disk lost the end of it
    [work] = after_a_crash(recovery).pending()
    with pytest.raises(ProjectError, match="the autosave is damaged"):
        after_a_crash(recovery).restore(work)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_an_autosave_does_not_block_the_listing(recovery, project):
    edit(project, 1)
    recovery.save(recovery.new_entry(), project)
    os.mkfifo(recovery.folder / "0123456789abcdef.1.nbrecovery")
    assert [w.name for w in after_a_crash(recovery).pending()] == ["Digits CNN"]


def test_work_of_a_netbuilder_killed_with_sigkill_is_offered_and_not_while_it_runs(recovery, tmp_path):
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from netbuilder.project import Project\n"
        "from netbuilder.project.recovery import Recovery\n"
        "project = Project.new('Killed')\n"
        "project.graph.add_node('Dataset', label='data', position=(0.0, 0.0))\n"
        "Recovery(Path(sys.argv[1])).save(Recovery.new_entry(), project)\n"
        "print('saved', flush=True)\n"
        "time.sleep(60)\n"
    )
    running = subprocess.Popen(
        [sys.executable, "-c", script, str(recovery.folder)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert running.stdout.readline() == "saved\n"
        assert recovery.pending() == []  # its window is still open
    finally:
        running.kill()
        running.wait()
    assert [w.name for w in recovery.pending()] == ["Killed"]


@pytest.mark.parametrize("when", ["NaN", "Infinity", "1e300", "-5", '"yesterday"', "true", "null"])
def test_a_note_whose_time_no_clock_can_show_is_not_offered(recovery, project, when):
    edit(project, 1)
    copy = recovery.save(recovery.new_entry(), project)
    note, body = copy.read_text().split("\n", 1)
    copy.write_text(note.replace(f'"saved_at": {json.loads(note)["saved_at"]!r}', f'"saved_at": {when}') + "\n" + body)
    assert when in copy.read_text()
    recovery.folder.joinpath("00112233aabbccdd.nbproj").write_text(project_to_json(project))
    recovery.folder.joinpath("00112233aabbccdd.json").write_text(f'{{"saved_at": {when}}}')
    assert after_a_crash(recovery).pending() == []
