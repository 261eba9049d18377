"""Atomic file replacement, for project files, exported code, weights and checkpoints alike."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

STALE_TEMPORARY_S = 3600  # a temporary file this old is a dead write's, never one still being written
_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")  # what temporary_beside names


@contextlib.contextmanager
def open_atomically(target: Path) -> Iterator[BinaryIO]:
    """A binary stream whose bytes replace `target` all at once when the block ends without an exception: a
    crash or a full disk leaves the old file or the new one, never half of either, and no temporary file.

    The stream writes a temporary file beside the target; on a clean exit it is flushed, synced, renamed over
    the target and the folder synced; on an exception it is removed and the exception goes on. Keeps an
    existing file's permissions and writes through a symlink. For writers that want a stream (torch.save)."""
    real = Path(os.path.realpath(target))  # through a symlink, so the link survives the rename
    directory = real.parent
    mode = _existing_mode(real)
    temporary = temporary_beside(real)
    # 0o666 less the umask, as for any new file; an existing file's mode is copied below.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def temporary_beside(target: Path) -> Path:
    """Where a write of `target` goes first: `.NAME.HEX.tmp` beside it (hidden, unique, in the same folder so
    the rename is atomic), a name sweep_stale_temporaries recognises after a kill."""
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")


def write_atomically(target: Path, data: bytes) -> None:
    """Replace `target` with `data` all at once (see open_atomically)."""
    with open_atomically(target) as stream:
        stream.write(data)


def link_atomically(source: Path, target: Path) -> None:
    """Replace `target` all at once with what `source` holds, without writing those bytes again: `target`
    becomes a second name of `source`'s file (a hard link made beside it, then renamed over it), so it costs
    no more than a rename however large the file is.

    Only for files that are always replaced whole (what open_atomically writes), never written in place:
    replacing either name later leaves the other as it was. The target takes the source's permissions. Where
    the file system has no hard links (FAT, some network shares) or the two are on different ones, the bytes
    are copied through open_atomically instead."""
    real = Path(os.path.realpath(target))
    temporary = temporary_beside(real)
    try:
        os.link(os.path.realpath(source), temporary)
    except OSError:
        with open(source, "rb") as original, open_atomically(target) as stream:
            shutil.copyfileobj(original, stream)
        return
    rename_over(temporary, real)
    _sync_directory(real.parent)


def rename_over(temporary: Path, target: Path) -> None:
    """Rename `temporary` (a name temporary_beside gave) over `target` in one step; where that fails,
    `temporary` is removed and the error goes on."""
    try:
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _existing_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable where the system allows it (POSIX); elsewhere a no-op."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sweep_stale_temporaries(
    folder: Path, older_than: float = STALE_TEMPORARY_S, now: float | None = None
) -> list[Path]:
    """Remove the temporary files that writes interrupted by a kill left in `folder` (temporary_beside's
    `.NAME.HEX.tmp`), once they are `older_than` seconds old: a younger one may be another window's save in
    progress. Other files, and anything but plain files, are left alone. The files removed."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _TEMPORARY.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < older_than:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed
