"""10,000 damaged project files, each read and checked as `netbuilder check` does: none may raise anything but a
ProjectError, none may take 2 s, and every file that loads must save and load back to the same text.

The files are real samples changed by tests/project_file_mutations.py (the fuzz test's generator), file i from
`random.Random(seed + i)`, so a run is reproducible and a file can be made again by its number. Prints the
count, how many loaded, how many were refused, every other outcome (must be none), the slowest file and the
99th percentile of load + analysis. Exit status 1 when anything is wrong.

Run: `.venv/bin/python benchmarks/fuzz_project_files.py [-n 10000] [--seed 0] [--keep DIR]`
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

# The generator lives with the tests, which are a package of the repository, not of the installed netbuilder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netbuilder.analysis import analyze
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
        return run(args.n, args.seed, folder)


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


if __name__ == "__main__":
    sys.exit(main())
