"""Prepared data kept on disk between runs: the tensors train.py's `prepare_data` returns (read, split and
normalised), so pressing Train again reads one file instead of reading, splitting and normalising the dataset.

An entry is a safetensors file (tensors and text: nothing in it is executed) under cache_folder("data"),
written atomically. Its name is a hash of everything that decides the tensors besides the files read: the
source of prepare_data and of every function, constant and import it reaches in train.py (not the rest of the
script, so a new learning rate keeps the entry), the split's val_fraction and seed, the working folder (the
dataset's relative paths start there) and the versions of torch and numpy. Inside it, beside the tensors: that
key in full, the path, size and modification time of every file prepare_data opened for reading (found by an
audit hook while it ran, so a loader never has to say which files it reads: scikit-learn's bundled CSV counts
too), and a CRC-32 of the tensor bytes. An entry whose key, files or checksum disagree is damaged or stale:
it is ignored, prepared again and rewritten, never trusted.

The cache is bounded (see cache_limit_bytes); entries are evicted least recently used first. Streamed
datasets (image folders, read per batch) and texts (whose loader keeps its own tokenised cache) are not
cached here: the engine calls train.py as it is for them. The exported train.py never reads this cache.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import math
import os
import shutil
import symtable
import sys
import threading
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy
import torch

from netbuilder.atomic_file import open_atomically, sweep_stale_temporaries
from netbuilder.runtime.cache_folder import cache_folder

if TYPE_CHECKING:
    from netbuilder.training.program import Program

FORMAT = "1"
NAMES = ("train_x", "train_y", "val_x", "val_y")
SUFFIX = ".safetensors"
LIMIT_BYTES = 4 * 1024**3
"""The cache's bound: twice the largest dataset that may be prepared in memory (MEMORY_LIMIT_BYTES, 2 GiB of
float32), so the largest set fits beside others. Never more than FREE_DISK_SHARE of the free disk."""
FREE_DISK_SHARE = 0.25
DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
"""safetensors' names of the tensor types prepared data has."""
SAFETENSORS_NAMES = {dtype: name for name, dtype in DTYPES.items()}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

_recording = threading.local()  # .files: the set being filled on this thread, while prepare_data runs
_hook_lock = threading.Lock()
_writers: list[threading.Thread] = []  # entries being written
_writers_lock = threading.Lock()
_hook_installed = False


def prepared_data(script: Any, script_source: str, val_fraction: float, seed: int) -> tuple[torch.Tensor, ...]:
    """train.py's `prepare_data(val_fraction, seed)`, from the cache when an entry for it is whole and its
    files are unchanged; otherwise prepared by the script and the entry written (when it fits the bound).
    The tensors are bit for bit those prepare_data returns."""
    key = data_key(script_source, val_fraction, seed)
    entry = cache_folder("data") / (key[:40] + SUFFIX)
    cached = read_entry(entry, key)
    if cached is not None:
        return cached
    with _files_read() as files:
        parts = tuple(script.prepare_data(val_fraction, seed))
    # written while the run starts (a CIFAR-sized entry takes a second to write and sync); the process waits
    # for it before it exits (not a daemon), and a write cut short leaves no entry (an atomic write)
    writer = threading.Thread(target=_write_quietly, args=(entry, key, parts, files), name="data cache writer")
    with _writers_lock:
        _writers.append(writer)
    writer.start()
    return parts


def program_data(program: Program, val_fraction: float, seed: int) -> tuple:
    """train.py's `prepare_data(val_fraction, seed)` of a loaded program: through the cache for data held in
    memory (prepared_data), as it is for a streamed set (its parts read samples per batch)."""
    if program.task.dataset.streamed:
        return program.script.prepare_data(val_fraction, seed)
    return prepared_data(program.script, program.script_source, val_fraction, seed)


def finish_writing() -> None:
    """Wait until the entries being written are on disk."""
    with _writers_lock:
        writers = list(_writers)
    for writer in writers:
        writer.join()


def _write_quietly(entry: Path, key: str, parts: tuple[torch.Tensor, ...], files: set[str]) -> None:
    try:
        write_entry(entry, key, parts, files)
    except OSError:  # a cache that cannot be written costs the next run time, nothing else
        pass
    finally:
        with _writers_lock:
            _writers.remove(threading.current_thread())


