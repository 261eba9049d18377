"""Recovering after a crash, as a person sees it: the dialog lists the work kept with its times, opens the
autosave chosen, keeps it until the recovered project is saved, and offers it again after a second crash."""

from __future__ import annotations

import errno
import os
import shutil
import time
from datetime import datetime

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

from netbuilder.atomic_file import STALE_TEMPORARY_S
from netbuilder.project import load_project
from netbuilder.project.recovery import Recovery
from netbuilder.ui.app import application
from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.app.recovery_dialog import RecoveryDialog, human_time
from tests.ui.conftest import SAMPLES, forget_changes


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "cnn.nbproj"
    shutil.copy(SAMPLES / "digits_cnn.nbproj", path)
    return path


@pytest.fixture
def session(qtbot, settings, recovery):
    """A new window over the same settings and recovery folder, as each start of netbuilder makes one."""

    def start() -> MainWindow:
        window = MainWindow(settings, Recovery(recovery.folder))  # nothing kept in memory across
        qtbot.addWidget(window, before_close_func=forget_changes)
        window.show()
        return window

    return start


def crash(window: MainWindow) -> None:
    """The process dies here: no save, no close; the system lets go of the locks it held on its work."""
    window.recovery.close()


def autosaves(recovery) -> list:
    """The autosave files on disk, whoever holds them."""
    return sorted(recovery.folder.glob("*.nbrecovery"))


def dropouts(window: MainWindow) -> int:
    return sum(n.block == "Dropout" for n in window.document.graph.nodes.values())


def rows(dialog: RecoveryDialog) -> list[list[str]]:
    tree = dialog.tree
    return [[tree.topLevelItem(i).text(c) for c in range(4)] for i in range(tree.topLevelItemCount())]


def offered(window: MainWindow) -> RecoveryDialog:
    window.offer_recovery()
    dialog = window.recovery_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_after_a_crash_the_work_is_listed_with_its_file_and_time_and_opens_unsaved(session, source, recovery):
    crashed = session()
    crashed.open_path(source)
    crashed.controller.add_block("Dropout", (10.0, 500.0))
    crashed.autosave()
    crash(crashed)
    fresh = session()
    dialog = offered(fresh)
    nodes = str(len(load_project(source).graph.nodes) + 1)
    assert rows(dialog) == [["Digits CNN", "cnn.nbproj", "just now", nodes]]
    assert str(source) in dialog.detail.text()
    dialog.open_button.click()
    assert not dialog.isVisible()
    assert dropouts(fresh) == 1 and fresh.document.path == source and fresh.controller.modified
    assert load_project(source).graph.nodes.keys() != fresh.document.graph.nodes.keys()  # the file is untouched
    crash(fresh)
    assert len(recovery.pending()) == 1, "recovering deleted the autosave: a second crash would lose the work"


def test_a_second_crash_after_recovering_offers_the_work_again(session, source):
    crashed = session()
    crashed.open_path(source)
    crashed.controller.add_block("Dropout", (10.0, 500.0))
    crashed.autosave()
    crash(crashed)
    second = session()
    offered(second).open_button.click()
    crash(second)
    crashed_again_right_away = session()
    offered(crashed_again_right_away).open_button.click()
    assert dropouts(crashed_again_right_away) == 1  # nothing was autosaved in between, and nothing lost
    crashed_again_right_away.controller.add_block("Dropout", (10.0, 700.0))
    crashed_again_right_away.autosave()
    crash(crashed_again_right_away)
    third = session()
    dialog = offered(third)
    assert len(rows(dialog)) == 1
    dialog.open_button.click()
    assert dropouts(third) == 2 and third.document.path == source


def test_saving_the_recovered_project_removes_its_autosaves(session, source, recovery):
    crashed = session()
    crashed.open_path(source)
    crashed.controller.add_block("Dropout", (10.0, 500.0))
    crashed.autosave()
    crash(crashed)
    fresh = session()
    offered(fresh).open_button.click()
    assert fresh.save()
    assert autosaves(recovery) == []
    assert sum(n.block == "Dropout" for n in load_project(source).graph.nodes.values()) == 1


def test_closing_the_recovered_project_without_saving_removes_its_autosaves(session, source, recovery, answer):
    crashed = session()
    crashed.open_path(source)
    crashed.controller.add_block("Dropout", (10.0, 500.0))
    crashed.autosave()
    crash(crashed)
    fresh = session()
    offered(fresh).open_button.click()
    asked = answer(QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard)
    fresh.close_project()  # Cancel: still open, still kept
    assert fresh.document is not None and len(autosaves(recovery)) == 1
    fresh.close_project()  # Don't Save
    assert len(asked) == 2 and autosaves(recovery) == []


