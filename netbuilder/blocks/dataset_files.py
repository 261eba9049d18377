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
import json
import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

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


# ---- text: the IMDB layout, one folder of .txt files per class, or a CSV/TSV/JSON-lines table --------------

MAX_TEXT_FILES = 200_000
"""The most .txt files a text dataset may hold (IMDB has 50,000 labelled reviews): each is opened and
tokenised before training starts, about 100,000 a minute on a slow disk."""
MAX_TEXT_BYTES = 131_072
"""The most one text may hold (128 KiB: IMDB's longest review has 14 KB, and it is also the longest value
Python's csv module reads in one field); a longer one is refused by name."""
MAX_TEXT_TABLE_BYTES = 256 << 20
"""The largest table of texts read (256 MiB), as for CSV tables: every text is held in memory to tokenise."""
IMDB_CLASSES = ("neg", "pos")
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".ndjson")
JSON_LINES_SUFFIXES = (".jsonl", ".json", ".ndjson")


@dataclass(frozen=True)
class TextSummary:
    """What a text dataset's files hold: its `layout` ('imdb', 'folders' or 'table'), its class names (for
    classification) and how many texts it has (0 when not known yet: IMDB before its download)."""

    layout: str
    class_names: tuple[str, ...]
    texts: int


def text_summary(path: str, text_column: str, target: str, classification: bool, *, download: bool) -> TextSummary:
    """The layout and classes of the texts at `path`, read as the text loader reads them: a file is a table
    (.tsv tab-separated, .jsonl/.json/.ndjson one JSON object a line, otherwise CSV) with a header row; a
    folder holding aclImdb/ or train/neg and train/pos is the IMDB layout; any other folder has one subfolder
    of .txt files per class. Refuses an empty or oversized file, or more than MAX_TEXT_FILES, by name.
    Cached by the modification times of the file or folders."""
    place = Path(path)
    if place.is_file():
        if not place.name.lower().endswith(TABLE_SUFFIXES):
            raise DatasetFileError(
                f"{quoted(place.name)} is not a table of texts: choose a .csv, .tsv or .jsonl file, or a folder"
            )
        return _text_table(str(place), text_column, target, classification, *_stamp(place))
    root = place / "aclImdb" if (place / "aclImdb").is_dir() else place
    if download and not (root / "train").is_dir():  # the loader downloads IMDB into PATH/aclImdb
        return TextSummary("imdb", IMDB_CLASSES, 0)
    if not root.is_dir():
        raise DatasetFileError(
            f"there is no folder or file {quoted(path)}: choose a folder with one subfolder of .txt files per "
            "class, a .csv/.tsv/.jsonl file, or tick download (IMDB reviews, needs internet)"
        )
    folders = sorted(entry.name for entry in os.scandir(root) if entry.is_dir())
    stamps = (_stamp(root), *(_stamp(root / name) for name in folders))
    for part in ("train", "test"):
        if part in folders:
            stamps += tuple(_stamp(entry) for entry in sorted(Path(root, part).iterdir()) if entry.is_dir())
    return _text_folders(str(root), stamps)


def _imdb_folders(root: str) -> tuple[str, ...] | None:
    """IMDB's class folders (train/neg, train/pos, and test's when it has both), or None for another layout."""
    train = tuple(f"train/{name}" for name in IMDB_CLASSES)
    if not all(os.path.isdir(os.path.join(root, folder)) for folder in train):
        return None
    test = tuple(f"test/{name}" for name in IMDB_CLASSES)
    return train + test if all(os.path.isdir(os.path.join(root, folder)) for folder in test) else train


@functools.lru_cache(maxsize=32)
def _text_folders(root: str, stamps: tuple[tuple[int, int], ...]) -> TextSummary:
    imdb = _imdb_folders(root)
    folders = imdb or tuple(sorted(entry.name for entry in os.scandir(root) if entry.is_dir()))
    classes: set[str] = set()
    count = 0
    for folder in folders:
        for entry in sorted(os.scandir(os.path.join(root, folder)), key=lambda e: e.name):
            if not (entry.name.endswith(".txt") and entry.is_file()):
                continue
            name = f"{folder}/{entry.name}"
            size = entry.stat().st_size
            if size == 0:
                raise DatasetFileError(f"{quoted(name)} is empty: write its text or remove it")
            if size > MAX_TEXT_BYTES:
                raise DatasetFileError(
                    f"{quoted(name)} is larger than {MAX_TEXT_BYTES:,} bytes: shorten it or remove it"
                )
            count += 1
            if count > MAX_TEXT_FILES:
                raise DatasetFileError(
                    f"{quoted(root)} holds more than {MAX_TEXT_FILES:,} .txt files: use a sample of them"
                )
            classes.add(folder.rsplit("/", 1)[-1])
    if len(classes) < 2:
        raise DatasetFileError(
            f"{quoted(root)} needs one subfolder of .txt files per class, at least two; it has {len(classes)} "
            "(or choose IMDB's aclImdb folder, or a .csv/.tsv/.jsonl file)"
        )
    return TextSummary("imdb" if imdb else "folders", tuple(sorted(classes)), count)


