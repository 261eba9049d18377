"""A library of composite blocks: one block (a definition, with the definitions it holds) in a `.nbblock` file,
loaded into any project; and the blocks netbuilder ships, in resources/blocks.

A block file is plain JSON in the project file's form: `{"format_version", "block": its name, "definitions":
[...]}`, the definitions written exactly as a project file's `definitions` (those it holds first), and read by
the same strict reader, within the same limits (docs/project-format.md, "Block files").

Loading never changes what a project already has. A definition of the file that is the same as one of the
project's (inside, ports, parameters and description alike) is that one: loading a block twice adds nothing.
Any other joins the project under its own name, or, when a block of the project already has that name, under
the name with the first free number (`BasicBlock2`), the blocks that hold it following, as a file manager
names a copy: the person's own block and its instances stay as they were, and both are there to compare.
`load_block` returns the name the block has in the project, so the caller can say where it went.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from os import PathLike
from pathlib import Path
from typing import Any

from netbuilder.atomic_file import write_atomically
from netbuilder.blocks import catalogue
from netbuilder.graph import Graph
from netbuilder.graph.definitions import Definition, Definitions
from netbuilder.graph.limits import MAX_FILE_BYTES, MAX_NAME_CHARS
from netbuilder.project.definitions_file import definitions_to_list, read_definitions
from netbuilder.project.errors import ProjectError
from netbuilder.project.file_checks import check_keys
from netbuilder.project.json_file import format_json, read_json, shown_path, too_big_to_save
from netbuilder.project.project_file import FORMAT_VERSION, migrated
from netbuilder.quoting import cut, quoted, shown

SUFFIX = ".nbblock"
_KIND = "block file"
_KEYS = ("format_version", "block", "definitions")


# ---- writing -----------------------------------------------------------------------------------------------


def block_to_dict(definitions: Definitions, name: str) -> dict[str, Any]:
    """Block `name` as a block file holds it: the definitions it holds (at every depth, each after those it
    holds) and then itself."""
    if name not in definitions:
        raise ProjectError("block", f"the project has no block named {quoted(name)}")
    held = [d for d in definitions.in_dependency_order() if definitions.reaches(name, d.name)]
    return {"format_version": FORMAT_VERSION, "block": name, "definitions": definitions_to_list(held)}


def save_block(definitions: Definitions, name: str, path: str | PathLike[str]) -> Path:
    """Write block `name` of a project to `path` atomically (the old file stays whole on any failure, which
    raises ProjectError); the same block gives the same bytes."""
    target = Path(path)
    data = format_json(block_to_dict(definitions, name)).encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise ProjectError(None, f"cannot save {shown_path(target)}: {too_big_to_save(len(data), _KIND)}")
    try:
        write_atomically(target, data)
    except OSError as err:
        raise ProjectError(None, f"cannot save {shown_path(target)}: {err.strerror or err}") from err
    return target


# ---- reading -----------------------------------------------------------------------------------------------


def load_block(graph: Graph, path: str | PathLike[str]) -> str:
    """Add the block of the file at `path` to the project whose graph (its top graph, or a definition's inside)
    is `graph`, with the blocks it holds, as the module docstring says; returns its name in the project.

    The file is read and checked whole before the project changes; a problem raises ProjectError naming the
    field, and leaves the project as it was. The definitions join through the graph's own edits (a
    DefinitionAdded each, a DefinitionExposed per parameter), so an undo stack can take them back."""
    top = graph.definitions.top or graph
    block, definitions = _read_block_file(Path(path))
    existing = {d.name: _content(item) for d, item in _as_items(top.definitions)}
    taken = set(catalogue.BLOCKS) | {d.name for d in top.definitions}
    renamed: dict[str, str] = {}
    adding = []
    for item in definitions:
        for node in item["nodes"]:
            node["block"] = renamed.get(node["block"], node["block"])
        same = _same_as(item, existing)
        if same is not None:
            renamed[item["name"]] = same
            continue
        renamed[item["name"]] = item["name"] = _free_name(item["name"], taken)
        taken.add(item["name"])
        adding.append(item)
    read_definitions(adding, top)
    return renamed[block]


@dataclass(frozen=True)
class ShippedBlock:
    """A block netbuilder ships: its name, what it is (its description), and its file."""

    name: str
    doc: str
    path: Path


def shipped_blocks() -> list[ShippedBlock]:
    """The blocks in resources/blocks (a ResNet basic block, a transformer encoder layer ...), by name: what a
    palette offers to load into a project."""
    found = []
    for entry in _blocks_folder().iterdir():
        if entry.name.endswith(SUFFIX):
            path = Path(str(entry))
            name, definitions = _read_block_file(path)
            found.append(ShippedBlock(name, definitions[-1]["doc"], path))
    return sorted(found, key=lambda b: b.name.lower())


def _blocks_folder() -> Traversable:
    """Package data `netbuilder/resources/blocks` when installed from a wheel, else the checkout's
    `resources/blocks` beside the `netbuilder` folder (as the icons are found)."""
    packaged = resources.files("netbuilder") / "resources" / "blocks"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources" / "blocks"


def _read_block_file(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The block's name and its definitions as checked items (those it holds first, itself last); the file is
    read into a project of its own first, so everything a project file obeys, it obeys."""
    data = read_json(path, _KIND)
    if not isinstance(data, dict):
        raise ProjectError(None, "expected a JSON object at the top of the file")
    data = migrated(data)
    check_keys(data, "", _KEYS, required=_KEYS)
    scratch = Graph()
    names = read_definitions(data["definitions"], scratch)
    block = data["block"]
    if not isinstance(block, str) or block not in names:
        listed = ", ".join(names) or "none"
        raise ProjectError("block", f"expected the name of one of its definitions ({cut(listed)}), got {shown(block)}")
    held = [d for d in scratch.definitions.in_dependency_order() if scratch.definitions.reaches(block, d.name)]
    return block, [item for _, item in _as_items(held)]


def _as_items(definitions: Iterable[Definition]) -> list[tuple[Definition, dict[str, Any]]]:
    """Each definition with its item as a file holds it."""
    listed = list(definitions)
    return list(zip(listed, definitions_to_list(listed), strict=True))


def _content(item: dict[str, Any]) -> dict[str, Any]:
    """A definition's item without its name: what makes two definitions the same block."""
    return {key: value for key, value in item.items() if key != "name"}


def _same_as(item: dict[str, Any], existing: dict[str, dict[str, Any]]) -> str | None:
    """The project's definition that is the same block as `item`: the one of its name first, else any."""
    content = _content(item)
    if existing.get(item["name"]) == content:
        return item["name"]
    return next((name for name, other in existing.items() if other == content), None)


def _free_name(name: str, taken: set[str]) -> str:
    """`name`, or name2, name3 ... : the first no block has (cut to fit MAX_NAME_CHARS with its number)."""
    if name not in taken:
        return name
    n = 2
    while (candidate := name[: MAX_NAME_CHARS - len(str(n))] + str(n)) in taken:
        n += 1
    return candidate
