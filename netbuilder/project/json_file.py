"""The JSON text of a netbuilder file: read bounded and strict, written the same way every time.

A project file and a block file are both JSON read through here: a regular file within MAX_FILE_BYTES, UTF-8,
parsed by `json` only (never pickle or eval), with a key given twice remembered so the reader can refuse it by
name; any problem is one ProjectError. Writing is deterministic (same value, same bytes) and keeps a list of
plain values on one line, so files diff well and a golden-file test can pin them.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from netbuilder.graph.limits import MAX_FILE_BYTES
from netbuilder.project.errors import ProjectError

# ---- reading ------------------------------------------------------------------------------------------------


def read_json(path: Path, kind: str = "project file") -> Any:
    """The parsed JSON of `path`, read as a project file is (bounded, strict, keys given twice remembered); a
    problem raises ProjectError saying what `kind` of file was expected. A block file is read by it too."""
    return _parse(_read_file(path, kind), kind)


def _read_file(path: Path, kind: str) -> bytes:
    """The bytes of `path`, a regular file of at most MAX_FILE_BYTES, or ProjectError.

    Opened without blocking (a FIFO would wait for a writer forever) and looked at before reading, so a
    folder, a device (/dev/zero never ends), a pipe or a socket is refused, and so is a file too big to be a
    project, before its first byte is read; at most one byte more than the limit is read, since a file may
    grow between the look and the read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as err:
        raise ProjectError(None, f"cannot read {shown_path(path)}: {err.strerror or err}") from err
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise ProjectError(None, f"cannot read {shown_path(path)}: it is {what}, not a {kind}")
        if info.st_size > MAX_FILE_BYTES:
            raise ProjectError(None, _too_big_message(path, kind))
        with open(fd, "rb", closefd=False) as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ProjectError(None, f"cannot read {shown_path(path)}: {err.strerror or err}") from err
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        raise ProjectError(None, _too_big_message(path, kind))
    return raw


def _too_big_message(path: Path, kind: str) -> str:
    limit = MAX_FILE_BYTES // 2**20
    return f"{shown_path(path)} is larger than a {kind} may be ({limit} MiB): it is not one, or it is damaged"


def shown_path(path: Path) -> str:
    """A path as a message shows it: a file name that is not UTF-8 keeps its odd bytes as escapes."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


class JsonObject(dict[str, Any]):
    """A parsed JSON object that remembers keys it saw twice (plain `json` silently keeps the last)."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> JsonObject:
        obj = cls(pairs)  # built in C; keys are looked at one by one only when some came twice
        if len(obj) != len(pairs):
            seen: set[str] = set()
            twice = []
            for key, _ in pairs:
                if key in seen:
                    twice.append(key)
                seen.add(key)
            obj.duplicates = tuple(twice)
        return obj


def _parse(raw: bytes, kind: str) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ProjectError(None, f"not a {kind}: not UTF-8 text (bad byte at offset {err.start})") from None
    try:
        return json.loads(text, object_pairs_hook=JsonObject.from_pairs)
    except json.JSONDecodeError as err:
        raise ProjectError(None, f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except ValueError as err:  # an integer with more digits than Python converts
        raise ProjectError(None, f"not valid JSON: {err}") from None
    except RecursionError:
        raise ProjectError(None, "not valid JSON: nested too deeply") from None


# ---- writing ------------------------------------------------------------------------------------------------


def format_json(value: Any) -> str:
    """JSON text as a project file is written (see _dump), with its trailing newline."""
    return _dump(value, 0) + "\n"


def too_big_to_save(size: int, kind: str = "project file") -> str:
    """Why `size` bytes cannot be written as a `kind`: it could not be opened again."""
    limit = MAX_FILE_BYTES // 2**20
    return f"it would take {size / 2**20:.1f} MiB, more than a {kind} may ({limit} MiB): shorten long texts"


def _dump(value: Any, depth: int) -> str:
    """JSON like `json.dumps(indent=2)`, but a list of plain values, or an object made only of such lists
    (an edge), stays on one line: moving a node or deleting an edge then changes one line of a diff.
    """
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        if all(isinstance(v, list) and _is_flat(v) for v in value.values()):
            return "{" + ", ".join(f"{_scalar(str(k))}: {_dump(v, depth)}" for k, v in value.items()) + "}"
        items = [f"{inner}{_scalar(str(k))}: {_dump(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if _is_flat(value):
            return "[" + ", ".join(_scalar(v) for v in value) + "]"
        return "[\n" + ",\n".join(inner + _dump(v, depth + 1) for v in value) + "\n" + pad + "]"
    return _scalar(value)


def _is_flat(values: list[Any]) -> bool:
    return not any(isinstance(v, dict | list) for v in values)


def _scalar(value: Any) -> str:
    # allow_nan=False: NaN and Infinity are not JSON, and no field of ours may hold them.
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
