"""The `.nbproj` file: a Project <-> versioned JSON, read strictly and saved atomically.

Reading trusts nothing: the text goes through `json` only (never pickle or eval, see json_file), every field is
checked, and the graph is rebuilt through the Graph's own methods (graph_file, definitions_file) so the file
obeys the same rules as the canvas. Whatever is wrong raises one ProjectError whose message names the field
(`graph.nodes[3].params.out_features: expected a positive integer, got -4`). Writing is deterministic (same
project, same bytes) so files diff well and a golden-file test can pin them. This module holds the project
document itself: its top fields, format versions and migrations, the starting weights' reference and the
training settings. docs/project-format.md describes the format for people.
"""

from __future__ import annotations

from dataclasses import replace
from os import PathLike
from pathlib import Path
from typing import Any

from netbuilder.atomic_file import write_atomically
from netbuilder.graph import Graph
from netbuilder.graph.limits import MAX_FILE_BYTES, MAX_PATH_CHARS, name_problem, unencodable_char
from netbuilder.project.definitions_file import (
    definitions_to_list,
    expanded_size_problem,
    read_definitions,
    unsavable,
)
from netbuilder.project.errors import ProjectError, SettingsError
from netbuilder.project.file_checks import check_keys, expect_object, expect_text, is_int, shown_value
from netbuilder.project.graph_file import GRAPH_KEYS, counted_lists, graph_to_dict, read_nodes_and_edges
from netbuilder.project.import_gaps import gaps_to_list, read_gaps
from netbuilder.project.json_file import JsonObject, format_json, read_json, shown_path, too_big_to_save
from netbuilder.project.project import Project
from netbuilder.project.settings import SETTING, TrainingSettings
from netbuilder.quoting import quoted

FORMAT_VERSION = 3
SUFFIX = ".nbproj"
WEIGHTS_SUFFIX = ".weights.safetensors"

_TOP_KEYS = ("format_version", "name", "definitions", "graph", "training", "weights", "import_gaps")
_REQUIRED_TOP_KEYS = ("format_version", "name", "definitions", "graph", "training")
_TRAINING_KEYS = tuple(SETTING)  # the declared training settings

# ---- writing -----------------------------------------------------------------------------------------------


def project_to_dict(project: Project, folder: Path | None = None) -> dict[str, Any]:
    """The project as plain JSON values, keys in a fixed order; every block parameter is written.

    Starting weights are named relative to `folder` (where the file goes) when they are in it, else by their
    absolute path (an autosave in the recovery folder still finds them)."""
    graph = project.graph
    weights = {} if project.weights is None else {"weights": _weights_reference(project.weights, folder)}
    gaps = {"import_gaps": gaps_to_list(project.import_gaps)} if project.import_gaps else {}
    return {
        "format_version": FORMAT_VERSION,
        "name": project.name,
        "definitions": definitions_to_list(graph.definitions),
        "graph": graph_to_dict(graph, "graph"),
        "training": project.training.to_dict(),
        **weights,
        **gaps,
    }


def copy_project(project: Project) -> Project:
    """An independent copy of the project, through its file's form (same path): what a run, a sweep or an
    export works on, so it never reads a graph the window is changing."""
    return project_from_dict(project_to_dict(project), project.path)


def project_to_json(project: Project, folder: Path | None = None) -> str:
    """The file's text: two-space indents, lists of plain values on one line, a trailing newline."""
    return format_json(project_to_dict(project, folder))


def _weights_reference(weights: Path, folder: Path | None) -> str:
    if folder is not None and weights.parent.resolve() == folder.resolve():
        return weights.name
    return str(weights.absolute())


def save_project(project: Project, path: str | PathLike[str] | None = None) -> Path:
    """Write `project` to `path` (default: `project.path`) atomically, then set `project.path` to it.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and only then renamed over
    the target: a crash or a full disk leaves either the old file or the new one, never half of one. A
    failure removes the temporary file and raises ProjectError; the old file is untouched.

    Starting weights kept elsewhere (a first save, Save As into another folder) are first copied beside the
    target as `<name>.weights.safetensors`, atomically too, so a project folder carries everything it needs.

    A project with a placeholder name (`named` False) is named after the file (`cifar_style_cnn.nbproj`:
    "cifar_style_cnn"), in the file and in memory, once the file is written.
    """
    if path is None:
        if project.path is None:
            raise ValueError("the project has never been saved: give a path")
        path = project.path
    target = Path(path)
    name = project.name if project.named else target.stem
    problem = name_problem(name, "the project's name")
    if problem:  # what is written must load again (a file name that is not UTF-8 gives such a name)
        raise ProjectError("name", problem)
    problem = unsavable(project.graph)
    if problem:  # said now, while the work is in memory, rather than when the file will not open
        raise ProjectError(None, f"cannot save {shown_path(target)}: {problem}")
    try:
        weights = _weights_beside(project.weights, target)
        data = project_to_json(replace(project, name=name, weights=weights), target.parent).encode("utf-8")
        if len(data) > MAX_FILE_BYTES:  # it could not be opened again: say so now, while the work is in memory
            raise ProjectError(None, f"cannot save {shown_path(target)}: {too_big_to_save(len(data))}")
        write_atomically(target, data)
    except OSError as err:
        raise ProjectError(None, f"cannot save {shown_path(target)}: {err.strerror or err}") from err
    except UnicodeEncodeError as err:  # a path of a folder whose name is not UTF-8, say
        raise ProjectError(None, f"cannot save {shown_path(target)}: {quoted(err.object)} is not valid text") from None
    project.path = target
    project.weights = weights
    project.name, project.named = name, True
    return target


def _weights_beside(weights: Path | None, target: Path) -> Path | None:
    """The starting weights' file in the folder of `target`, copied there when it is elsewhere."""
    if weights is None or weights.parent.resolve() == target.parent.resolve():
        return weights
    copy = target.with_name(target.stem + WEIGHTS_SUFFIX)
    try:
        data = weights.read_bytes()
    except OSError as err:
        raise ProjectError(
            "weights", f"cannot read the starting weights {shown_path(weights)}: {err.strerror or err}"
        ) from err
    write_atomically(copy, data)
    return copy


# ---- reading -----------------------------------------------------------------------------------------------


def load_project(path: str | PathLike[str]) -> Project:
    """Read a `.nbproj` file; any problem, unreadable file included, raises ProjectError naming the field."""
    path = Path(path)
    return project_from_dict(read_json(path), path=path)


def project_from_dict(data: Any, path: str | PathLike[str] | None = None) -> Project:
    """Check `data` (parsed JSON) field by field and build the Project it describes.

    Nodes are added and edges connected through the Graph, in file order, so every rule the canvas enforces
    (known blocks, valid parameters, unique ids and labels, fitting port kinds, one source per input, no
    cycles) holds for a loaded file too. A parameter missing from a node takes the block's default (a file
    written before the block gained it); a missing training setting takes its default. The composite
    definitions are read first (see read_definitions), so the graph's nodes may be instances of them.
    """
    if not isinstance(data, dict):
        raise ProjectError(None, f"expected a JSON object at the top of the file, got {shown_value(data)}")
    data = migrated(data)
    check_keys(data, "", _TOP_KEYS, required=_REQUIRED_TOP_KEYS)
    name = data["name"]
    if not isinstance(name, str):
        raise ProjectError("name", f"expected a string, got {shown_value(name)}")
    problem = name_problem(name, "the project's name")
    if problem:
        raise ProjectError("name", problem)
    graph = Graph()
    read_definitions(data["definitions"], graph)
    _read_graph(data["graph"], graph)
    training = _read_training(data["training"])
    path = None if path is None else Path(path)
    weights = _read_weights(data["weights"], path) if "weights" in data else None
    gaps = read_gaps(data["import_gaps"]) if "import_gaps" in data else ()
    return Project(name=name, graph=graph, training=training, path=path, weights=weights, import_gaps=gaps)


