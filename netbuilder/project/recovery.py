"""Autosave and crash recovery: unsaved work is written to a recovery folder every minute and offered back at
the next start if netbuilder did not close; the leftovers of interrupted saves are swept away.

Each open document has an entry in the folder, and each autosave is one generation of it: one file holding
both the note (the original file, the time, the name, how many nodes) on its first line and the project on
its second, written atomically, so a kill leaves the earlier generations whole and never a copy without its
note; listing the work reads the notes only. An entry keeps its last few generations and is removed only
when its document is saved or closed on purpose, or the person discards it; a recovered
document goes on autosaving into the entry it came from, so a second crash offers it again. The process whose
document an entry is holds a lock on it (`ENTRY.lock`) that the system lets go when the process ends, so work
open in another netbuilder window is never offered as left behind, nor recovered twice. The folder is
bounded: entries older than a month, and beyond the newest few dozen, are dropped at start.

Copies written before generations existed (an `.nbproj` copy with a `.json` note beside it, one slot per
project) are offered like an entry of one generation, and join the same entry if recovered.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from netbuilder.atomic_file import sweep_stale_temporaries, write_atomically
from netbuilder.graph.limits import MAX_FILE_BYTES, unencodable_char
from netbuilder.project.errors import ProjectError
from netbuilder.project.process_lock import ProcessLock
from netbuilder.project.project import Project
from netbuilder.project.project_file import load_project, project_from_dict, project_to_dict
from netbuilder.quoting import quoted

RECOVERY_FORMAT = 1
SUFFIX = ".nbrecovery"
GENERATIONS = 3  # autosaves kept per document: the last three minutes of distinct states
MAX_ENTRIES = 30  # documents kept in the folder; the oldest beyond go at start
MAX_AGE_S = 30 * 24 * 3600  # a copy nobody recovered in a month is dropped at start
MAX_NOTE_BYTES = 64 * 1024  # a note is a few hundred bytes: a file name, a time, a name
MAX_COPY_BYTES = MAX_FILE_BYTES + MAX_NOTE_BYTES  # a project no larger than a project file may be, and its note

_ENTRY = re.compile(r"[0-9a-f]{16}")
_GENERATION = re.compile(r"(?P<entry>[0-9a-f]{16})\.[0-9a-f]{1,20}" + re.escape(SUFFIX))
_LEGACY = re.compile(r"(?P<entry>[0-9a-f]{16})\.nbproj")
_LOCK = re.compile(r"(?P<entry>[0-9a-f]{16})\.lock")
_YEAR_3000 = 32_503_680_000  # seconds since 1970 (the furthest Windows shows as a local time)


@dataclass(frozen=True)
class Autosave:
    """One generation of an entry: the file, when it was written, and what it says about the project (its
    original file, None if never saved; its name, `named` False for a placeholder that the first save still
    replaces by the file's name; how many nodes, None if not known)."""

    copy: Path
    saved_at: float
    original: Path | None
    name: str
    named: bool
    nodes: int | None


@dataclass(frozen=True)
class RecoveredWork:
    """The autosaves of one document that was not saved or closed: its entry and its generations, newest
    first. Its name and original file are the newest generation's."""

    entry: str
    generations: tuple[Autosave, ...]

    @property
    def newest(self) -> Autosave:
        return self.generations[0]

    @property
    def name(self) -> str:
        return self.newest.name

    @property
    def original(self) -> Path | None:
        return self.newest.original

    @property
    def saved_at(self) -> float:
        return self.newest.saved_at


class Recovery:
    """The recovery folder: one entry per open document, each the last few autosaves of it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._written: dict[str, str] = {}  # entry -> the project as last written, so an idle minute adds nothing
        self._held: dict[str, ProcessLock] = {}  # the entries of this process's documents

    @staticmethod
    def new_entry() -> str:
        """A fresh entry for a document just opened or saved (random: entries of a crashed session are never
        reused by the next one)."""
        return secrets.token_hex(8)

    def save(self, entry: str, project: Project) -> Path | None:
        """Write the project's current state as the entry's newest generation and drop generations beyond
        GENERATIONS; the original file is not touched. Nothing is written (None) when the state is the one
        written last. A project holding text that cannot be written raises ProjectError naming the field,
        and so does an entry another process holds; a folder that cannot be written raises OSError."""
        body = project_to_dict(project)
        text = json.dumps(body, ensure_ascii=False)
        if self._written.get(_checked(entry)) == text:
            return None
        _check_writable(body)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._hold(entry)
        saved_at = time.time()
        note = {
            "netbuilder_recovery": RECOVERY_FORMAT,
            "original": str(project.path) if project.path else None,
            "saved_at": saved_at,
            "name": project.name,
            "named": project.named,
            "nodes": len(project.graph.nodes),
        }
        copy = self.folder / f"{entry}.{time.time_ns():x}{SUFFIX}"
        # one JSON value a line; ASCII escapes carry any file name through, one not UTF-8 included
        write_atomically(copy, f"{json.dumps(note)}\n{json.dumps(body)}\n".encode("ascii"))
        self._written[entry] = text
        for old in self._generation_files(entry)[GENERATIONS:]:
            old.unlink(missing_ok=True)
        return copy

    def discard(self, entry: str) -> None:
        """Remove every autosave of the entry (its document was saved, or closed or discarded on purpose),
        unless another netbuilder has since recovered it: then it is that window's work, and stays."""
        if entry not in self._held and ProcessLock.held_elsewhere(self._lock_path(_checked(entry))):
            return
        for copy in self._generation_files(_checked(entry)):
            copy.unlink(missing_ok=True)
        for legacy in (f"{entry}.nbproj", f"{entry}.json"):
            (self.folder / legacy).unlink(missing_ok=True)
        self._written.pop(entry, None)
        lock = self._held.pop(entry, None)
        if lock is not None:
            lock.release()
        self._lock_path(entry).unlink(missing_ok=True)

    def close(self) -> None:
        """Let go of this process's entries, leaving their autosaves (as the end of the process would): the
        next session offers them."""
        for lock in self._held.values():
            lock.release()
        self._held.clear()

    def pending(self) -> list[RecoveredWork]:
        """Autosaved work left behind, the most recently saved first: not this process's documents, nor those
        open in another netbuilder. Generations that cannot be read are left out, and entries with none."""
        live: dict[str, bool] = {}
        found: dict[str, list[Autosave]] = {}
        for path in self._files():
            match = _GENERATION.fullmatch(path.name) or _LEGACY.fullmatch(path.name)
            if match is None:
                continue
            entry = match["entry"]
            if entry not in live:
                live[entry] = self._live(entry)
            if live[entry]:
                continue
            try:
                autosave = _read_legacy_note(path) if path.suffix == ".nbproj" else _read_note(path)
            except (ProjectError, OSError):
                continue
            found.setdefault(entry, []).append(autosave)
        works = [
            RecoveredWork(entry, tuple(sorted(generations, key=lambda a: a.saved_at, reverse=True)))
            for entry, generations in found.items()
        ]
        return sorted(works, key=lambda w: w.saved_at, reverse=True)

    def restore(self, work: RecoveredWork, autosave: Autosave | None = None) -> Project:
        """The project of one autosave (the newest by default), pointing at its original file so that Save
        writes there; this process holds its entry from now on. Raises ProjectError if the copy cannot be read
        or is not a valid project, or another netbuilder has just recovered it."""
        autosave = autosave or work.newest
        self._hold(work.entry)
        try:
            if autosave.copy.suffix == ".nbproj":
                project = load_project(autosave.copy)
            else:
                project = project_from_dict(_read_project(autosave.copy))
        except ProjectError:
            self._held.pop(work.entry).release()  # still left behind: offered again
            raise
        project.path = autosave.original
        project.named = autosave.named
        # the document goes on autosaving into this entry: its first minute adds a generation only if it changed
        self._written[work.entry] = json.dumps(project_to_dict(project), ensure_ascii=False)
        return project

    def tidy(self, now: float | None = None) -> None:
        """Keep the folder bounded, at start: drop the work left behind whose newest autosave is older than
        MAX_AGE_S or that is beyond the newest MAX_ENTRIES, generations beyond GENERATIONS (a kill between a
        write and its pruning), files of ours that cannot be read once they are that old, the locks of entries
        gone, and stale temporary files. Work open in a netbuilder window is left alone."""
        now = time.time() if now is None else now
        works = self.pending()
        for rank, work in enumerate(works):
            if rank >= MAX_ENTRIES or now - work.saved_at > MAX_AGE_S:
                self.discard(work.entry)
            for autosave in work.generations[GENERATIONS:]:
                autosave.copy.unlink(missing_ok=True)
        listed = {a.copy for work in works for a in work.generations}
        files = self._files()
        for path in files:
            ours = _GENERATION.fullmatch(path.name) or _LEGACY.fullmatch(path.name)
            if ours and path not in listed and not self._live(ours["entry"]) and _age(path, now) > MAX_AGE_S:
                path.unlink(missing_ok=True)
                path.with_suffix(".json").unlink(missing_ok=True)
        kept = {m["entry"] for p in self._files() if (m := _GENERATION.fullmatch(p.name) or _LEGACY.fullmatch(p.name))}
        for path in files:
            lock = _LOCK.fullmatch(path.name)
            if lock and lock["entry"] not in kept and not self._live(lock["entry"]):
                path.unlink(missing_ok=True)
        sweep_stale_temporaries(self.folder, now=now)

    def _live(self, entry: str) -> bool:
        """Whether the entry is a document open now, in this process or another netbuilder."""
        return entry in self._held or ProcessLock.held_elsewhere(self._lock_path(entry))

    def _hold(self, entry: str) -> None:
        """Take the entry's lock for this process (once); ProjectError if another netbuilder holds it."""
        if entry in self._held:
            return
        lock = ProcessLock(self._lock_path(entry))
        if not lock.acquire():
            raise ProjectError(None, "this work is open in another netbuilder window")
        self._held[entry] = lock

    def _lock_path(self, entry: str) -> Path:
        return self.folder / f"{entry}.lock"

    def _files(self) -> list[Path]:
        try:
            return [Path(entry.path) for entry in os.scandir(self.folder)]
        except OSError:
            return []

    def _generation_files(self, entry: str) -> list[Path]:
        """The entry's generation files, newest first (by the time in their names, which never goes back
        within one session)."""
        files = [p for p in self._files() if (m := _GENERATION.fullmatch(p.name)) and m["entry"] == entry]
        return sorted(files, key=lambda p: int(p.name.split(".")[1], 16), reverse=True)


def _checked(entry: str) -> str:
    if not _ENTRY.fullmatch(entry):
        raise ValueError(f"not a recovery entry: {quoted(entry)}")
    return entry


def _check_writable(value: Any, where: str = "") -> None:
    """Raise ProjectError naming the first text in `value` that UTF-8 cannot hold (a lone surrogate)."""
    if isinstance(value, str):
        bad = unencodable_char(value)
        if bad is not None:
            raise ProjectError(where or None, f"holds U+{ord(bad):04X}, which no file can save: change {quoted(value)}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_writable(key, where)
            _check_writable(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_writable(item, f"{where}[{i}]")


def _open_autosave(path: Path) -> BinaryIO:
    """A generation's file open for reading, if it is a plain file under MAX_COPY_BYTES (never a FIFO that
    would block, nor a device that never ends)."""
    try:
        stream = open(path, "rb", opener=lambda p, flags: os.open(p, flags | getattr(os, "O_NONBLOCK", 0)))  # noqa: SIM115
    except OSError as err:
        raise ProjectError(None, f"cannot read {path}: {err.strerror or err}") from err
    info = os.fstat(stream.fileno())
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_COPY_BYTES:
        stream.close()
        raise ProjectError(None, f"{path.name}: not an autosave (not a plain file of at most {MAX_COPY_BYTES:,} bytes)")
    return stream


def _json_line(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, an integer too long to convert, too deep
        raise ProjectError(None, "the autosave is damaged") from None


def _read_note(path: Path) -> Autosave:
    """A generation's note (its first line), checked field by field."""
    try:
        with _open_autosave(path) as stream:
            note = _json_line(stream.readline(MAX_NOTE_BYTES))
    except OSError as err:
        raise ProjectError(None, f"cannot read {path}: {err.strerror or err}") from err
    if not isinstance(note, dict) or note.get("netbuilder_recovery") != RECOVERY_FORMAT:
        raise ProjectError(None, f"{path.name}: not an autosave this version reads")
    original, name, named, nodes = note.get("original"), note.get("name"), note.get("named"), note.get("nodes")
    if not (original is None or isinstance(original, str)) or not isinstance(name, str) or not isinstance(named, bool):
        raise ProjectError(None, f"{path.name}: damaged note")
    nodes = nodes if isinstance(nodes, int) and not isinstance(nodes, bool) and nodes >= 0 else None
    return Autosave(path, _time(note.get("saved_at"), path), Path(original) if original else None, name, named, nodes)


def _time(value: Any, path: Path) -> float:
    """A note's time: seconds since 1970, before the year 3000 (a time every clock shows)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < _YEAR_3000:
        raise ProjectError("saved_at", f"{path.name}: expected a time, got {quoted(str(value))}")
    return float(value)


def _read_project(path: Path) -> Any:
    """A generation's project (its second line), parsed: project_from_dict checks it."""
    try:
        with _open_autosave(path) as stream:
            stream.readline(MAX_NOTE_BYTES)
            return _json_line(stream.read(MAX_COPY_BYTES))
    except OSError as err:
        raise ProjectError(None, f"cannot read {path}: {err.strerror or err}") from err


def _read_legacy_note(copy: Path) -> Autosave:
    """An autosave written before generations: the `.nbproj` copy and its `.json` note. A copy whose note is
    missing (a kill between the two writes) is still offered, as of the copy's time and with its own name."""
    note_file = copy.with_suffix(".json")
    if not note_file.exists():
        project = load_project(copy)
        return Autosave(copy, copy.stat().st_mtime, None, project.name, True, len(project.graph.nodes))
    with _open_autosave(note_file) as stream:
        raw = stream.read(MAX_NOTE_BYTES)
    try:
        note = json.loads(raw.decode("utf-8"))
        original = Path(note["original"]) if note.get("original") else None
        name, named = str(note.get("name", "?"))[:MAX_NOTE_BYTES], note.get("named", True) is not False
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        raise ProjectError(None, f"{copy.name}: damaged note") from err
    saved_at = _time(note.get("saved_at"), copy)
    return Autosave(copy, saved_at, original, name, named, None)


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except OSError:
        return 0.0
