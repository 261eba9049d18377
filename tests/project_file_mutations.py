"""Damaged project files, made from real ones: the fuzz test's and the 10,000-file benchmark's one generator.

`mutated_file(rng)` takes a sample project (sample_projects/*.nbproj, and two projects built of composite blocks:
shipped ones, a definition holding two instances of another, exposed parameters, branching inlets, and the
calls a partial import could not map) and
applies one to three mutations chosen
by `rng`: a value replaced by another JSON value (odd text, huge numbers, deep nesting, the wrong type), a key
deleted, renamed, duplicated or added, a node or edge copied, a list emptied or reversed; or, on the text, a
truncation, a flipped byte, a stray escape. Given a `random.Random` it is reproducible from its seed (the
benchmark); given Hypothesis' `st.randoms()` it is driven and shrunk by Hypothesis (the test).
"""

from __future__ import annotations

import json
import random
import re
from functools import cache
from pathlib import Path
from typing import Any

from netbuilder.graph import Graph
from netbuilder.graph.definitions import Definition, Exposed, Inlet, Outlet
from netbuilder.project import Project, project_to_json
from netbuilder.project.block_library import SUFFIX, load_block
from netbuilder.project.import_gaps import ImportGap

SAMPLES = Path(__file__).resolve().parents[1] / "sample_projects"
BLOCKS = Path(__file__).resolve().parents[1] / "resources" / "blocks"

# Text a file may hold where a name belongs: empty, blank, control and format characters, lone and paired
# surrogates (written as JSON escapes below), digits no int() reads, right-to-left marks, long, and names
# that exist elsewhere in the file (a block type, a port, an id, a label).
_TEXTS = [
    "",
    " ",
    "\t\n",
    "\x00",
    "n²",
    "n" + "9" * 5000,
    "n١٢",
    "\u202efc",
    "é",
    "漢字",
    "😀",
    "\ud800",
    "\udfff",
    "a\udc80b",
    "x" * 300,
    "y" * 100_000,
    "Linear",
    "Concat",
    "Dataset",
    "x",
    "y",
    "in9",
    "n1",
    "n2",
    "fc1",
    "data",
    "cpu",
    "auto",
    "fp16",
    "..",
    "/etc/passwd",
    "a.weights.safetensors",
    "__import__('os')",
    "Stage",
    "ResNetBasicBlock",
    "EncoderLayer",
    "in2",
    "planes",
    "out_channels",
    "groups",
    "inputs",
]
_NUMBERS: list[Any] = [
    0,
    -1,
    1,
    2,
    7,
    -(2**31),
    2**31,
    2**63,
    10**400,
    -(10**4000),
    0.5,
    -0.0,
    1e-320,
    1e308,
    1.7976931348623157e308,
    float("nan"),
    float("inf"),
    float("-inf"),
]
_KEYS = [
    *("id", "block", "label", "params", "position", "from", "to", "nodes", "edges", "name", "weights", "epochs", "x"),
    *("definitions", "doc", "inlets", "outlets", "exposed", "targets", "node", "port"),
]


def mutated_file(rng: random.Random) -> bytes:
    """The bytes of one damaged project file (see the module docstring)."""
    name = rng.choice(sorted(_samples()))
    data = json.loads(_samples()[name])
    text_level = rng.random() < 0.2
    for _ in range(rng.randint(1, 3)):
        data = _mutate_value(data, rng) if rng.random() >= 0.1 else _mutate_composites(data, rng)
    text = json.dumps(data, indent=rng.choice([None, 2]), ensure_ascii=rng.random() < 0.5, allow_nan=True)
    if text_level:
        text = _mutate_text(text, rng)
    if rng.random() < 0.1:
        text = _duplicate_a_key(text, rng)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # ensure_ascii=False left a lone surrogate raw: write it as the escape
        return json.dumps(data, ensure_ascii=True, allow_nan=True).encode("utf-8")


@cache
def _samples() -> dict[str, str]:
    found = {path.name: path.read_text(encoding="utf-8") for path in SAMPLES.glob("*.nbproj")}
    found["composite_cnn.nbproj"] = project_to_json(_composite_cnn())
    found["composite_encoder.nbproj"] = project_to_json(_composite_encoder())
    return found