def data_key(script_source: str, val_fraction: float, seed: int) -> str:
    """The hash that names an entry: what decides prepare_data's tensors, besides the files it reads."""
    described = {
        "format": FORMAT,
        "source": reached_source(script_source, "prepare_data"),
        "val_fraction": repr(float(val_fraction)),
        "seed": int(seed),
        "folder": os.getcwd(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def reached_source(source: str, name: str) -> str:
    """The text of the top-level definition `name` in `source` and of every top-level function, class,
    constant and import it reaches, transitively, in the order they stand in the file. A function reaches the
    global names its body uses (its own parameters and variables are its own, as Python's symbol table says),
    and those its decorators and default values name."""
    tree = ast.parse(source)
    tables: dict[str, list[symtable.SymbolTable]] = {}
    for table in symtable.symtable(source, "train.py", "exec").get_children():
        tables.setdefault(table.get_name(), []).append(table)
    defined: dict[str, list[ast.stmt]] = {}
    for statement in tree.body:
        for bound in _bound_names(statement):
            defined.setdefault(bound, []).append(statement)
    reached: dict[int, ast.stmt] = {}
    waiting = [name]
    while waiting:
        for statement in defined.get(waiting.pop(), ()):
            if id(statement) not in reached:
                reached[id(statement)] = statement
                waiting.extend(_names_used(statement, tables))
    lines = source.splitlines(keepends=True)
    ordered = sorted(reached.values(), key=lambda statement: statement.lineno)
    return "".join("".join(lines[s.lineno - 1 : s.end_lineno]) for s in ordered)


def _bound_names(statement: ast.stmt) -> list[str]:
    """The names a top-level statement binds: a definition's, an import's, an assignment's targets."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [statement.name]
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return [(alias.asname or alias.name).split(".")[0] for alias in statement.names]
    targets = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
        targets = [statement.target]
    return [node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)]


def _names_used(statement: ast.stmt, tables: dict[str, list[symtable.SymbolTable]]) -> set[str]:
    """The module-level names a top-level statement may read."""
    if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)}
    outside = [*statement.decorator_list, *statement.args.defaults, *statement.args.kw_defaults]
    used = {node.id for part in outside if part is not None for node in ast.walk(part) if isinstance(node, ast.Name)}
    for table in tables.get(statement.name, ()):
        used |= _globals_of(table)
    return used


def _globals_of(table: symtable.SymbolTable) -> set[str]:
    """The global names a function's body (and what is nested in it) uses."""
    used = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_global()}
    for child in table.get_children():
        used |= _globals_of(child)
    return used


# ---- the files prepare_data reads --------------------------------------------------------------------------


@contextlib.contextmanager
def _files_read():
    """The set of files opened for reading on this thread while the block runs (absolute paths)."""
    _install_hook()
    _recording.files = files = set()
    try:
        yield files
    finally:
        _recording.files = None


def _install_hook() -> None:
    """Audit hooks cannot be removed: one is added, the first time, and does nothing unless a thread records."""
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_on_audit)
            _hook_installed = True


def _on_audit(event: str, args: tuple) -> None:
    if event != "open":
        return
    files = getattr(_recording, "files", None)
    if files is None:
        return
    path, mode, flags = args
    if path is None or isinstance(path, int):  # an open file descriptor: its file was opened (and seen) before
        return
    writing = any(letter in mode for letter in "wax+") if isinstance(mode, str) else bool(flags & _WRITE_FLAGS)
    if not writing:
        files.add(os.path.abspath(os.fsdecode(path)))


def file_identities(paths: set[str] | list[str]) -> list[list[Any]]:
    """[path, size, mtime_ns] of each file, sorted; a file that is gone has size -1."""
    identities = []
    for path in sorted(paths):
        try:
            found = os.stat(path)
            identities.append([path, found.st_size, found.st_mtime_ns])
        except OSError:
            identities.append([path, -1, 0])
    return identities


# ---- entries ----------------------------------------------------------------------------------------------


def write_entry(entry: Path, key: str, parts: tuple[torch.Tensor, ...], files: set[str]) -> bool:
    """Write one entry atomically (streamed: no copy of the tensors is made), evicting the least recently used
    ones to make room; False when it does not fit the bound (nothing written)."""
    tensors = {name: part.detach().cpu().contiguous() for name, part in zip(NAMES, parts, strict=True)}
    if any(tensor.dtype not in SAFETENSORS_NAMES for tensor in tensors.values()):
        return False
    size = sum(tensor.numel() * tensor.element_size() for tensor in tensors.values())
    sweep_stale_temporaries(entry.parent)  # writes cut short by a kill (or a crash) of the writing process
    limit = cache_limit_bytes(entry.parent)
    if size > limit:
        return False
    evict(entry.parent, limit - size, keep=entry)
    metadata = {
        "format": FORMAT,
        "key": key,
        "files": json.dumps(file_identities(files)),
        "crc32": str(_checksum(tensors)),
    }
    # the widest types first, so that every tensor starts at a multiple of its own width (after an 8-byte header)
    order = sorted(NAMES, key=lambda name: -tensors[name].element_size())
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name in order:
        tensor = tensors[name]
        end = offset + tensor.numel() * tensor.element_size()
        header[name] = {
            "dtype": SAFETENSORS_NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, end],
        }
        offset = end
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open_atomically(entry) as stream:
        stream.write(len(text).to_bytes(8, "little") + text)
        for name in order:
            if tensors[name].numel():
                stream.write(_bytes_of(tensors[name]))
    return True


