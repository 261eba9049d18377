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
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import Any

from netbuilder.atomic_file import write_atomically
from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import ParamError
from netbuilder.blocks.spec import MODEL, TENSOR, BlockSpec
from netbuilder.graph import Edge, EdgeRefusedError, Graph, GraphError, InvalidParamError, PortOccupiedError
from netbuilder.graph.definitions import MAX_REPEAT, REPEAT, Definition, Definitions, Exposed, Inlet, Outlet
from netbuilder.graph.limits import (
    ID_RULE,
    MAX_DEFINITIONS,
    MAX_DOC_CHARS,
    MAX_EDGES,
    MAX_EXPANDED_NODES,
    MAX_FILE_BYTES,
    MAX_NESTING,
    MAX_NODES,
    MAX_PATH_CHARS,
    MAX_PORTS,
    is_node_id,
    name_problem,
    unencodable_char,
)
from netbuilder.graph.model import Node
from netbuilder.project.errors import ProjectError, SettingsError
from netbuilder.project.project import Project
from netbuilder.project.settings import SETTING, TrainingSettings
from netbuilder.quoting import QUOTE_CHARS, cut, quoted, shown

FORMAT_VERSION = 2
SUFFIX = ".nbproj"

_TOP_KEYS = ("format_version", "name", "definitions", "graph", "training", "weights")
_REQUIRED_TOP_KEYS = ("format_version", "name", "definitions", "graph", "training")
WEIGHTS_SUFFIX = ".weights.safetensors"
_GRAPH_KEYS = ("nodes", "edges")
_NODE_KEYS = ("id", "block", "label", "params", "position")
_EDGE_KEYS = ("from", "to")
_DEFINITION_KEYS = ("name", "doc", "nodes", "edges", "inlets", "outlets", "exposed")
_INLET_KEYS = ("name", "targets")
_OUTLET_KEYS = ("name", "node", "port")
_EXPOSED_KEYS = ("name", "targets")
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
        "definitions": definitions_to_list(graph.definitions),
        "graph": _graph_to_dict(graph, "graph"),
        "training": project.training.to_dict(),
        **weights,
    }


def definitions_to_list(definitions: Iterable[Definition]) -> list[dict[str, Any]]:
    """Composite definitions as the file's `definitions` list holds them, in the order given (a block file
    writes the same list)."""
    return [_definition_to_dict(d, f"definitions[{i}]") for i, d in enumerate(definitions)]


def _definition_to_dict(definition: Definition, where: str) -> dict[str, Any]:
    return {
        "name": definition.name,
        "doc": definition.doc,
        **_graph_to_dict(definition.graph, where),
        "inlets": [{"name": i.name, "targets": [list(t) for t in i.targets]} for i in definition.inlets],
        "outlets": [{"name": o.name, "node": o.node, "port": o.port} for o in definition.outlets],
        "exposed": [{"name": e.name, "targets": [list(t) for t in e.targets]} for e in definition.exposed],
    }


def _graph_to_dict(graph: Graph, where: str) -> dict[str, Any]:
    return {
        "nodes": [_node_to_dict(graph, node_id, f"{where}.nodes[{i}]") for i, node_id in enumerate(graph.nodes)],
        "edges": [_edge_to_dict(edge) for edge in _edges_in_file_order(graph)],
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
    problem = _unsavable(project.graph)
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


def _node_to_dict(graph: Graph, node_id: str, where: str) -> dict[str, Any]:
    node = graph.node(node_id)
    spec = graph.spec(node_id)
    x, y = node.position
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ProjectError(f"{where}.position", f"expected two finite numbers, got {node.position!r}")
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
    return project_from_dict(read_json(path), path=path)


def read_json(path: Path, kind: str = "project file") -> Any:
    """The parsed JSON of `path`, read as a project file is (bounded, strict, keys given twice remembered); a
    problem raises ProjectError saying what `kind` of file was expected. A block file is read by it too."""
    return _parse(_read_file(path, kind), kind)


def format_json(value: Any) -> str:
    """JSON text as a project file is written (see _dump), with its trailing newline."""
    return _dump(value, 0) + "\n"


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


def too_big_to_save(size: int, kind: str = "project file") -> str:
    """Why `size` bytes cannot be written as a `kind`: it could not be opened again."""
    limit = MAX_FILE_BYTES // 2**20
    return f"it would take {size / 2**20:.1f} MiB, more than a {kind} may ({limit} MiB): shorten long texts"


def shown_path(path: Path) -> str:
    """A path as a message shows it: a file name that is not UTF-8 keeps its odd bytes as escapes."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def project_from_dict(data: Any, path: str | PathLike[str] | None = None) -> Project:
    """Check `data` (parsed JSON) field by field and build the Project it describes.

    Nodes are added and edges connected through the Graph, in file order, so every rule the canvas enforces
    (known blocks, valid parameters, unique ids and labels, fitting port kinds, one source per input, no
    cycles) holds for a loaded file too. A parameter missing from a node takes the block's default (a file
    written before the block gained it); a missing training setting takes its default. The composite
    definitions are read first (see read_definitions), so the graph's nodes may be instances of them.
    """
    if not isinstance(data, dict):
        raise ProjectError(None, f"expected a JSON object at the top of the file, got {_show(data)}")
    data = migrated(data)
    check_keys(data, "", _TOP_KEYS, required=_REQUIRED_TOP_KEYS)
    name = data["name"]
    if not isinstance(name, str):
        raise ProjectError("name", f"expected a string, got {_show(name)}")
    problem = name_problem(name, "the project's name")
    if problem:
        raise ProjectError("name", problem)
    graph = Graph()
    read_definitions(data["definitions"], graph)
    _read_graph(data["graph"], graph)
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


def _parse(raw: bytes, kind: str) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ProjectError(None, f"not a {kind}: not UTF-8 text (bad byte at offset {err.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_JsonObject.from_pairs)
    except json.JSONDecodeError as err:
        raise ProjectError(None, f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except ValueError as err:  # an integer with more digits than Python converts
        raise ProjectError(None, f"not valid JSON: {err}") from None
    except RecursionError:
        raise ProjectError(None, "not valid JSON: nested too deeply") from None


def migrated(data: dict[str, Any]) -> dict[str, Any]:
    """`data` (a parsed file's top object) in the current format: its format_version checked, then migrated
    one version step at a time from the file's version up to FORMAT_VERSION (docs/project-format.md,
    "Versions"). A block file's top object goes through here too."""
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
    for step in range(version, FORMAT_VERSION):
        data = _MIGRATIONS[step](data)
    return data


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Format 2 added the project's composite blocks (`definitions`); a format-1 project has none."""
    if "definitions" in data:  # not a field of format 1: a typo, or a newer file whose version was lowered
        raise ProjectError("definitions", "unknown field in a format-1 file (definitions came with format 2)")
    migrated = _JsonObject({**data, "format_version": 2, "definitions": []})
    migrated.duplicates = getattr(data, "duplicates", ())  # a key given twice is still refused by name
    return migrated


_MIGRATIONS = {1: _migrate_1_to_2}


def _read_graph(value: Any, graph: Graph) -> None:
    """The top graph's nodes and edges into `graph`, which already holds the project's definitions."""
    obj = _object(value, "graph")
    check_keys(obj, "graph", _GRAPH_KEYS, required=_GRAPH_KEYS)
    nodes, edges = _counted_lists(obj, "graph", "a project")
    sizes, _ = _measures(graph.definitions)
    size = _expanded_size(_uses_of_items(nodes), sizes)
    if size > MAX_EXPANDED_NODES:
        raise ProjectError("graph.nodes", _too_many_expanded(size))
    _read_nodes_and_edges(graph, nodes, edges, "graph")


def _counted_lists(obj: dict[str, Any], where: str, holder: str) -> tuple[list[Any], list[Any]]:
    """The `nodes` and `edges` lists of a graph or a definition, refused when longer than a graph may be
    (counted before any item is read: reading is linear, but a file at the size limit could list millions)."""
    nodes = _array(obj["nodes"], f"{where}.nodes")
    edges = _array(obj["edges"], f"{where}.edges")
    if len(nodes) > MAX_NODES:
        raise ProjectError(f"{where}.nodes", f"{len(nodes):,} nodes; {holder} holds at most {MAX_NODES:,}")
    if len(edges) > MAX_EDGES:
        raise ProjectError(f"{where}.edges", f"{len(edges):,} edges; {holder} holds at most {MAX_EDGES:,}")
    return nodes, edges