def _composite_cnn() -> Project:
    """Images through a stem, a Stage (a definition holding two ResNetBasicBlocks, its width exposed once for
    both), a ResNetBasicBlockDown and a SqueezeExcitation, to a classifier with its loss and optimizer."""
    project = Project.new("composite cnn")
    g = project.graph
    for block in ("ResNetBasicBlock", "ResNetBasicBlockDown", "SqueezeExcitation"):
        load_block(g, BLOCKS / (block + SUFFIX))
    inside = Graph(g.definitions, owner="Stage")
    first = inside.add_node("ResNetBasicBlock", label="block1", params={"planes": 16}, position=(0.0, 0.0))
    second = inside.add_node("ResNetBasicBlock", label="block2", params={"planes": 16}, position=(220.0, 0.0))
    inside.connect(first.id, "y", second.id, "x")
    g.add_definition(
        Definition(
            "Stage",
            inside,
            (Inlet("x", ((first.id, "x"),)),),
            (Outlet("y", second.id, "y"),),
            (Exposed("planes", ((first.id, "planes"), (second.id, "planes"))),),
            doc="Two basic blocks.",
        )
    )
    data = g.add_node("Dataset", label="data", params={"dataset": "stripes", "classes": 3, "image_size": 16})
    stem = g.add_node("Conv2d", label="stem", params={"out_channels": 16, "padding": 1}, position=(220.0, 0.0))
    stage = g.add_node("Stage", label="stage1", params={"planes": 16}, position=(440.0, 0.0))
    down = g.add_node("ResNetBasicBlockDown", label="down", params={"planes": 32}, position=(660.0, 0.0))
    se = g.add_node(
        "SqueezeExcitation", label="se", params={"channels": 32, "squeeze_channels": 8}, position=(880.0, 0.0)
    )
    pool = g.add_node("AdaptiveAvgPool2d", label="pool", position=(880.0, 150.0))
    flat = g.add_node("Flatten", label="flat", position=(1100.0, 150.0))
    fc = g.add_node("Linear", label="fc", params={"out_features": 3}, position=(1320.0, 150.0))
    loss = g.add_node("CrossEntropy", label="loss", position=(1540.0, 150.0))
    opt = g.add_node("SGD", label="opt", position=(1760.0, 150.0))
    g.connect(data.id, "x", stem.id, "x")
    for a, b in [(stem, stage), (stage, down), (down, se), (se, pool), (pool, flat), (flat, fc)]:
        g.connect(a.id, "y", b.id, "x")
    g.connect(fc.id, "y", loss.id, "input")
    g.connect(data.id, "target", loss.id, "target")
    g.connect(loss.id, "loss", opt.id, "loss")
    project.import_gaps = (  # as an import in part leaves them, so the fuzzer damages them too
        ImportGap("torch.cumsum", "model.py:17: return x.cumsum(1)", "no netbuilder block does this"),
        ImportGap("Tensor.amax", "model.py:20: y = x.amax(1)", "no netbuilder block does this"),
    )
    return project


def _composite_encoder() -> Project:
    """Sequences through two EncoderLayers (attention and an MLP inside) to a mean and a head."""
    project = Project.new("composite encoder")
    g = project.graph
    load_block(g, BLOCKS / ("EncoderLayer" + SUFFIX))
    source = g.add_node("Input", label="tokens", params={"shape": [12, 32]})
    layers = [
        g.add_node("EncoderLayer", label=f"layer{i}", params={"d_model": 32, "nhead": 2}, position=(220.0 * i, 0.0))
        for i in (1, 2)
    ]
    mean = g.add_node("Mean", label="mean", position=(660.0, 0.0))
    head = g.add_node("Linear", label="head", params={"out_features": 4}, position=(880.0, 0.0))
    g.connect(source.id, "x", layers[0].id, "x")
    for a, b in [(layers[0], layers[1]), (layers[1], mean), (mean, head)]:
        g.connect(a.id, "y", b.id, "x")
    return project


