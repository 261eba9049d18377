"""What the data files on disk hold, read without torch: enough for shapes and checks as a person draws.

Each reader raises DatasetFileError with a message naming what is wrong and what was expected. Results are
cached by path, size and modification time, so re-checking a graph does not re-read a file that did not
change. The checks are bounded so that they can run while a person draws: an image folder's images are
opened for their headers only (a full decode only for a file whose ending looks cut off), and a CSV file is
streamed row by row, never held whole.
"""

from __future__ import annotations

import csv
import functools
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from netbuilder.quoting import cut, quoted

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MAX_IMAGE_PIXELS = 8192 * 8192
"""The most pixels an image may have (67 M): far beyond what a network is trained on, and far below what a
decompression bomb asks for. The image folder's loader refuses the same images (it is given this bound)."""
MAX_CHECKED_IMAGES = 10_000
"""The most images of a folder checked as a person draws (about a second): a larger folder has an even spread
of them checked, and training names any other image it cannot read."""
MAX_CSV_BYTES = 256 << 20
"""The largest CSV file read (256 MiB): training reads the whole table into memory as Python values first,
about twelve times the file's size, and the check reads every row (about 15 s per 100 MB)."""
MAX_CSV_CLASSES = 10_000
"""The most classes a CSV target may name: more is a column of values or identifiers, not of classes."""
FLOAT32_MAX = 3.4028234663852886e38


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
            f"there is no folder {quoted(folder)}: choose the folder that holds {what}, or tick download "
            "(needs internet)"
        )
    missing = [name for name in names if not (root / name).is_file() and not (root / (name + ".gz")).is_file()]
    if missing:
        raise DatasetFileError(
            f"{quoted(folder)} does not hold {what}: expected {missing[0]} in it; choose the right "
            "folder, or tick download (needs internet)"
        )


def image_folder_classes(folder: str) -> tuple[str, ...]:
    """The class names of an image folder: its subfolders that hold at least one image, sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise DatasetFileError(f"there is no folder {quoted(folder)}: choose a folder with one subfolder per class")
    return _image_classes(str(root), *_stamp(root))


@functools.lru_cache(maxsize=32)
def _image_classes(folder: str, mtime: int, size: int) -> tuple[str, ...]:
    classes = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir() and any(name.lower().endswith(IMAGE_SUFFIXES) for name in os.listdir(entry.path)):
            classes.append(entry.name)
    if len(classes) < 2:
        raise DatasetFileError(
            f"{quoted(folder)} needs one subfolder of images per class, at least two; it has "
            f"{len(classes)} (images: {', '.join(IMAGE_SUFFIXES)})"
        )
    return tuple(classes)


def check_image_folder(folder: str) -> None:
    """Refuse an image folder holding an image that training could not read: empty, not an image, cut off,
    or larger than MAX_IMAGE_PIXELS (of a folder of more than MAX_CHECKED_IMAGES, an even spread of that
    many). The message names the first such file (relative to the folder) and says how many others there are.
    Cached by the modification times of the folder and its class subfolders, which change when an image is
    added, removed or renamed (an image rewritten in place is seen at training)."""
    classes = image_folder_classes(folder)
    root = Path(folder)
    stamps = tuple(_stamp(root / name) for name in classes)
    problems = _image_problems(str(root), classes, stamps)
    if problems:
        first, *others = problems
        more = f" ({len(others)} other image{'s' if len(others) > 1 else ''} too)" if others else ""
        raise DatasetFileError(f"{first}: remove or replace it{more}")


@functools.lru_cache(maxsize=32)
def _image_problems(folder: str, classes: tuple[str, ...], stamps: tuple[tuple[int, int], ...]) -> tuple[str, ...]:
    """'cat/001.png is truncated' for each image of the folder that cannot be read (cached even when there are
    some, unlike an exception). PIL is imported here, when an image folder is first checked."""
    from PIL import Image

    images = [
        f"{name}/{file}"
        for name in classes
        for file in sorted(os.listdir(os.path.join(folder, name)))
        if file.lower().endswith(IMAGE_SUFFIXES)
    ]
    if len(images) > MAX_CHECKED_IMAGES:  # an even spread, so that every class has its share
        images = [images[i * len(images) // MAX_CHECKED_IMAGES] for i in range(MAX_CHECKED_IMAGES)]
    problems = []
    with warnings.catch_warnings():  # PIL only warns between its own bound and twice it
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        for image in images:
            problem = _image_problem(os.path.join(folder, image))
            if problem:
                problems.append(f"{image} {problem}")
    return tuple(problems)


def _image_problem(path: str) -> str:
    """Why the image at `path` could not be trained on ('is truncated', 'is empty' ...), or '' when it can.
    Only its header is decoded, and its last bytes read: a file whose format ends with a known marker (PNG,
    JPEG, GIF) or states its length (BMP, WebP) and does not match, or whose format has neither (TIFF), is
    decoded whole to be sure. About 0.1 ms an image (10,000 in one to two seconds, once per folder)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size == 0:
                return "is empty"
            with Image.open(stream) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    return _too_large(f"is {width}x{height} pixels")
                if not _ends_whole(stream, size, image.format):
                    image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _too_large("claims more pixels than that")
    except UnidentifiedImageError:
        return "is not an image that can be read (or its format is not supported)"
    except (OSError, SyntaxError, ValueError) as err:  # PIL's errors for a damaged file
        return "is truncated" if "truncated" in str(err) else f"is damaged ({quoted(str(err))})"
    return ""


