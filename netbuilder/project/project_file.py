"""The `.nbproj` file: a Project <-> versioned JSON, read strictly and saved atomically.

Reading trusts nothing: the text goes through `json` only (never pickle or eval), every field is checked, and
the graph is rebuilt through the Graph's own methods so the file obeys the same rules as the canvas. Whatever
is wrong raises one ProjectError whose message names the field (`graph.nodes[3].params.out_features:
expected a positive integer, got -4`). Writing is deterministic (same project, same bytes) so files diff
well and a golden-file test can pin them. docs/project-format.md describes the format for people.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import stat
from collections.abc import Iterable
from dataclasses import replace
from os import PathLike
from pathlib import Path
from typing import Any

from netbuilder.atomic_file import write_atomically
from netbuilder.blocks import catalogue
from netbuilder.blocks.spec import BlockSpec
from netbuilder.graph import Edge, EdgeRefusedError, Graph, GraphError, InvalidParamError, PortOccupiedError
from netbuilder.graph.limits import (
    ID_RULE,
    MAX_EDGES,
    MAX_FILE_BYTES,
    MAX_NODES,
    MAX_PATH_CHARS,
    is_node_id,
    name_problem,
    unencodable_char,
)
from netbuilder.project.errors import ProjectError, SettingsError
from netbuilder.project.project import Project
from netbuilder.project.settings import SETTING, TrainingSettings
from netbuilder.quoting import QUOTE_CHARS, quoted, shown

FORMAT_VERSION = 1
SUFFIX = ".nbproj"

_TOP_KEYS = ("format_version", "name", "graph", "training", "weights")
_REQUIRED_TOP_KEYS = ("format_version", "name", "graph", "training")
WEIGHTS_SUFFIX = ".weights.safetensors"
_GRAPH_KEYS = ("nodes", "edges")
_NODE_KEYS = ("id", "block", "label", "params", "position")
_EDGE_KEYS = ("from", "to")
_TRAINING_KEYS = tuple(SETTING)  # the declared training settings


# ---- writing ---------------------------------------------------------------------------------------------


def project_to_dict(project: Project, folder: Path | None = None) -> dict[str, Any]:
    """The project as plain JSON values, keys in a fixed order; every block parameter is written.

    Starting weights are named relative to `folder` (where the file goes) when they are in it, else by their
    absolute path (an autosave in the recovery folder still finds them)."""
    graph = project.graph
    weights = {} if project.weights is None else {"weights": _weights_reference(project.weights, folder)}
    return {
        "format_version": FORMAT_VERSION,
        "name": project.name,
        "graph": {
            "nodes": [_node_to_dict(graph, node_id, i) for i, node_id in enumerate(graph.nodes)],
            "edges": [_edge_to_dict(edge) for edge in _edges_in_file_order(graph)],
        },
        "training": project.training.to_dict(),
        **weights,
    }


def project_to_json(project: Project, folder: Path | None = None) -> str:
    """The file's text: two-space indents, lists of plain values on one line, a trailing newline."""
    return _dump(project_to_dict(project, folder), 0) + "\n"


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
    try:
        weights = _weights_beside(project.weights, target)
        data = project_to_json(replace(project, name=name, weights=weights), target.parent).encode("utf-8")
        if len(data) > MAX_FILE_BYTES:  # it could not be opened again: say so now, while the work is in memory
            raise ProjectError(None, f"cannot save {_path(target)}: {_too_big_to_save(len(data))}")
        write_atomically(target, data)
    except OSError as err:
        raise ProjectError(None, f"cannot save {_path(target)}: {err.strerror or err}") from err
    except UnicodeEncodeError as err:  # a path of a folder whose name is not UTF-8, say
        raise ProjectError(None, f"cannot save {_path(target)}: {quoted(err.object)} is not valid text") from None
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
            "weights", f"cannot read the starting weights {_path(weights)}: {err.strerror or err}"
        ) from err
    write_atomically(copy, data)
    return copy


def _node_to_dict(graph: Graph, node_id: str, index: int) -> dict[str, Any]:
    node = graph.node(node_id)
    spec = catalogue.get(node.block)
    x, y = node.position
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ProjectError(f"graph.nodes[{index}].position", f"expected two finite numbers, got {node.position!r}")
    return {
        "id": node.id,
        "block": node.block,
        "label": node.label,
        "params": {p.name: _json_value(node.params.get(p.name, p.default)) for p in spec.params},
        "position": [float(x), float(y)],
    }


def _edge_to_dict(edge: Edge) -> dict[str, Any]:
    return {"from": [edge.src, edge.src_port], "to": [edge.dst, edge.dst_port]}


