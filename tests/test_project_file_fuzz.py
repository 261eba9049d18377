"""Damaged project files, thousands of kinds: each is either read into a project that saves and reads back to
the same file, or refused with a ProjectError; never another exception, never a project that cannot be saved.

The files are real samples, and two projects built of composite blocks, changed by
tests/project_file_mutations.py. Bounded for CI by NETBUILDER_FUZZ_EXAMPLES (default 150, a few seconds);
benchmarks/fuzz_project_files.py runs 10,000.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netbuilder.analysis import analyze
from netbuilder.project import ProjectError, load_project, project_to_json, save_project
from tests.project_file_mutations import mutated_file

EXAMPLES = int(os.environ.get("NETBUILDER_FUZZ_EXAMPLES", "150"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same files in every run: CI stays deterministic
    database=None,  # and leaves no .hypothesis folder behind
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rng=st.randoms(use_true_random=False))
def test_a_damaged_file_loads_and_round_trips_or_is_refused_with_a_project_error(
    rng: random.Random, tmp_path_factory: object
) -> None:
    folder = Path(tmp_path_factory.mktemp("fuzz"))  # type: ignore[attr-defined]
    path = folder / "damaged.nbproj"
    path.write_bytes(mutated_file(rng))
    try:
        project = load_project(path)
    except ProjectError as err:
        message = str(err)
        assert "\n" not in message and len(message) < 400, message[:500]
        message.encode("utf-8")  # printable as it is
        return
    analyze(project.graph)  # what `netbuilder check` does next
    again = folder / "again.nbproj"
    save_project(project, again)
    assert project_to_json(load_project(again), folder) == again.read_text(encoding="utf-8")