@functools.lru_cache(maxsize=32)
def _text_table(path: str, text_column: str, target: str, classification: bool, mtime: int, size: int) -> TextSummary:
    name = Path(path).name
    if size > MAX_TEXT_TABLE_BYTES:
        raise DatasetFileError(
            f"{quoted(name)} is {size / 2**20:,.1f} MiB; a table of texts may have at most "
            f"{MAX_TEXT_TABLE_BYTES / 2**20:,.1f} MiB: use a sample of its rows"
        )
    json_lines = name.lower().endswith(JSON_LINES_SUFFIXES)
    classes: set[str] = set()
    count = 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            rows = _json_rows(stream, name) if json_lines else _table_rows(stream, name, name.lower().endswith(".tsv"))
            for where, row in rows:
                for column, option in ((text_column, "text_column"), (target, "target_column")):
                    if column not in row:
                        raise DatasetFileError(
                            f"{where} has no column {quoted(column)}; it has {cut(', '.join(map(str, row)))}: "
                            f"set {option} to one of them"
                        )
                text, label = row[text_column], row[target]
                if not isinstance(text, str) or not text.strip():
                    raise DatasetFileError(f"{where}: the text is empty (or not text): fill or drop the row")
                label = (label if isinstance(label, str) else json.dumps(label)).strip()
                if not label:
                    raise DatasetFileError(f"{where}: the label is empty: fill or drop the row")
                if classification:
                    classes.add(label)
                    if len(classes) > MAX_CSV_CLASSES:
                        raise DatasetFileError(
                            f"{quoted(name)}: the column {quoted(target)} holds more than {MAX_CSV_CLASSES:,} "
                            "different values, more classes than classification takes: if they are numbers, set "
                            "task to regression"
                        )
                elif not _finite(label):
                    raise DatasetFileError(
                        f"{where}: the label {quoted(label)} is not a finite number (regression): fix the row, or "
                        "set task to classification"
                    )
                count += 1
    except UnicodeDecodeError as err:
        raise DatasetFileError(
            f"{quoted(name)} is not UTF-8 text ({err.reason} at byte {err.start:,}): save it as UTF-8"
        ) from None
    except (OSError, csv.Error) as err:
        raise DatasetFileError(f"cannot read {quoted(name)} as a table: {quoted(str(err))}") from None
    if not count:
        raise DatasetFileError(f"{quoted(name)} needs a header row and at least one row of text")
    if classification and len(classes) < 2:
        raise DatasetFileError(
            f"{quoted(name)}: the column {quoted(target)} holds one value only; classification needs two "
            "classes or more"
        )
    return TextSummary("table", tuple(sorted(classes)), count)


def _table_rows(stream: TextIO, name: str, tabs: bool) -> Iterator[tuple[str, dict[str, str]]]:
    """('t.csv line 4', {column: value}) for each row of a CSV or TSV file after its header; blank lines
    skipped."""
    reader = csv.reader(stream, delimiter="\t" if tabs else ",")
    header: list[str] | None = None
    for row in reader:
        if not any(value.strip() for value in row):
            continue
        if header is None:
            header = [column.strip() for column in row]
            continue
        where = f"{name} line {reader.line_num}"
        if len(row) != len(header):
            raise DatasetFileError(f"{where} has {len(row)} values; the header has {len(header)}: fix that row")
        yield where, dict(zip(header, row, strict=True))


def _json_rows(stream: TextIO, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """('t.jsonl line 4', {column: value}) for each line of a JSON-lines file; blank lines skipped."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DatasetFileError(f"{where} is not JSON ({err.msg}): fix or drop the line") from None
        if not isinstance(row, dict):
            raise DatasetFileError(f"{where} is not a JSON object with a text and a label")
        yield where, row


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
