"""The `latest` pointer of a folder of runs: which run folder holds the last run that finished.

It is a relative symlink (`latest -> 2025-06-01_14-05-22`), so the folder can be moved or copied whole, made
under a temporary name and renamed over the old one, so it always names a run and never half of one. Where
symlinks cannot be made (Windows without the right to) it is a small text file holding the run folder's name.
`latest_run` reads either.
"""

from __future__ import annotations

import os
from pathlib import Path

from netbuilder.atomic_file import rename_over, temporary_beside, write_atomically

LATEST = "latest"


def point_latest(folder: Path, run_dir: Path) -> None:
    """Make `folder`/latest name `run_dir` (a folder inside `folder`), replacing what it named before in one
    step. OSError when it cannot be written (a folder of that name, say)."""
    link = folder / LATEST
    temporary = temporary_beside(link)
    target = run_dir.relative_to(folder).as_posix()
    try:
        os.symlink(target, temporary, target_is_directory=True)
    except (OSError, NotImplementedError):  # no symlinks here: a text file naming the run instead
        if link.is_symlink():
            link.unlink()
        write_atomically(link, (target + "\n").encode("utf-8"))
        return
    rename_over(temporary, link)


def latest_run(folder: Path) -> Path | None:
    """The run folder `folder`/latest names (a symlink or a text file), or None when there is none or it names
    something that is not a run folder of `folder`."""
    link = folder / LATEST
    try:
        name = os.readlink(link) if link.is_symlink() else link.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    path = Path(name)
    if not name or path.is_absolute() or len(path.parts) != 1 or name in (".", ".."):
        return None  # only ever a folder beside the pointer
    run_dir = folder / name
    return run_dir if run_dir.is_dir() else None