def read_entry(entry: Path, key: str) -> tuple[torch.Tensor, ...] | None:
    """The entry's tensors when it is whole, for this key, and its files are unchanged; None otherwise (a
    damaged entry is removed, to be written again). The tensors share one buffer read from the file (no copy)."""
    try:
        with entry.open("rb") as stream:
            data = bytearray(os.fstat(stream.fileno()).st_size)
            whole = stream.readinto(data) == len(data)
    except OSError:
        return None
    try:
        header_size = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_size])
        metadata = header.pop("__metadata__")
        if not whole or metadata["format"] != FORMAT or metadata["key"] != key or sorted(header) != sorted(NAMES):
            raise ValueError("not this key's whole entry")
        files = json.loads(metadata["files"])
        if files != file_identities([path for path, *_ in files]):
            return None  # the dataset's files changed: prepared again and rewritten
        tensors = {name: _tensor_in(data, 8 + header_size, header[name]) for name in NAMES}
        if str(_checksum(tensors)) != metadata["crc32"]:
            raise ValueError("checksum")
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError):
        with contextlib.suppress(OSError):
            entry.unlink()
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # its modification time says when it was last used (for eviction)
    return tuple(tensors[name] for name in NAMES)


def _tensor_in(data: bytearray, start: int, described: dict[str, Any]) -> torch.Tensor:
    """One tensor of a safetensors file read whole into `data` (its data begins at `start`), checked against
    the file's length; ValueError when its description does not fit."""
    dtype = DTYPES[described["dtype"]]
    shape = [int(size) for size in described["shape"]]
    first, end = (int(offset) for offset in described["data_offsets"])
    count = math.prod(shape)
    if min(shape, default=0) < 0 or first < 0 or end - first != count * dtype.itemsize or start + end > len(data):
        raise ValueError("a tensor outside the file")
    if count == 0:
        return torch.empty(shape, dtype=dtype)
    offset = start + first
    if offset % dtype.itemsize:  # not aligned for its type: copied to a buffer of its own
        return torch.frombuffer(data[offset : start + end], dtype=dtype).reshape(shape)
    return torch.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape)


def _checksum(tensors: dict[str, torch.Tensor]) -> int:
    """CRC-32 of the tensors' bytes, read in place, in the order of their names."""
    crc = 0
    for name in sorted(tensors):
        if tensors[name].numel():
            crc = zlib.crc32(_bytes_of(tensors[name]), crc)
    return crc


def _bytes_of(tensor: torch.Tensor) -> memoryview:
    """A contiguous tensor's bytes where they lie (no copy)."""
    return memoryview(tensor.reshape(-1).view(torch.uint8).numpy())


def cache_limit_bytes(folder: Path) -> int:
    """LIMIT_BYTES, or FREE_DISK_SHARE of the disk's free space plus what the cache already holds, if less."""
    held = sum(size for _, size, _ in _entries(folder))
    return min(LIMIT_BYTES, int((shutil.disk_usage(folder).free + held) * FREE_DISK_SHARE))


def evict(folder: Path, room: int, *, keep: Path | None = None) -> None:
    """Remove the least recently used entries (besides `keep`) until the others hold at most `room` bytes."""
    entries = sorted((entry for entry in _entries(folder) if entry[0] != keep), key=lambda entry: entry[2])
    held = sum(size for _, size, _ in entries)
    for path, size, _ in entries:  # oldest use first
        if held <= room:
            return
        with contextlib.suppress(OSError):
            path.unlink()
        held -= size


def _entries(folder: Path) -> list[tuple[Path, int, int]]:
    """(path, size, last used in ns) of each entry."""
    found = []
    for path in folder.glob("*" + SUFFIX):
        with contextlib.suppress(OSError):
            stat = path.stat()
            found.append((path, stat.st_size, stat.st_mtime_ns))
    return found