# Places no deeper than this are changed: a file's own fields are at most 8 deep, and a change inside a nest of
# 500 lists that an earlier change made would nest past what Python's recursion reaches (in this generator).
_DEEPEST_PLACE = 64


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into `value` (keys and indices) up to _DEEPEST_PLACE deep, the root included."""
    found = [path]
    if len(path) >= _DEEPEST_PLACE:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_places(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_places(item, (*path, index)))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _odd_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9)
    if kind < 3:
        return rng.choice(_TEXTS)
    if kind < 5:
        return rng.choice(_NUMBERS)
    if kind == 5:
        return rng.choice([None, True, False])
    if kind == 6 and depth < 3:
        return [_odd_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == 7 and depth < 3:
        return {rng.choice(_KEYS + _TEXTS[:12]): _odd_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    nested: Any = rng.choice([0, "x"])
    for _ in range(rng.choice([2, 50, 500])):
        nested = [nested]
    return nested


def _mutate_value(data: Any, rng: random.Random) -> Any:
    """One change at a random place in the parsed file; half of the time a place that holds text (ids, labels,
    names, ports: where most readers' mistakes hide)."""
    places = _places(data)
    texts = [place for place in places if isinstance(_get(data, place), str)]
    path = rng.choice(texts if texts and rng.random() < 0.5 else places)
    target = _get(data, path)
    parent = _get(data, path[:-1]) if path else None
    key = path[-1] if path else None
    action = rng.randrange(10)
    if not path:
        return _odd_value(rng) if action == 0 else data
    if action <= 3:  # another value, of any type
        parent[key] = _odd_value(rng)
    elif action == 4:  # the same value, as another type
        parent[key] = rng.choice([[target], str(target)[:200], {"value": target}])
    elif action == 5:  # gone
        del parent[key]
    elif action == 6 and isinstance(parent, dict):  # renamed, or a sibling key added
        parent[rng.choice(_KEYS + _TEXTS[:14])] = parent.pop(key) if rng.random() < 0.5 else _odd_value(rng)
    elif action == 7 and isinstance(parent, list):  # an item copied (duplicate ids, labels, edges)
        parent.insert(rng.randrange(len(parent) + 1), json.loads(json.dumps(target, allow_nan=True)))
    elif action == 8 and isinstance(target, list):
        if rng.random() < 0.5:
            target.reverse()
        else:
            target.clear()
    elif action == 9 and isinstance(target, str) and target:  # an edit inside a name
        at = rng.randrange(len(target) + 1)
        parent[key] = target[:at] + rng.choice(_TEXTS[:14]) + target[at:]
    return data


def _mutate_composites(data: Any, rng: random.Random) -> Any:
    """A change only composites have: the definitions listed in another order, or a node (inside a definition
    or in the graph) made an instance of one of the file's definitions, itself included (a block inside itself,
    a loop of blocks, an instance of a block with other ports and parameters). Else a change as any other."""
    definitions = data.get("definitions") if isinstance(data, dict) else None
    graph = data.get("graph") if isinstance(data, dict) else None
    if not isinstance(definitions, list) or not definitions:
        return _mutate_value(data, rng)
    if rng.random() < 0.3:
        rng.shuffle(definitions)
        return data
    names = [d["name"] for d in definitions if isinstance(d, dict) and isinstance(d.get("name"), str)]
    holders = [d for d in [*definitions, graph] if isinstance(d, dict) and isinstance(d.get("nodes"), list)]
    nodes = [n for holder in holders for n in holder["nodes"] if isinstance(n, dict)]
    if names and nodes:
        rng.choice(nodes)["block"] = rng.choice(names)
    return data


def _mutate_text(text: str, rng: random.Random) -> str:
    """One change to the file's text: cut short, a character changed, a byte-order mark, or something stray
    (an escape, a number no float holds, nesting deeper than any parser recurses)."""
    at = rng.randrange(len(text) + 1)
    action = rng.randrange(4)
    if action == 0:
        return text[:at]
    if action == 1:
        return text[:at] + rng.choice(['"', "{", "]", ",", "\\", "0", "-", "\\u", "\\ud83d"]) + text[at + 1 :]
    if action == 2:
        return "\ufeff" + text
    return text[:at] + rng.choice(["\\ud800", "1e999", "NaN", "Infinity", " " * 1000, "[" * 100_000]) + text[at:]


def _duplicate_a_key(text: str, rng: random.Random) -> str:
    """A `"key": ` repeated with another value, as no JSON writer would but a hand edit might."""
    starts = [found.start() for found in re.finditer('": ', text)]
    if not starts:
        return text
    end = rng.choice(starts)
    begin = text.rfind('"', 0, end)
    return text[:begin] + text[begin : end + 3] + "null, " + text[begin:]