def _read_weights(value: Any, path: Path | None) -> Path:
    """A starting-weights file: a name beside the project file, or an absolute path (an autosave's)."""
    where = expect_text(value, "weights")
    if len(where) > MAX_PATH_CHARS or unencodable_char(where):
        raise ProjectError(
            "weights", f"expected a path of at most {MAX_PATH_CHARS} characters, got {shown_value(value)}"
        )
    if not where.endswith(WEIGHTS_SUFFIX):
        raise ProjectError("weights", f"expected a file ending in {WEIGHTS_SUFFIX}, got {shown_value(value)}")
    weights = Path(where)
    if weights.is_absolute():
        return weights
    if len(weights.parts) != 1:
        raise ProjectError(
            "weights", f"expected a file beside the project or an absolute path, got {shown_value(value)}"
        )
    return (path.parent if path is not None else Path.cwd()) / weights


def migrated(data: dict[str, Any]) -> dict[str, Any]:
    """`data` (a parsed file's top object) in the current format: its format_version checked, then migrated
    one version step at a time from the file's version up to FORMAT_VERSION (docs/project-format.md,
    "Versions"). A block file's top object goes through here too."""
    if "format_version" not in data:
        raise ProjectError("format_version", "missing: this is not a netbuilder project file, or it is damaged")
    version = data["format_version"]
    if not is_int(version):
        raise ProjectError("format_version", f"expected an integer, got {shown_value(version)}")
    if version > FORMAT_VERSION:
        raise ProjectError(
            "format_version",
            f"this file was written by a newer netbuilder (format {version}); "
            f"this version reads format {FORMAT_VERSION}: update netbuilder",
        )
    if version < 1:
        raise ProjectError("format_version", f"expected a format from 1 to {FORMAT_VERSION}, got {version}")
    for step in range(version, FORMAT_VERSION):
        data = _MIGRATIONS[step](data)
    return data


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Format 2 added the project's composite blocks (`definitions`); a format-1 project has none."""
    if "definitions" in data:  # not a field of format 1: a typo, or a newer file whose version was lowered
        raise ProjectError("definitions", "unknown field in a format-1 file (definitions came with format 2)")
    migrated = JsonObject({**data, "format_version": 2, "definitions": []})
    migrated.duplicates = getattr(data, "duplicates", ())  # a key given twice is still refused by name
    return migrated


def _migrate_2_to_3(data: dict[str, Any]) -> dict[str, Any]:
    """Format 3 added the calls a partial import could not map (`import_gaps`, optional); a format-2 project
    has none."""
    if "import_gaps" in data:  # not a field of format 2: a newer file whose version was lowered
        raise ProjectError("import_gaps", "unknown field in a format-2 file (import_gaps came with format 3)")
    migrated = JsonObject({**data, "format_version": 3})
    migrated.duplicates = getattr(data, "duplicates", ())
    return migrated


_MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3}


def _read_graph(value: Any, graph: Graph) -> None:
    """The top graph's nodes and edges into `graph`, which already holds the project's definitions."""
    obj = expect_object(value, "graph")
    check_keys(obj, "graph", GRAPH_KEYS, required=GRAPH_KEYS)
    nodes, edges = counted_lists(obj, "graph", "a project")
    problem = expanded_size_problem(nodes, graph.definitions)
    if problem:
        raise ProjectError("graph.nodes", problem)
    read_nodes_and_edges(graph, nodes, edges, "graph")


def _read_training(value: Any) -> TrainingSettings:
    obj = expect_object(value, "training")
    check_keys(obj, "training", _TRAINING_KEYS, required=())
    try:
        return TrainingSettings(**obj)
    except SettingsError as err:
        raise ProjectError(f"training.{err.field}", err.reason) from None
