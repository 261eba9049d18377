"""Atomic file replacement, for project files and exported code alike."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def write_atomically(target: Path, data: bytes) -> None:
    """Replace `target` with `data` all at once: a crash leaves the old file or the new one, never half of
    either. Writes a temporary file beside it, syncs it, renames it over the target, then syncs the folder;
    keeps an existing file's permissions and writes through a symlink."""
    real = Path(os.path.realpath(target))  # through a symlink, so the link survives the rename
    directory = real.parent
    mode = _existing_mode(real)
    temporary = directory / f".{real.name}.{secrets.token_hex(6)}.tmp"
    # 0o666 less the umask, as for any new file; an existing file's mode is copied below.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
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