def test_the_last_three_autosaves_are_offered_and_an_earlier_one_can_be_opened(session, source):
    crashed = session()
    crashed.open_path(source)
    for n in range(4):  # four minutes of work: the first is no longer kept
        crashed.controller.add_block("Dropout", (10.0, 500.0 + 100 * n))
        crashed.autosave()
    crash(crashed)
    fresh = session()
    dialog = offered(fresh)
    top = dialog.tree.topLevelItem(0)
    assert top.childCount() == 2 and top.child(0).text(0) == "an earlier autosave"
    [work] = dialog.works()
    assert [a.nodes for a in work.generations] == [int(top.text(3)), int(top.text(3)) - 1, int(top.text(3)) - 2]
    dialog.select(work, work.generations[-1])
    assert dialog.tree.currentItem() is top.child(1)
    dialog.open_button.click()
    assert dropouts(fresh) == 2


def test_every_project_left_unsaved_is_listed_newest_first(session, source):
    crashed = session()
    crashed.open_path(source)
    crashed.controller.add_block("Dropout", (10.0, 500.0))
    crashed.autosave()
    other = session()  # a second window of that session, on a new project
    other.new_project()
    other.controller.add_block("Flatten", (200.0, 0.0))
    other.autosave()
    crash(crashed)
    crash(other)
    dialog = offered(session())
    assert [row[:2] for row in rows(dialog)] == [[other.document.title, "never saved"], ["Digits CNN", "cnn.nbproj"]]
    assert "Save asks where to keep it" in dialog.detail.text()


def test_later_keeps_the_work_and_the_start_page_offers_it_again(session, source, recovery, qtbot):
    crashed = session()
    crashed.open_path(source)
    crashed.controller.add_block("Dropout", (10.0, 500.0))
    crashed.autosave()
    crash(crashed)
    fresh = session()
    dialog = offered(fresh)
    dialog.later_button.click()
    assert not dialog.isVisible() and len(recovery.pending()) == 1
    banner = fresh.start_page.recover_banner
    assert not banner.isHidden() and "one project" in banner.text.text()
    fresh.start_page.recover_button.click()
    assert fresh.recovery_dialog is not dialog and fresh.recovery_dialog.isVisible()
    fresh.recovery_dialog.open_button.click()
    assert dropouts(fresh) == 1
    assert banner.isHidden()  # the work recovered is the open document's, not another session's


def test_discard_asks_first_then_deletes_only_that_projects_autosaves(session, source, recovery, answer):
    crashed = session()
    crashed.open_path(source)
    crashed.controller.add_block("Dropout", (10.0, 500.0))
    crashed.autosave()
    other = session()
    other.new_project()
    other.controller.add_block("Flatten", (200.0, 0.0))
    other.autosave()
    crash(crashed)
    crash(other)
    fresh = session()
    dialog = offered(fresh)
    asked = answer(QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard)
    dialog.discard_button.click()  # the newest, selected: the untitled project; Cancel keeps it
    assert len(autosaves(recovery)) == 2 and len(rows(dialog)) == 2
    dialog.discard_button.click()
    assert "cannot be recovered" in asked[1] and "never saved" in asked[1]
    assert [w.name for w in recovery.pending()] == ["Digits CNN"]
    assert [row[0] for row in rows(dialog)] == ["Digits CNN"] and dialog.isVisible()
    answer(QMessageBox.StandardButton.Discard)
    dialog.discard_button.click()
    assert autosaves(recovery) == [] and not dialog.isVisible()
    assert fresh.start_page.recover_banner.isHidden() and fresh.document is None


def test_nothing_is_offered_after_a_clean_exit(session, source):
    first = session()
    first.open_path(source)
    first.controller.add_block("Dropout", (10.0, 500.0))
    first.autosave()
    first.controller.undo_stack.setClean()
    assert first.close()
    fresh = session()
    fresh.offer_recovery()
    assert fresh.recovery_dialog is None and fresh.start_page.recover_banner.isHidden()


def test_an_untitled_project_recovered_after_a_crash_is_still_named_by_its_first_save(
    session, recovery, tmp_path, monkeypatch
):
    crashed = session()
    crashed.new_project()
    crashed.controller.add_block("Flatten", (200.0, 0.0))
    crashed.autosave()
    crash(crashed)
    fresh = session()
    offered(fresh).open_button.click()
    assert fresh.document.title.startswith("Untitled")
    path = tmp_path / "flat.nbproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    assert fresh.save()
    assert load_project(path).name == "flat" and fresh.windowTitle().startswith("flat (flat.nbproj)")
    assert autosaves(recovery) == []


def test_an_autosave_that_fails_is_explained_once_not_every_minute(session, source, monkeypatch):
    window = session()
    window.open_path(source)
    window.controller.add_block("Dropout", (10.0, 500.0))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append(text)))

    def full_disk(entry, project):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(window.recovery, "save", full_disk)
    for _ in range(3):
        window.autosave()
    assert len(shown) == 1 and "No space left on device" in shown[0] and "Save the project" in shown[0]
    assert "Autosave failed" in window.statusBar().currentMessage()
    monkeypatch.undo()
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append(text)))
    window.autosave()  # it works again: a later failure is worth saying again
    monkeypatch.setattr(window.recovery, "save", full_disk)
    window.autosave()
    assert len(shown) == 2


def test_a_project_with_text_that_cannot_be_saved_gets_one_message_naming_it(session, source, monkeypatch):
    window = session()
    window.open_path(source)
    window.controller.add_block("Dropout", (10.0, 500.0))
    window.document.project.name = "Digits \ud800"  # as a file could hold it before such text was refused
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append(text)))
    window.autosave()
    window.autosave()
    assert len(shown) == 1 and "name: " in shown[0] and "U+D800" in shown[0] and "Traceback" not in shown[0]


def test_opening_a_project_sweeps_what_killed_saves_left_beside_it(window_over, source):
    stale = source.parent / f".{source.name}.0123456789ab.tmp"
    fresh = source.parent / f".{source.name}.ba9876543210.tmp"
    foreign = source.parent / ".someone.else.tmp"
    for path in (stale, fresh, foreign):
        path.write_text("half a save")
    old = time.time() - STALE_TEMPORARY_S - 60
    os.utime(stale, (old, old))
    os.utime(foreign, (old, old))
    assert window_over(source)
    assert not stale.exists() and fresh.exists() and foreign.exists()


@pytest.fixture
def window_over(session):
    return lambda path: session().open_path(path)


def test_times_are_said_as_a_person_would():
    now = datetime(2026, 12, 3, 10, 45).timestamp()
    at = lambda *args: datetime(*args).timestamp()  # noqa: E731
    assert human_time(now - 20, now) == "just now"
    assert human_time(now - 60, now) == "1 minute ago"
    assert human_time(now - 180, now) == "3 minutes ago"
    assert human_time(at(2026, 12, 3, 8, 5), now) == "today 08:05"
    assert human_time(at(2026, 12, 2, 18, 5), now) == "yesterday 18:05"
    assert human_time(at(2026, 11, 30, 9, 10), now) == "Monday 09:10"
    assert human_time(at(2026, 11, 2, 9, 10), now) == "2 Nov 09:10"
    assert human_time(at(2025, 11, 2, 9, 10), now) == "2 Nov 2025 09:10"


def test_an_autosave_that_cannot_be_read_is_explained_and_its_earlier_ones_stay_offered(
    session, source, recovery, monkeypatch
):
    crashed = session()
    crashed.open_path(source)
    for n in range(2):
        crashed.controller.add_block("Dropout", (10.0, 500.0 + 100 * n))
        crashed.autosave()
    crash(crashed)
    [work] = recovery.pending()
    note, _ = work.newest.copy.read_bytes().split(b"\n", 1)
    work.newest.copy.write_bytes(note + b"\n{ damaged")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append(text)))
    fresh = session()
    offered(fresh).open_button.click()
    assert fresh.document is None and len(shown) == 1 and "the autosave is damaged" in shown[0]
    fresh.start_page.recover_button.click()
    dialog = fresh.recovery_dialog
    dialog.select(work, work.generations[1])
    dialog.open_button.click()
    assert dropouts(fresh) == 1


def test_work_open_in_another_netbuilder_window_is_not_offered_as_left_behind(session, source):
    running = session()
    running.open_path(source)
    running.controller.add_block("Dropout", (10.0, 500.0))
    running.autosave()
    another = session()
    another.offer_recovery()
    assert another.recovery_dialog is None and another.start_page.recover_banner.isHidden()
    crash(running)
    offered(another).open_button.click()
    assert dropouts(another) == 1


def test_recovering_a_project_sweeps_what_a_save_cut_short_by_the_crash_left_beside_it(session, source):
    crashed = session()
    crashed.open_path(source)
    crashed.controller.add_block("Dropout", (10.0, 500.0))
    crashed.autosave()
    stale = source.parent / f".{source.name}.0123456789ab.tmp"
    stale.write_text("half a save")
    old = time.time() - STALE_TEMPORARY_S - 60
    os.utime(stale, (old, old))
    crash(crashed)
    offered(session()).open_button.click()
    assert not stale.exists()


def test_a_start_tidies_the_recovery_folder_then_offers_what_was_left(qtbot, source, recovery, tmp_path, monkeypatch):
    crashed = Recovery(recovery.folder)
    project = load_project(source)
    project.graph.add_node("Dropout", label="kept", position=(0.0, 500.0))
    copy = crashed.save(crashed.new_entry(), project)
    crashed.close()
    stale = recovery.folder / f".{copy.name}.0123456789ab.tmp"
    stale.write_text("half an autosave")
    old = time.time() - STALE_TEMPORARY_S - 60
    os.utime(stale, (old, old))
    monkeypatch.setattr(application, "recovery_folder", lambda: recovery.folder)
    monkeypatch.setattr(
        application, "QSettings", lambda: QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    )
    window = application.create_window()
    qtbot.addWidget(window, before_close_func=forget_changes)
    assert not stale.exists()
    window.recovery_dialog.open_button.click()
    assert "kept" in {n.label for n in window.document.graph.nodes.values()}