def _read_nodes_and_edges(graph: Graph, nodes: list[Any], edges: list[Any], where: str) -> None:
    ids: dict[str, int] = {}
    labels: dict[str, int] = {}
    for i, item in enumerate(nodes):
        _read_node(graph, item, f"{where}.nodes", i, ids, labels)
    listed = [_read_edge(graph, item, f"{where}.edges[{i}]") for i, item in enumerate(edges)]
    try:
        graph.connect_all(listed)  # cycles are looked for once, not per edge (quadratic on a long chain)
    except EdgeRefusedError as err:
        at = f"{where}.edges[{err.index}]"
        # A taken input is the edge's `to`; a kind mismatch or a cycle is the edge as a whole.
        raise ProjectError(f"{at}.to" if isinstance(err.error, PortOccupiedError) else at, str(err)) from None


def _read_node(graph: Graph, item: Any, nodes: str, index: int, ids: dict[str, int], labels: dict[str, int]) -> None:
    where = f"{nodes}[{index}]"
    obj = _object(item, where)
    check_keys(obj, where, _NODE_KEYS, required=_NODE_KEYS)

    node_id = _text(obj["id"], f"{where}.id")
    if not is_node_id(node_id):
        raise ProjectError(f"{where}.id", f"expected an id of {ID_RULE} characters, got {_show(node_id)}")
    if node_id in ids:
        raise ProjectError(f"{where}.id", f"duplicate id {_show(node_id)} ({nodes}[{ids[node_id]}] has it too)")

    block = _text(obj["block"], f"{where}.block")
    try:
        spec = graph.block_spec(block)
    except catalogue.UnknownBlockError as err:
        known = [*catalogue.BLOCKS, *(d.name for d in graph.definitions)]
        raise ProjectError(f"{where}.block", str(err) + _did_you_mean(block, known)) from None
    if graph.owner is not None and spec.role != MODEL:
        raise ProjectError(f"{where}.block", f"{block} is not a layer: only layers can go inside a block")

    label = _text(obj["label"], f"{where}.label")
    problem = name_problem(label, "a label")
    if problem:
        raise ProjectError(f"{where}.label", problem)
    if label in labels:
        raise ProjectError(f"{where}.label", f"the label {_show(label)} is already used by {nodes}[{labels[label]}]")

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


# ---- composite definitions ---------------------------------------------------------------------------------


