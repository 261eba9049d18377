"""What the data files on disk hold, read without torch: enough for shapes and checks as a person draws.

Each reader raises DatasetFileError with a message naming what is wrong and what was expected. Results are
cached by path, size and modification time, so re-checking a graph does not re-read a file that did not
change.
"""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class DatasetFileError(ValueError):
    """The files a dataset should read are missing, empty or not in the expected format."""


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_size


def require_files(folder: str, names: tuple[str, ...], what: str, *, download: bool) -> None:
    """Refuse a folder without the dataset's files (paths inside it), unless they are to be downloaded."""
    if download:
        return
    root = Path(folder)
    if not root.is_dir():
        raise DatasetFileError(
            f"there is no folder {folder!r}: choose the folder that holds {what}, or tick download (needs internet)"
        )
    missing = [name for name in names if not (root / name).is_file() and not (root / (name + ".gz")).is_file()]
    if missing:
        raise DatasetFileError(
            f"{folder!r} does not hold {what}: expected {missing[0]} in it; choose the right "
            "folder, or tick download (needs internet)"
        )


def image_folder_classes(folder: str) -> tuple[str, ...]:
    """The class names of an image folder: its subfolders that hold at least one image, sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise DatasetFileError(f"there is no folder {folder!r}: choose a folder with one subfolder per class")
    return _image_classes(str(root), *_stamp(root))


@functools.lru_cache(maxsize=32)
def _image_classes(folder: str, mtime: int, size: int) -> tuple[str, ...]:
    classes = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir() and any(name.lower().endswith(IMAGE_SUFFIXES) for name in os.listdir(entry.path)):
            classes.append(entry.name)
    if len(classes) < 2:
        raise DatasetFileError(
            f"{folder!r} needs one subfolder of images per class, at least two; it has "
            f"{len(classes)} (images: {', '.join(IMAGE_SUFFIXES)})"
        )
    return tuple(classes)


@dataclass(frozen=True)
class CsvSummary:
    """A CSV file's numeric feature columns and, for classification, its class names."""

    features: tuple[str, ...]
    class_names: tuple[str, ...]
    rows: int


def csv_summary(path: str, target: str, classification: bool) -> CsvSummary:
    file = Path(path)
    if not file.is_file():
        raise DatasetFileError(f"there is no file {path!r}: choose a CSV file with a header row")
    return _csv_summary(str(file), target, classification, *_stamp(file))


@functools.lru_cache(maxsize=32)
def _csv_summary(path: str, target: str, classification: bool, mtime: int, size: int) -> CsvSummary:
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            rows = [row for row in csv.reader(stream) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DatasetFileError(f"cannot read {path!r} as CSV text: {err}") from None
    if len(rows) < 2:
        raise DatasetFileError(f"{path!r} needs a header row and at least one row of data")
    header = [name.strip() for name in rows[0]]
    if target not in header:
        raise DatasetFileError(
            f"{path!r} has no column {target!r}; its columns are {', '.join(header)}: set target_column to one of them"
        )
    column = header.index(target)
    features = tuple(name for i, name in enumerate(header) if i != column)
    if not features:
        raise DatasetFileError(f"{path!r} has only the target column: it needs at least one feature column")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DatasetFileError(f"{path!r} line {number} has {len(row)} values; the header has {len(header)}")
        for i, value in enumerate(row):
            if i == column and classification:
                continue
            try:
                float(value)
            except ValueError:
                raise DatasetFileError(
                    f"{path!r} line {number}, column {header[i]!r}: {value!r} is not a "
                    "number (only the target may hold text, for classification)"
                ) from None
    names = tuple(sorted({row[column].strip() for row in rows[1:]})) if classification else ()
    if classification and len(names) < 2:
        raise DatasetFileError(
            f"{path!r}: the column {target!r} holds one value only; classification needs two classes or more"
        )
    return CsvSummary(features, names, len(rows) - 1)
