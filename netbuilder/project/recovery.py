"""Autosave and crash recovery: unsaved work is written to a recovery folder every minute, removed when the
project is saved or closed on purpose, and offered back at the next start if netbuilder did not close."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from netbuilder.atomic_file import write_atomically
from netbuilder.project import Project, load_project, project_to_json


@dataclass(frozen=True)
class RecoveredWork:
    """An autosaved project: where the copy is, which file it belongs to (None if never saved), when, and its
    name (`named` False for a placeholder, which the first save still replaces by the file's name)."""

    copy: Path
    original: Path | None
    saved_at: float
    name: str
    named: bool = True


class Recovery:
    """The recovery folder. Each open project has one slot, keyed by its file (or a session id if new)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def slot(self, key: str) -> Path:
        return self.folder / (hashlib.sha1(key.encode()).hexdigest()[:16] + ".nbproj")

    def save(self, key: str, project: Project) -> Path:
        """Write the project's current state; the original file is not touched."""
        self.folder.mkdir(parents=True, exist_ok=True)
        copy = self.slot(key)
        write_atomically(copy, project_to_json(project).encode("utf-8"))
        meta = {
            "original": str(project.path) if project.path else None,
            "saved_at": time.time(),
            "name": project.name,
            "named": project.named,
        }
        write_atomically(copy.with_suffix(".json"), json.dumps(meta).encode("utf-8"))
        return copy

    def discard(self, key: str) -> None:
        copy = self.slot(key)
        copy.unlink(missing_ok=True)
        copy.with_suffix(".json").unlink(missing_ok=True)

    def pending(self) -> list[RecoveredWork]:
        """Autosaved work left behind, newest first (entries that cannot be read are skipped)."""
        found = []
        for copy in self.folder.glob("*.nbproj") if self.folder.is_dir() else ():
            try:
                meta = json.loads(copy.with_suffix(".json").read_text(encoding="utf-8"))
                original = Path(meta["original"]) if meta.get("original") else None
                name, named = str(meta.get("name", "?")), meta.get("named", True) is not False
                found.append(RecoveredWork(copy, original, float(meta["saved_at"]), name, named))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(found, key=lambda w: w.saved_at, reverse=True)

    def restore(self, work: RecoveredWork) -> Project:
        """The autosaved project, pointing at its original file so Save writes there."""
        project = load_project(work.copy)
        project.path = work.original
        project.named = work.named
        return project

    def forget(self, work: RecoveredWork) -> None:
        work.copy.unlink(missing_ok=True)
        work.copy.with_suffix(".json").unlink(missing_ok=True)