def read_definitions(value: Any, graph: Graph, where: str = "definitions") -> list[str]:
    """Check a `definitions` list (parsed JSON) and add each definition to `graph`, a project's top graph;
    returns their names in list order.

    A definition may use one listed before or after it, or one `graph` already has: each is read after those it
    uses, through the Graph like the top graph's nodes, and they join the graph's definitions in list order
    after its own. Refused with a ProjectError naming the field: more than MAX_DEFINITIONS, a name a block
    already has, a definition that contains itself (directly or through others), nesting deeper than
    MAX_NESTING, a definition larger than MAX_EXPANDED_NODES with its blocks expanded, more than MAX_PORTS
    ports or parameters, and anything wrong inside one. On a refusal `graph` is left as it was.
    """
    items = _array(value, where)
    if len(graph.definitions) + len(items) > MAX_DEFINITIONS:
        own = f" and the project's {len(graph.definitions):,}" if len(graph.definitions) else ""
        raise ProjectError(where, f"{len(items):,} blocks{own}; a project holds at most {MAX_DEFINITIONS:,}")
    heads: list[_Head] = []
    index_of: dict[str, int] = {}
    for i, item in enumerate(items):
        head = _definition_head(graph, item, f"{where}[{i}]")
        if head.name in index_of:
            raise ProjectError(
                f"{where}[{i}].name", f"duplicate name {_show(head.name)} ({where}[{index_of[head.name]}] has it too)"
            )
        index_of[head.name] = i
        heads.append(head)
    uses = {
        head.name: [(j, block) for j, (block, _) in enumerate(_uses_of_items(head.nodes)) if block in index_of]
        for head in heads
    }
    try:
        order = _dependency_order(uses)
    except _CycleError as cycle:
        at = f"{where}[{index_of[cycle.name]}].nodes[{cycle.node}].block"
        raise ProjectError(at, cycle.reason()) from None
    sizes, depths = _measures(graph.definitions)
    for name in order:
        blocks = _uses_of_items(heads[index_of[name]].nodes)
        sizes[name], depths[name] = _expanded_size(blocks, sizes), _depth(blocks, depths)
        at = f"{where}[{index_of[name]}].nodes"
        if depths[name] > MAX_NESTING:
            raise ProjectError(at, f"blocks nest {depths[name]:,} deep in it; blocks nest at most {MAX_NESTING} deep")
        if sizes[name] > MAX_EXPANDED_NODES:
            raise ProjectError(at, _too_many_expanded(sizes[name]))
    before = len(graph.definitions)
    added: list[int] = []
    try:
        for name in order:
            i = index_of[name]
            definition, exposed = _read_definition(graph, heads[i], f"{where}[{i}]")
            graph.add_definition(definition, before + sum(1 for j in added if j < i))
            added.append(i)
            for k, parameter in enumerate(exposed):  # through the Graph, so its rules hold (a name codegen takes)
                try:
                    graph.expose(definition.name, parameter)
                except GraphError as err:
                    raise ProjectError(f"{where}[{i}].exposed[{k}]", str(err)) from None
    except BaseException:
        for i in reversed(added):  # each uses only those added before it, so this order is always allowed
            graph.remove_definition(heads[i].name)
        raise
    return [head.name for head in heads]


@dataclass(frozen=True)
class _Head:
    """A definition's object with its name and node and edge lists checked, before anything is built."""

    name: str
    obj: dict[str, Any]
    nodes: list[Any]
    edges: list[Any]


def _definition_head(graph: Graph, item: Any, where: str) -> _Head:
    obj = _object(item, where)
    check_keys(obj, where, _DEFINITION_KEYS, required=_DEFINITION_KEYS)
    name = _text(obj["name"], f"{where}.name")
    problem = name_problem(name, "a block's name")
    if problem:
        raise ProjectError(f"{where}.name", problem)
    if name in catalogue.BLOCKS or name in graph.definitions:
        raise ProjectError(f"{where}.name", f"a block named {_show(name)} already exists: choose another name")
    nodes, edges = _counted_lists(obj, where, "a block")
    for key in ("inlets", "outlets", "exposed"):
        listed = _array(obj[key], f"{where}.{key}")
        if len(listed) > MAX_PORTS:
            raise ProjectError(f"{where}.{key}", f"{len(listed):,} items; a block has at most {MAX_PORTS}")
    return _Head(name, obj, nodes, edges)


def _read_definition(graph: Graph, head: _Head, where: str) -> tuple[Definition, tuple[Exposed, ...]]:
    """The definition `head` describes, with no parameters yet, and its parameters (exposed once it is added)."""
    inside = Graph(graph.definitions, owner=head.name)
    _read_nodes_and_edges(inside, head.nodes, head.edges, where)
    doc = head.obj["doc"]
    if not isinstance(doc, str):
        raise ProjectError(f"{where}.doc", f"expected a string, got {_show(doc)}")
    if len(doc) > MAX_DOC_CHARS or unencodable_char(doc):
        raise ProjectError(f"{where}.doc", f"expected text of at most {MAX_DOC_CHARS:,} characters, got {_show(doc)}")
    inlets = _read_inlets(inside, head.obj["inlets"], f"{where}.inlets")
    outlets = _read_outlets(inside, head.obj["outlets"], f"{where}.outlets")
    exposed = _read_exposed(inside, head.obj["exposed"], f"{where}.exposed")
    return Definition(head.name, inside, inlets, outlets, (), doc), exposed


