"""Where netbuilder keeps what it can make again but would rather not: prepared data, compiled kernels.

Everything under it is a cache: deleting the folder loses nothing but time. `NETBUILDER_CACHE` names another
place (the tests point it at a temporary folder, so they never touch a person's own cache).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_VARIABLE = "NETBUILDER_CACHE"


def cache_root() -> Path:
    """The user's cache folder for netbuilder: $NETBUILDER_CACHE, else the platform's place for caches."""
    chosen = os.environ.get(CACHE_VARIABLE)
    if chosen:
        return Path(chosen)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "netbuilder" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "netbuilder"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "netbuilder"


def cache_folder(kind: str) -> Path:
    """The folder for one kind of cached thing ('data', 'compiled' ...), made when missing."""
    folder = cache_root() / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder
