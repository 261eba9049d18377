"""A lock that lasts exactly as long as the process holding it: the system lets it go when the process ends,
however it ends (a crash, a kill), so another process can tell work in use from work left behind without
trusting process ids, which the system reuses."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

if os.name == "nt":
    import msvcrt
else:
    import fcntl


class ProcessLock:
    """An exclusive, advisory lock on one file (flock on POSIX, a byte range lock on Windows), taken without
    waiting. Within one process, two ProcessLocks on the same file exclude each other too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock (creating the file); False if another holder has it. Taking it twice is harmless."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False
        if not _lock(fd):
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the lock go, leaving the file (as the end of the process would)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if os.name == "nt":
            with contextlib.suppress(OSError):
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        os.close(fd)

    @staticmethod
    def held_elsewhere(path: Path) -> bool:
        """Whether a live holder has the lock on `path` (a missing file: no)."""
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False
        try:
            if not _lock(fd):
                return True
            if os.name == "nt":
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            return False
        finally:
            os.close(fd)


def _lock(fd: int) -> bool:
    try:
        if os.name == "nt":
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