def _read_inlets(inside: Graph, items: list[Any], where: str) -> tuple[Inlet, ...]:
    """A composite's inputs: each feeds one or more inner inputs that take a tensor, no inner input twice and
    none an inner edge already feeds."""
    names: dict[str, int] = {}
    fed: dict[tuple[str, str], str] = {}
    inlets = []
    for k, item in enumerate(items):
        at = f"{where}[{k}]"
        obj = _object(item, at)
        check_keys(obj, at, _INLET_KEYS, required=_INLET_KEYS)
        name = _port_name(obj["name"], at, names, k, where)
        targets = _array(obj["targets"], f"{at}.targets")
        if not targets:
            raise ProjectError(f"{at}.targets", "expected at least one [node id, port name]: the inputs it feeds")
        read = []
        for m, target in enumerate(targets):
            there = f"{at}.targets[{m}]"
            node_id, port = _endpoint(target, there)
            node = _inner_node(inside, node_id, there)
            inputs = {p.name: p for p in inside.input_ports(node_id)}
            if port not in inputs:
                raise ProjectError(
                    there, f"{_label(node)} ({node.block}) has no input {_show(port)} ({_ports(list(inputs))})"
                )
            if TENSOR not in inputs[port].accepts:
                raise ProjectError(
                    there,
                    f"{_label(node)}.{port} takes a {' or '.join(sorted(inputs[port].accepts))}; "
                    "a block's inputs carry tensors",
                )
            edge = inside.inputs_of(node_id).get(port)
            if edge is not None:
                source = _label(inside.nodes[edge.src])
                raise ProjectError(
                    there, f"{_label(node)}.{port} is already fed by {source}; an input takes one source"
                )
            if (node_id, port) in fed:
                raise ProjectError(
                    there, f"{_label(node)}.{port} is already fed by {fed[(node_id, port)]}; an input takes one source"
                )
            fed[(node_id, port)] = at
            read.append((node_id, port))
        inlets.append(Inlet(name, tuple(read)))
    return tuple(inlets)


def _read_outlets(inside: Graph, items: list[Any], where: str) -> tuple[Outlet, ...]:
    """A composite's outputs: each passes out one inner output that carries a tensor."""
    names: dict[str, int] = {}
    outlets = []
    for k, item in enumerate(items):
        at = f"{where}[{k}]"
        obj = _object(item, at)
        check_keys(obj, at, _OUTLET_KEYS, required=_OUTLET_KEYS)
        name = _port_name(obj["name"], at, names, k, where)
        node_id = _text(obj["node"], f"{at}.node")
        node = _inner_node(inside, node_id, f"{at}.node")
        port = _text(obj["port"], f"{at}.port")
        outputs = {p.name: p for p in inside.spec(node_id).outputs}
        if port not in outputs:
            raise ProjectError(
                f"{at}.port", f"{_label(node)} ({node.block}) has no output {_show(port)} ({_ports(list(outputs))})"
            )
        if outputs[port].kind != TENSOR:
            raise ProjectError(
                f"{at}.port", f"{_label(node)}.{port} carries a {outputs[port].kind}; a block's outputs carry tensors"
            )
        outlets.append(Outlet(name, node_id, port))
    return tuple(outlets)


def _read_exposed(inside: Graph, items: list[Any], where: str) -> tuple[Exposed, ...]:
    """A composite's parameters: each sets one or more inner parameters, none of them twice, all able to take
    its default (the first one's value inside), and none that decides how many inputs a block has (an
    instance's value would leave inner edges on ports that are gone). Checked here by field; Graph.expose,
    which adds them, checks the rest (a name codegen can take)."""
    names: dict[str, int] = {}
    set_by: dict[tuple[str, str], str] = {}
    exposed = []
    for k, item in enumerate(items):
        at = f"{where}[{k}]"
        obj = _object(item, at)
        check_keys(obj, at, _EXPOSED_KEYS, required=_EXPOSED_KEYS)
        name = _port_name(obj["name"], at, names, k, where)
        targets = _array(obj["targets"], f"{at}.targets")
        if not targets:
            raise ProjectError(f"{at}.targets", "expected at least one [node id, parameter name]: the ones it sets")
        read: list[tuple[str, str]] = []
        for m, target in enumerate(targets):
            there = f"{at}.targets[{m}]"
            node_id, param = _endpoint(target, there, "parameter name")
            node = _inner_node(inside, node_id, there)
            spec = inside.spec(node_id)
            params = [p.name for p in spec.params]
            if param not in params:
                has = f"it has {', '.join(params)}" if params else "it has no parameters"
                raise ProjectError(there, f"{_label(node)} ({node.block}) has no parameter {_show(param)} ({has})")
            if param == spec.variadic:
                raise ProjectError(
                    there,
                    f"{_label(node)}.{param} sets how many inputs it has, so it cannot be a parameter of the block",
                )
            if (node_id, param) in set_by:
                raise ProjectError(there, f"{_label(node)}.{param} is already set by {set_by[(node_id, param)]}")
            if read:
                first_id, first_param = read[0]
                default = inside.nodes[first_id].params[first_param]
                try:
                    spec.param(param).validate(default)
                except ParamError as err:
                    raise ProjectError(
                        there,
                        f"{_label(node)}.{param} cannot take the value of "
                        f"{_label(inside.nodes[first_id])}.{first_param}: {err}",
                    ) from None
            set_by[(node_id, param)] = at
            read.append((node_id, param))
        exposed.append(Exposed(name, tuple(read)))
    return tuple(exposed)


