"""The gaps a partial import left in a project: the calls of the original module that no block computes.

`netbuilder import` (and the window's File > Import Model) brings in what maps to catalogue blocks and lists the
rest. That list is part of the document: it is saved in the project file (`import_gaps`) and shown again when the
project is opened, by `netbuilder check` and `summary` and in a banner above the canvas, so a person who saved a
half-imported model and came back a week later still knows what is missing and where it was in the source. It
stands until the gaps are filled: in the window, an edit after which the model checks clean drops it, or the
person dismisses it. The texts are the importer's, clipped to the file's limits here, so whatever an import
produces can be saved and read back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from netbuilder.graph.limits import MAX_NAME_CHARS, unencodable_char
from netbuilder.project.errors import ProjectError
from netbuilder.project.file_checks import check_keys, expect_list, expect_object, expect_text, field_path, shown_value

# A torchvision import leaves at most a few hundred (swin_t, before its blocks existed: 123); the count and the
# texts are bounded so a file's list is read quickly, a message never repeats a whole damaged value, and the
# longest list (about 2.3 MB) leaves a project far below the file size limit, so an import can always be saved.
MAX_IMPORT_GAPS = 1_000
MAX_CALL_CHARS = MAX_NAME_CHARS  # a qualified function name (`torch.nn.functional.layer_norm`)
MAX_GAP_TEXT_CHARS = 1_000  # where (`model.py:12: x = ...`, a source line) and why
GAP_KEYS = ("call", "where", "reason")
_LIMITS = {"call": MAX_CALL_CHARS, "where": MAX_GAP_TEXT_CHARS, "reason": MAX_GAP_TEXT_CHARS}
PLACES_SHOWN = 3  # a call missing at many places is shown at its first few, then "and N more"


@dataclass(frozen=True)
class ImportGap:
    """One call the import could not map: what it is (`torch.cumsum`), where it is in the source (`model.py:17:
    return x.cumsum(1)`, or the traced node's name where the source is unknown) and why it did not map."""

    call: str
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.call} at {self.where}: {self.reason}"


class _Unmapped(Protocol):
    call: str
    where: str
    reason: str


def kept_gaps(calls: Iterable[_Unmapped]) -> tuple[ImportGap, ...]:
    """The importer's unmapped calls as a project keeps them: each text on one line, with any character a file
    cannot hold replaced and cut to its limit (ending in "..."), and at most MAX_IMPORT_GAPS of them, the first."""
    gaps = []
    for call in calls:
        if len(gaps) == MAX_IMPORT_GAPS:
            break
        gaps.append(ImportGap(*(_kept(getattr(call, key), _LIMITS[key]) for key in GAP_KEYS)))
    return tuple(gaps)


def _kept(text: str, limit: int) -> str:
    text = " ".join(str(text).split()) or "?"
    if unencodable_char(text):
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def grouped_gap_lines(gaps: Iterable[_Unmapped]) -> list[str]:
    """One line per kind of gap (the same call missing for the same reason), in order of first appearance, with
    its first places: `torch.cumsum: no netbuilder block does this; at m.py:17: ..., m.py:20: ... and 4 more`.
    The import's report and every later showing of a project's gaps list them this way."""
    groups: dict[tuple[str, str], list[str]] = {}
    for gap in gaps:
        groups.setdefault((gap.call, gap.reason), []).append(gap.where)
    lines = []
    for (call, reason), places in groups.items():
        more = f" and {len(places) - PLACES_SHOWN} more" if len(places) > PLACES_SHOWN else ""
        lines.append(f"{call}: {reason}; at {', '.join(places[:PLACES_SHOWN])}{more}")
    return lines


def gaps_headline(count: int) -> str:
    """What a project's standing gaps mean, in one sentence (without the list)."""
    calls = "call" if count == 1 else "calls"
    has = "has" if count == 1 else "have"
    return (
        f"imported in part: {count:,} {calls} of the original model {has} no netbuilder block and "
        f"{'is' if count == 1 else 'are'} missing from the graph"
    )


def gaps_to_list(gaps: Iterable[ImportGap]) -> list[dict[str, str]]:
    """The file's `import_gaps`: one object per gap, keys in a fixed order."""
    return [{"call": gap.call, "where": gap.where, "reason": gap.reason} for gap in gaps]


def read_gaps(value: Any, where: str = "import_gaps") -> tuple[ImportGap, ...]:
    """The file's `import_gaps` checked field by field: a list of at most MAX_IMPORT_GAPS objects, each with a
    non-empty `call`, `where` and `reason` within their limits; ProjectError names the first bad one."""
    items = expect_list(value, where)
    if len(items) > MAX_IMPORT_GAPS:
        raise ProjectError(where, f"{len(items):,} gaps; a project keeps at most {MAX_IMPORT_GAPS:,}")
    gaps = []
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        obj = expect_object(item, at)
        check_keys(obj, at, GAP_KEYS, required=GAP_KEYS)
        texts = []
        for key in GAP_KEYS:
            text = expect_text(obj[key], field_path(at, key))
            if len(text) > _LIMITS[key]:
                raise ProjectError(
                    field_path(at, key), f"expected at most {_LIMITS[key]:,} characters, got {len(text):,}"
                )
            if unencodable_char(text):
                raise ProjectError(
                    field_path(at, key), f"{shown_value(text)} holds a character that no file can save; remove it"
                )
            texts.append(text)
        gaps.append(ImportGap(*texts))
    return tuple(gaps)
