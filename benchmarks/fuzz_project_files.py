"""10,000 damaged project files, each read and checked as `netbuilder check` does: none may raise anything but a
ProjectError, none may take 2 s, and every file that loads must save and load back to the same text. Then
files at and beyond the limits (docs/project-format.md, "Limits"), each timed the same way.

The files are real samples changed by tests/project_file_mutations.py (the fuzz test's generator), file i from
`random.Random(seed + i)`, so a run is reproducible and a file can be made again by its number. Prints the
count, how many loaded, how many were refused, every other outcome (must be none), the slowest file and the
99th percentile of load + analysis. Exit status 1 when anything is wrong.

Run: `.venv/bin/python benchmarks/fuzz_project_files.py [-n 10000] [--seed 0] [--keep DIR]`
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The generator lives with the tests, which are a package of the repository, not of the installed netbuilder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netbuilder.analysis import analyze
from netbuilder.graph.limits import MAX_EXPANDED_NODES, MAX_FILE_BYTES, MAX_NESTING, MAX_NODES
from netbuilder.project import ProjectError, load_project, project_to_json, save_project
from tests.project_file_mutations import mutated_file

BUDGET_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="how many files (default 10,000)")
    parser.add_argument("--seed", type=int, default=0, help="file i is made from random.Random(seed + i)")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        failed = run(args.n, args.seed, folder)
        return failed | at_the_limits(folder)


def run(count: int, seed: int, folder: Path) -> int:
    loaded = refused = 0
    failures: list[str] = []
    times: list[tuple[float, int]] = []
    for i in range(count):
        path = folder / f"{i:05d}.nbproj"
        path.write_bytes(mutated_file(random.Random(seed + i)))
        started = time.perf_counter()
        try:
            project = load_project(path)
            analyze(project.graph)
        except ProjectError:
            refused += 1
            times.append((time.perf_counter() - started, i))
            continue
        except Exception as err:  # counting what must never happen is the point
            times.append((time.perf_counter() - started, i))
            failures.append(f"file {i}: {type(err).__name__}: {str(err)[:200]}")
            continue
        times.append((time.perf_counter() - started, i))
        loaded += 1
        again = folder / f"{i:05d}.again.nbproj"
        try:
            save_project(project, again)
            if project_to_json(load_project(again), folder) != again.read_text(encoding="utf-8"):
                failures.append(f"file {i}: saved and loaded back, the text differs")
        except Exception as err:
            failures.append(f"file {i}: round trip: {type(err).__name__}: {str(err)[:200]}")
    times.sort()
    slowest, slowest_file = times[-1]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))][0]
    print(f"files: {count:,} (seed {seed}), in {folder}")
    print(f"loaded and checked: {loaded:,}   refused with ProjectError: {refused:,}   other outcomes: {len(failures)}")
    print(f"load + analysis: slowest {slowest * 1000:.1f} ms (file {slowest_file}), p99 {p99 * 1000:.1f} ms")
    for failure in failures[:20]:
        print("  " + failure)
    return 1 if failures or slowest > BUDGET_S else 0


def at_the_limits(folder: Path) -> int:
    """Load + analysis of files at the node limit (in three orders) and refusals of files beyond the limits."""
    chain = _chain(MAX_NODES)
    nodes, edges = chain["graph"]["nodes"], chain["graph"]["edges"]
    # Each file is made only when its turn comes, so no other case's objects are alive while one is timed (a
    # garbage collection walks every object there is: 312,500 nodes in memory doubled the times).
    cases = [
        (f"{MAX_NODES:,}-node chain", lambda: chain),
        (f"{MAX_NODES:,}-node chain, edges listed from the end", lambda: _with(chain, nodes, edges[::-1])),
        (
            f"{MAX_NODES:,}-node chain, nodes and edges listed from the end",
            lambda: _with(chain, nodes[::-1], edges[::-1]),
        ),
        ("93,000-node chain", lambda: _chain(93_000)),  # as many as fit in the size limit: the longest parse
        ("312,500-node chain", lambda: _chain(312_500)),
        ("a 15 MB unknown block name", lambda: _with(chain, [{**nodes[0], "block": "L" * 15_000_000}], [])),
        # Composites: expanded sizes at and past MAX_EXPANDED_NODES, nesting at MAX_NESTING, and nesting that
        # multiplies (10 definitions each holding 10 instances of the next: 10**10 nodes in a 20 KB file).
        (f"99 instances of a 199-node block ({_expanded(199, 99):,} expanded)", lambda: _composite_chain(199, 99)),
        (f"100 instances of a 199-node block ({_expanded(199, 100):,} expanded)", lambda: _composite_chain(199, 100)),
        (f"blocks nested {MAX_NESTING} deep", lambda: _nested(MAX_NESTING, 1)),
        ("10 blocks, each 10 instances of the next", lambda: _nested(10, 10)),
        ("one byte over the size limit", lambda: " " * (MAX_FILE_BYTES + 1)),
    ]
    worst = 0.0
    print("\n| file | size | outcome | load + analysis, s | CPU s |\n| --- | ---: | --- | ---: | ---: |")
    for name, make in cases:
        made = make()
        data = made.encode() if isinstance(made, str) else json.dumps(made).encode()
        path = folder / "limit.nbproj"
        path.write_bytes(data)
        del made
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        try:
            analyze(load_project(path).graph)
            outcome = "loaded and checked"
        except ProjectError as err:
            outcome = f"refused: {str(err).replace(str(folder), '...')[:70]}"
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        worst = max(worst, seconds)
        print(f"| {name} | {len(data) / 2**20:.1f} MiB | {outcome} | {seconds:.2f} | {cpu:.2f} |")
    return 1 if worst > BUDGET_S else 0


def _with(chain: dict[str, Any], nodes: list[Any], edges: list[Any]) -> dict[str, Any]:
    return {**chain, "graph": {"nodes": nodes, "edges": edges}}


def _chain(nodes: int) -> dict[str, Any]:
    """An Input, then Linear and ReLU in turn: `nodes` nodes, each feeding the next, as a file holds it."""
    items: list[dict[str, object]] = [_node(1, "Input", {"shape": [32], "dtype": "float32"})]
    for i in range(2, nodes + 1):
        items.append(
            _node(i, "Linear", {"in_features": None, "out_features": 32, "bias": True})
            if i % 2
            else _node(i, "ReLU", {})
        )
    edges = [{"from": [f"n{i}", "y" if i > 1 else "x"], "to": [f"n{i + 1}", "x"]} for i in range(1, nodes)]
    return {"format_version": 1, "name": "chain", "graph": {"nodes": items, "edges": edges}, "training": {}}


def _expanded(inner: int, copies: int) -> int:
    """The expanded size of _composite_chain(inner, copies): the Input, and each instance with its inside."""
    size = 1 + copies * (1 + inner)
    assert (size <= MAX_EXPANDED_NODES) == (copies < 100), "the two cases sit at and just past the limit"
    return size


def _composite_chain(inner: int, copies: int) -> dict[str, Any]:
    """An Input and `copies` instances in a chain of one definition, an `inner`-node chain of ReLU and Linear
    whose first Linear's width is exposed. Each instance has its own width, so analysis cannot check one for
    all (alike instances are checked once): the worst case, every expanded node checked."""
    block = _chain(inner + 1)["graph"]  # its Input dropped: the inlet feeds the first Linear
    nodes, edges = block["nodes"][1:], block["edges"][1:]
    top = [_node(1, "Input", {"shape": [32], "dtype": "float32"})]
    top += [{**_node(i, "Block", {"width": 30 + i}), "label": f"block{i}"} for i in range(2, copies + 2)]
    links = [{"from": [f"n{i}", "y" if i > 1 else "x"], "to": [f"n{i + 1}", "x"]} for i in range(1, copies + 1)]
    definition = {
        "name": "Block",
        "doc": "",
        "nodes": nodes,
        "edges": edges,
        "inlets": [{"name": "x", "targets": [[nodes[0]["id"], "x"]]}],
        "outlets": [{"name": "y", "node": nodes[-1]["id"], "port": "y"}],
        "exposed": [{"name": "width", "targets": [[nodes[1]["id"], "out_features"]]}],
    }
    return {
        "format_version": 2,
        "name": "blocks",
        "definitions": [definition],
        "graph": {"nodes": top, "edges": links},
        "training": {},
    }


def _nested(levels: int, copies: int) -> dict[str, Any]:
    """Definition Nest0 holds `copies` instances of Nest1 in a chain, Nest1 of Nest2 ..., the last ReLUs; the top
    graph an Input and one instance of Nest0."""
    definitions = []
    for level in range(levels):
        block = f"Nest{level + 1}" if level + 1 < levels else "ReLU"
        nodes = [{**_node(i, block, {}), "label": f"b{i}"} for i in range(1, copies + 1)]
        definitions.append(
            {
                "name": f"Nest{level}",
                "doc": "",
                "nodes": nodes,
                "edges": [{"from": [f"n{i}", "y"], "to": [f"n{i + 1}", "x"]} for i in range(1, copies)],
                "inlets": [{"name": "x", "targets": [["n1", "x"]]}],
                "outlets": [{"name": "y", "node": f"n{copies}", "port": "y"}],
                "exposed": [],
            }
        )
    top = [_node(1, "Input", {"shape": [8], "dtype": "float32"}), {**_node(2, "Nest0", {}), "label": "net"}]
    edges = [{"from": ["n1", "x"], "to": ["n2", "x"]}]
    return {
        "format_version": 2,
        "name": "nested",
        "definitions": definitions,
        "graph": {"nodes": top, "edges": edges},
        "training": {},
    }


def _node(i: int, block: str, params: dict[str, object]) -> dict[str, object]:
    return {
        "id": f"n{i}",
        "block": block,
        "label": f"{block.lower()}{i}",
        "params": params,
        "position": [i * 150.0, 0.0],
    }


if __name__ == "__main__":
    sys.exit(main())