def _port_name(value: Any, at: str, names: dict[str, int], index: int, where: str) -> str:
    """The name of a composite's port or parameter, unique in its list."""
    name = _text(value, f"{at}.name")
    problem = name_problem(name, "a name")
    if problem:
        raise ProjectError(f"{at}.name", problem)
    if name in names:
        raise ProjectError(f"{at}.name", f"duplicate name {_show(name)} ({where}[{names[name]}] has it too)")
    names[name] = index
    return name


def _inner_node(inside: Graph, node_id: str, where: str) -> Node:
    if node_id not in inside.nodes:
        raise ProjectError(where, f"no node inside the block has the id {_show(node_id)}")
    return inside.nodes[node_id]


def _label(node: Node) -> str:
    """A node as a message names it: its label on one line, cut short."""
    return cut(" ".join(node.label.split()))


class _CycleError(Exception):
    """A definition that would contain itself: `name` holds, at node `node`, an instance of `used`, which is
    `name` or holds it; `chain` is the way round, from `name` back to it."""

    def __init__(self, name: str, node: int, used: str, chain: list[str]) -> None:
        super().__init__(name)
        self.name, self.node, self.used, self.chain = name, node, used, chain

    def reason(self) -> str:
        if self.used == self.name:
            return f"{_show(self.name)} cannot go inside itself: a block cannot contain itself"
        way = cut(" › ".join(self.chain))
        return f"{_show(self.used)} cannot go inside {_show(self.name)}, which it contains ({way})"


def _dependency_order(uses: dict[str, list[tuple[int, str]]]) -> list[str]:
    """The names of `uses` (definition -> (node index, definition it holds) for each instance in it) with each
    after those it holds; _CycleError for one that contains itself. Iterative: nesting may be deep."""
    state: dict[str, bool] = {}  # False while its uses are being visited, True once placed
    order: list[str] = []
    for root in uses:
        if root in state:
            continue
        state[root] = False
        stack = [(root, 0)]
        while stack:
            name, k = stack[-1]
            if k == len(uses[name]):
                stack.pop()
                state[name] = True
                order.append(name)
                continue
            stack[-1] = (name, k + 1)
            node, used = uses[name][k]
            if used not in state:
                state[used] = False
                stack.append((used, 0))
            elif not state[used]:  # on the stack: `used` holds `name`, directly or not
                names = [n for n, _ in stack]
                raise _CycleError(name, node, used, [name, *names[names.index(used) :]])
    return order


def _measures(definitions: Definitions) -> tuple[dict[str, int], dict[str, int]]:
    """Each definition's expanded size (its nodes and everything inside its instances, at every depth) and
    nesting depth (1 for one made of catalogue blocks only)."""
    uses = {
        d.name: [(j, n.block) for j, n in enumerate(d.graph.nodes.values()) if n.block in definitions]
        for d in definitions
    }
    sizes: dict[str, int] = {}
    depths: dict[str, int] = {}
    for name in _dependency_order(uses):
        blocks = _uses_of_nodes(definitions[name].graph)
        sizes[name], depths[name] = _expanded_size(blocks, sizes), _depth(blocks, depths)
    return sizes, depths