def _too_large(what: str) -> str:
    side = math.isqrt(MAX_IMAGE_PIXELS)
    return f"{what}; an image may have at most {side}x{side}"


_ENDINGS = {"PNG": b"IEND\xaeB`\x82", "JPEG": b"\xff\xd9", "GIF": b";"}


def _ends_whole(stream: BinaryIO, size: int, image_format: str | None) -> bool:
    """Whether the file's last bytes are those its format ends with (or its stated length is its length):
    a cheap sign that it was not cut off, so that its pixels need not be decoded to know."""
    stream.seek(0)
    head = stream.read(12)
    stream.seek(max(size - 16, 0))
    tail = stream.read()
    if image_format in _ENDINGS:
        return tail.rstrip(b"\0\r\n ").endswith(_ENDINGS[image_format])
    if image_format == "BMP":
        return int.from_bytes(head[2:6], "little") == size
    if image_format == "WEBP":
        return int.from_bytes(head[4:8], "little") + 8 == size
    return False


@dataclass(frozen=True)
class CsvSummary:
    """A CSV file's numeric feature columns and, for classification, its class names."""

    features: tuple[str, ...]
    class_names: tuple[str, ...]
    rows: int


def csv_summary(path: str, target: str, classification: bool) -> CsvSummary:
    """The features and classes of a CSV file, once every row is checked: as many values as the header, and
    finite numbers in every feature column (and in the target, for regression). The file is streamed, so
    memory stays small; a file over MAX_CSV_BYTES is refused before it is read."""
    file = Path(path)
    if not file.is_file():
        raise DatasetFileError(f"there is no file {quoted(path)}: choose a CSV file with a header row")
    return _csv_summary(str(file), target, classification, *_stamp(file))


@functools.lru_cache(maxsize=32)
def _csv_summary(path: str, target: str, classification: bool, mtime: int, size: int) -> CsvSummary:
    name = Path(path).name
    if size > MAX_CSV_BYTES:
        raise DatasetFileError(
            f"{quoted(name)} is {size / 2**20:,.1f} MiB; a CSV file may have at most {MAX_CSV_BYTES / 2**20:,.1f} "
            "MiB, as training holds it in memory: use a sample of its rows"
        )
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            return _read_csv(stream, name, target, classification)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DatasetFileError(f"cannot read {quoted(name)} as CSV text: {quoted(str(err))}") from None


def _read_csv(stream: TextIO, name: str, target: str, classification: bool) -> CsvSummary:
    reader = csv.reader(stream)
    header = [column.strip() for column in next((row for row in reader if row), [])]
    if target not in header:
        if not header:
            raise DatasetFileError(f"{quoted(name)} needs a header row and at least one row of data")
        raise DatasetFileError(
            f"{quoted(name)} has no column {quoted(target)}; its columns are "
            f"{cut(', '.join(header))}: set target_column to one of them"
        )
    column = header.index(target)
    features = tuple(column_name for i, column_name in enumerate(header) if i != column)
    if not features:
        raise DatasetFileError(f"{quoted(name)} has only the target column: it needs at least one feature column")
    numeric = [i for i in range(len(header)) if not (i == column and classification)]
    names: set[str] = set()
    rows = 0
    for row in reader:
        if not row:
            continue
        where = f"{name} line {reader.line_num}"
        if len(row) != len(header):
            raise DatasetFileError(f"{where} has {len(row)} values; the header has {len(header)}: fix that row")
        for i in numeric:
            try:
                number = float(row[i])
            except ValueError:
                raise DatasetFileError(
                    f"{where}, column {quoted(header[i])}: {quoted(row[i])} is not a number (only the target "
                    "may hold text, for classification)"
                ) from None
            if not math.isfinite(number):
                raise DatasetFileError(
                    f"{where}, column {quoted(header[i])}: {cut(row[i].strip())} is not a finite "
                    "number: fill or drop the row"
                )
            if abs(number) > FLOAT32_MAX:  # training reads float32: it would become inf
                raise DatasetFileError(
                    f"{where}, column {quoted(header[i])}: {cut(row[i].strip())} is too large for the 32-bit "
                    "numbers training uses: scale the column down"
                )
        if classification:
            names.add(row[column].strip())
            if len(names) > MAX_CSV_CLASSES:
                raise DatasetFileError(
                    f"{quoted(name)}: the column {quoted(target)} holds more than {MAX_CSV_CLASSES:,} different "
                    "values, more classes than classification takes: if they are numbers, set task to regression"
                )
        rows += 1
    if not rows:
        raise DatasetFileError(f"{quoted(name)} needs a header row and at least one row of data")
    if classification and len(names) < 2:
        raise DatasetFileError(
            f"{quoted(name)}: the column {quoted(target)} holds one value only; classification needs two "
            "classes or more"
        )
    return CsvSummary(features, tuple(sorted(names)), rows)