def _edges_in_file_order(graph: Graph) -> list[Edge]:
    """Edges by source node, output port, target node, input port: one order whatever the edit history."""
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}

    def key(edge: Edge) -> tuple[int, int, str, int, int, str]:
        outputs = [p.name for p in graph.spec(edge.src).outputs]
        inputs = [p.name for p in graph.input_ports(edge.dst)]
        return (
            order[edge.src],
            _position_in(outputs, edge.src_port),
            edge.src_port,
            order[edge.dst],
            _position_in(inputs, edge.dst_port),
            edge.dst_port,
        )

    return sorted(graph.edges, key=key)


def _position_in(names: list[str], name: str) -> int:
    return names.index(name) if name in names else len(names)


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    return value


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


# ---- reading ---------------------------------------------------------------------------------------------


def load_project(path: str | PathLike[str]) -> Project:
    """Read a `.nbproj` file; any problem, unreadable file included, raises ProjectError naming the field."""
    path = Path(path)
    return project_from_dict(_parse(_read_file(path)), path=path)


def _read_file(path: Path) -> bytes:
    """The bytes of `path`, a regular file of at most MAX_FILE_BYTES, or ProjectError.

    Opened without blocking (a FIFO would wait for a writer forever) and looked at before reading, so a
    folder, a device (/dev/zero never ends), a pipe or a socket is refused, and so is a file too big to be a
    project, before its first byte is read; at most one byte more than the limit is read, since a file may
    grow between the look and the read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as err:
        raise ProjectError(None, f"cannot read {_path(path)}: {err.strerror or err}") from err
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise ProjectError(None, f"cannot read {_path(path)}: it is {kind}, not a project file")
        if info.st_size > MAX_FILE_BYTES:
            raise ProjectError(None, _too_big_message(path))
        with open(fd, "rb", closefd=False) as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ProjectError(None, f"cannot read {_path(path)}: {err.strerror or err}") from err
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        raise ProjectError(None, _too_big_message(path))
    return raw


def _too_big_message(path: Path) -> str:
    limit = MAX_FILE_BYTES // 2**20
    return f"{_path(path)} is larger than a project file may be ({limit} MiB): it is not one, or it is damaged"


def _too_big_to_save(size: int) -> str:
    limit = MAX_FILE_BYTES // 2**20
    return f"it would take {size / 2**20:.1f} MiB, more than a project file may ({limit} MiB): shorten long texts"


def _path(path: Path) -> str:
    """A path as a message shows it: a file name that is not UTF-8 keeps its odd bytes as escapes."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def project_from_dict(data: Any, path: str | PathLike[str] | None = None) -> Project:
    """Check `data` (parsed JSON) field by field and build the Project it describes.

    Nodes are added and edges connected through the Graph, in file order, so every rule the canvas enforces
    (known blocks, valid parameters, unique ids and labels, fitting port kinds, one source per input, no
    cycles) holds for a loaded file too. A parameter missing from a node takes the block's default (a file
    written before the block gained it); a missing training setting takes its default.
    """
    if not isinstance(data, dict):
        raise ProjectError(None, f"expected a JSON object at the top of the file, got {_show(data)}")
    _check_version(data)
    _check_keys(data, "", _TOP_KEYS, required=_REQUIRED_TOP_KEYS)
    name = data["name"]
    if not isinstance(name, str):
        raise ProjectError("name", f"expected a string, got {_show(name)}")
    problem = name_problem(name, "the project's name")
    if problem:
        raise ProjectError("name", problem)
    graph = _read_graph(data["graph"])
    training = _read_training(data["training"])
    path = None if path is None else Path(path)
    weights = _read_weights(data["weights"], path) if "weights" in data else None
    return Project(name=name, graph=graph, training=training, path=path, weights=weights)


def _read_weights(value: Any, path: Path | None) -> Path:
    """A starting-weights file: a name beside the project file, or an absolute path (an autosave's)."""
    where = _text(value, "weights")
    if len(where) > MAX_PATH_CHARS or unencodable_char(where):
        raise ProjectError("weights", f"expected a path of at most {MAX_PATH_CHARS} characters, got {_show(value)}")
    if not where.endswith(WEIGHTS_SUFFIX):
        raise ProjectError("weights", f"expected a file ending in {WEIGHTS_SUFFIX}, got {_show(value)}")
    weights = Path(where)
    if weights.is_absolute():
        return weights
    if len(weights.parts) != 1:
        raise ProjectError("weights", f"expected a file beside the project or an absolute path, got {_show(value)}")
    return (path.parent if path is not None else Path.cwd()) / weights


class _JsonObject(dict[str, Any]):
    """A parsed JSON object that remembers keys it saw twice (plain `json` silently keeps the last)."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
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


def _parse(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ProjectError(None, f"not a project file: not UTF-8 text (bad byte at offset {err.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_JsonObject.from_pairs)
    except json.JSONDecodeError as err:
        raise ProjectError(None, f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except ValueError as err:  # an integer with more digits than Python converts
        raise ProjectError(None, f"not valid JSON: {err}") from None
    except RecursionError:
        raise ProjectError(None, "not valid JSON: nested too deeply") from None


def _check_version(data: dict[str, Any]) -> None:
    if "format_version" not in data:
        raise ProjectError("format_version", "missing: this is not a netbuilder project file, or it is damaged")
    version = data["format_version"]
    if not _is_int(version):
        raise ProjectError("format_version", f"expected an integer, got {_show(version)}")
    if version > FORMAT_VERSION:
        raise ProjectError(
            "format_version",
            f"this file was written by a newer netbuilder (format {version}); "
            f"this version reads format {FORMAT_VERSION}: update netbuilder",
        )
    if version < 1:
        raise ProjectError("format_version", f"expected a format from 1 to {FORMAT_VERSION}, got {version}")
    # Older formats are migrated here, one function per version step, once format 2 exists
    # (see docs/project-format.md, "Versions").


def _read_graph(value: Any) -> Graph:
    obj = _object(value, "graph")
    _check_keys(obj, "graph", _GRAPH_KEYS, required=_GRAPH_KEYS)
    nodes = _array(obj["nodes"], "graph.nodes")
    edges = _array(obj["edges"], "graph.edges")
    # Counted before any is read: reading is linear, but a file at the size limit could list millions.
    if len(nodes) > MAX_NODES:
        raise ProjectError("graph.nodes", f"{len(nodes):,} nodes; a project holds at most {MAX_NODES:,}")
    if len(edges) > MAX_EDGES:
        raise ProjectError("graph.edges", f"{len(edges):,} edges; a project holds at most {MAX_EDGES:,}")
    graph = Graph()
    ids: dict[str, int] = {}
    labels: dict[str, int] = {}
    for i, item in enumerate(nodes):
        _read_node(graph, item, i, ids, labels)
    listed = [_read_edge(graph, item, f"graph.edges[{i}]") for i, item in enumerate(edges)]
    try:
        graph.connect_all(listed)  # cycles are looked for once, not per edge (quadratic on a long chain)
    except EdgeRefusedError as err:
        where = f"graph.edges[{err.index}]"
        # A taken input is the edge's `to`; a kind mismatch or a cycle is the edge as a whole.
        raise ProjectError(f"{where}.to" if isinstance(err.error, PortOccupiedError) else where, str(err)) from None
    return graph


def _read_node(graph: Graph, item: Any, index: int, ids: dict[str, int], labels: dict[str, int]) -> None:
    where = f"graph.nodes[{index}]"
    obj = _object(item, where)
    _check_keys(obj, where, _NODE_KEYS, required=_NODE_KEYS)

    node_id = _text(obj["id"], f"{where}.id")
    if not is_node_id(node_id):
        raise ProjectError(f"{where}.id", f"expected an id of {ID_RULE} characters, got {_show(node_id)}")
    if node_id in ids:
        raise ProjectError(f"{where}.id", f"duplicate id {_show(node_id)} (graph.nodes[{ids[node_id]}] has it too)")

    block = _text(obj["block"], f"{where}.block")
    try:
        spec = catalogue.get(block)
    except catalogue.UnknownBlockError as err:
        raise ProjectError(f"{where}.block", str(err) + _did_you_mean(block, catalogue.BLOCKS)) from None

    label = _text(obj["label"], f"{where}.label")
    problem = name_problem(label, "a label")
    if problem:
        raise ProjectError(f"{where}.label", problem)
    if label in labels:
        raise ProjectError(
            f"{where}.label", f"the label {_show(label)} is already used by graph.nodes[{labels[label]}]"
        )

    params = _read_params(obj["params"], spec, f"{where}.params")
    position = _read_position(obj["position"], f"{where}.position")
    try:
        graph.add_node(block, label=label, params=params, position=position, node_id=node_id)
    except InvalidParamError as err:
        raise ProjectError(_field(f"{where}.params", err.param), err.reason) from None
    except GraphError as err:
        raise ProjectError(where, str(err)) from None
    ids[node_id] = index
    labels[label] = index


def _read_params(value: Any, spec: BlockSpec, where: str) -> dict[str, Any]:
    obj = _object(value, where)
    names = [p.name for p in spec.params]
    _report_duplicates(obj, where)
    for name in obj:
        if name not in names:
            has = f"it has {', '.join(names)}" if names else "it has no parameters"
            raise ProjectError(
                _field(where, name), f"{spec.type} has no such parameter ({has}){_did_you_mean(name, names)}"
            )
    return dict(obj)


def _read_position(value: Any, where: str) -> tuple[float, float]:
    if not (isinstance(value, list) and len(value) == 2 and all(_is_finite_number(v) for v in value)):
        raise ProjectError(where, f"expected [x, y], two finite numbers, got {_show(value)}")
    return float(value[0]), float(value[1])


def _read_edge(graph: Graph, item: Any, where: str) -> Edge:
    """The edge an item of `graph.edges` describes, between ports its nodes have; connected later, all at once."""
    obj = _object(item, where)
    _check_keys(obj, where, _EDGE_KEYS, required=_EDGE_KEYS)
    src, src_port = _endpoint(obj["from"], f"{where}.from")
    dst, dst_port = _endpoint(obj["to"], f"{where}.to")
    for end, node_id in (("from", src), ("to", dst)):
        if node_id not in graph.nodes:
            raise ProjectError(f"{where}.{end}", f"no node has the id {_show(node_id)}")

    source = graph.node(src)
    outputs = [p.name for p in graph.spec(src).outputs]
    if src_port not in outputs:
        raise ProjectError(
            f"{where}.from", f"{source.label} ({source.block}) has no output {_show(src_port)} ({_ports(outputs)})"
        )
    target = graph.node(dst)
    inputs = [p.name for p in graph.input_ports(dst)]
    if dst_port not in inputs:
        raise ProjectError(
            f"{where}.to", f"{target.label} ({target.block}) has no input {_show(dst_port)} ({_ports(inputs)})"
        )
    return Edge(src, src_port, dst, dst_port)


def _endpoint(value: Any, where: str) -> tuple[str, str]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and v for v in value)):
        raise ProjectError(where, f"expected [node id, port name], got {_show(value)}")
    return value[0], value[1]


def _ports(names: list[str]) -> str:
    return f"it has {', '.join(names)}" if names else "it has none"


def _read_training(value: Any) -> TrainingSettings:
    obj = _object(value, "training")
    _check_keys(obj, "training", _TRAINING_KEYS, required=())
    try:
        return TrainingSettings(**obj)
    except SettingsError as err:
        raise ProjectError(f"training.{err.field}", err.reason) from None


# ---- small checks ------------------------------------------------------------------------------------------


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProjectError(where, f"expected an object, got {_show(value)}")
    return value


def _array(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProjectError(where, f"expected a list, got {_show(value)}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProjectError(where, f"expected a non-empty string, got {_show(value)}")
    return value


def _check_keys(obj: dict[str, Any], where: str, allowed: tuple[str, ...], *, required: Iterable[str]) -> None:
    """Refuse a key given twice, an unknown key (a typo, or a newer writer) and a missing required one."""
    _report_duplicates(obj, where)
    for key in obj:
        if key not in allowed:
            raise ProjectError(
                _field(where, key),
                f"unknown field (expected {', '.join(allowed)}){_did_you_mean(key, allowed)}",
            )
    for key in required:
        if key not in obj:
            raise ProjectError(_field(where, key), "missing")


def _report_duplicates(obj: dict[str, Any], where: str) -> None:
    duplicates = getattr(obj, "duplicates", ())
    if duplicates:
        raise ProjectError(_field(where, duplicates[0]), "given more than once")


def _field(where: str, key: Any) -> str:
    """The path of `key` inside `where`: `a.b`, or `a["odd key"]` for a key that is not a plain name; a long
    key is cut to its start, and a character no file can hold shows as an escape."""
    key = str(key)[: QUOTE_CHARS + 1]
    if not key.isidentifier():
        shown = json.dumps(key, ensure_ascii=unencodable_char(key) is not None)
        return f"{where}[{shown if len(shown) <= QUOTE_CHARS else shown[: QUOTE_CHARS - 4] + '...' + chr(34)}]"
    return f"{where}.{key if len(key) <= QUOTE_CHARS else key[: QUOTE_CHARS - 3] + '...'}" if where else key


# Longer than any name we suggest (block types, fields, parameters); difflib's time grows with the product of
# the lengths, and a 50 MB block name took 20 s.
_SUGGEST_UP_TO = 64


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    if len(word) > _SUGGEST_UP_TO:
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not _too_big(value)


def _too_big(value: Any) -> bool:
    """Whether a number (or any number in a list) is infinite, NaN, or an integer beyond float range."""
    if isinstance(value, list):
        return any(_too_big(v) for v in value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return not math.isfinite(value)
    except OverflowError:
        return True


def _show(value: Any) -> str:
    """A value as a message shows it: short, and by kind for containers a reader should go and look at.

    Never the repr of a whole container (a file may nest lists a thousand deep) nor a whole string or
    number: at most QUOTE_CHARS characters, with escapes for characters a terminal cannot print."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        if len(value) <= 8 and not any(isinstance(v, dict | list) for v in value):
            text = "[" + ", ".join(_show(v) for v in value) + "]"
            if len(text) <= 40:
                return text
        return f"a list of {len(value)} items"
    return shown(value)