def _uses_of_items(nodes: list[Any]) -> list[tuple[str, int]]:
    """Each node item's block and how many copies of it run (an instance's `repeat`), as read so far: a block
    that is not a string counts as none and a repeat that is no count as 1 (each is refused when read)."""
    uses = []
    for item in nodes:
        block = item.get("block") if isinstance(item, dict) else None
        params = item.get("params") if isinstance(item, dict) else None
        copies = params.get(REPEAT, 1) if isinstance(params, dict) else 1
        uses.append((block if isinstance(block, str) else "", min(copies, MAX_REPEAT) if _is_int(copies) else 1))
    return uses


def _uses_of_nodes(graph: Graph) -> list[tuple[str, int]]:
    """Each node's block and how many copies of it run (an instance's `repeat`)."""
    return [(node.block, node.params.get(REPEAT, 1)) for node in graph.nodes.values()]


def _expanded_size(uses: list[tuple[str, int]], sizes: dict[str, int]) -> int:
    return sum(1 + max(copies, 1) * sizes.get(block, 0) for block, copies in uses)


def _depth(uses: list[tuple[str, int]], depths: dict[str, int]) -> int:
    return 1 + max((depths.get(block, 0) for block, _ in uses), default=0)


def _too_many_expanded(size: int) -> str:
    return f"{size:,} nodes once the blocks in it are expanded; a project holds at most {MAX_EXPANDED_NODES:,}"


def _unsavable(graph: Graph) -> str | None:
    """Why a file of this project could not be opened again, though the Graph took every edit, or None.

    Its definitions are read back as a file's are, so what no single edit is checked against is found now,
    while the work is in memory: the limits on composites (MAX_DEFINITIONS, MAX_PORTS, MAX_NESTING, a
    definition's expanded size) and a definition's own rules (only layers inside, an inner input fed once).
    Then the network's expanded size (MAX_EXPANDED_NODES)."""
    listed = definitions_to_list(graph.definitions)
    try:
        read_definitions(listed, Graph())
    except ProjectError as err:
        at = _DEFINITION_AT.match(err.field or "")
        return f"in the block {quoted(listed[int(at.group(1))]['name'])}, {err.reason}" if at else err.reason
    sizes, _ = _measures(graph.definitions)
    size = _expanded_size(_uses_of_nodes(graph), sizes)
    return f"the network holds {_too_many_expanded(size)}" if size > MAX_EXPANDED_NODES else None


_DEFINITION_AT = re.compile(r"definitions\[([0-9]+)\]")


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
    check_keys(obj, where, _EDGE_KEYS, required=_EDGE_KEYS)
    src, src_port = _endpoint(obj["from"], f"{where}.from")
    dst, dst_port = _endpoint(obj["to"], f"{where}.to")
    for end, node_id in (("from", src), ("to", dst)):
        if node_id not in graph.nodes:
            raise ProjectError(f"{where}.{end}", f"no node has the id {_show(node_id)}")

    source = graph.node(src)
    outputs = [p.name for p in graph.spec(src).outputs]
    if src_port not in outputs:
        raise ProjectError(
            f"{where}.from", f"{_label(source)} ({source.block}) has no output {_show(src_port)} ({_ports(outputs)})"
        )
    target = graph.node(dst)
    inputs = [p.name for p in graph.input_ports(dst)]
    if dst_port not in inputs:
        raise ProjectError(
            f"{where}.to", f"{_label(target)} ({target.block}) has no input {_show(dst_port)} ({_ports(inputs)})"
        )
    return Edge(src, src_port, dst, dst_port)


def _endpoint(value: Any, where: str, what: str = "port name") -> tuple[str, str]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and v for v in value)):
        raise ProjectError(where, f"expected [node id, {what}], got {_show(value)}")
    return value[0], value[1]


def _ports(names: list[str]) -> str:
    return f"it has {', '.join(names)}" if names else "it has none"


def _read_training(value: Any) -> TrainingSettings:
    obj = _object(value, "training")
    check_keys(obj, "training", _TRAINING_KEYS, required=())
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


def check_keys(obj: dict[str, Any], where: str, allowed: tuple[str, ...], *, required: Iterable[str]) -> None:
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
