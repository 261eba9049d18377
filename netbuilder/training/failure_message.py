"""What a failed training step says: the error in one line, with the node of the network that raised it, or
the sample whose reading failed."""

from __future__ import annotations

import linecache
import re
import traceback

from netbuilder.graph import Graph
from netbuilder.runtime.weights import first_line
from netbuilder.training.program import Program


def explain_failure(err: Exception, program: Program, graph: Graph, labels: dict[str, str]) -> str:
    """The error in one line: with the node whose line in the generated forward() raised it (`labels`: the
    model's attributes and the labels of the nodes they hold); where reading a sample failed (the loaders' own
    refusals name the file and say what to do), that sample's error, also when a DataLoader worker raised it
    (torch re-raises it with the worker's whole traceback as its text)."""
    model_file = program.model_module.__file__
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if frame.filename == model_file:
            line = linecache.getline(model_file, frame.lineno)
            found = re.search(r"self\.(\w+)", line) or re.search(r"^\s*(\w+) = ", line)
            if found and found.group(1) in labels:
                node = graph.by_label(labels[found.group(1)])
                return f"{node.label} ({node.block}) failed: {type(err).__name__}: {first_line(err)}"
    kind, text = type(err).__name__, first_line(err)
    if text.startswith("Caught ") and "\nOriginal Traceback" in str(err):  # from a DataLoader worker
        kind, _, text = str(err).strip().splitlines()[-1].partition(": ")
    elif not _read_a_sample(err, program):
        return f"{kind}: {text}"
    # a loader's refusal (a ValueError) says what to do; another error keeps its name
    return text if kind == "ValueError" else f"reading the data: {kind}: {text}"


def _read_a_sample(err: Exception, program: Program) -> bool:
    """Whether `err` was raised while train.py's dataset read a sample (in this process)."""
    script_file = program.script.__file__
    frames = traceback.extract_tb(err.__traceback__)
    return any(frame.filename == script_file and frame.name == "__getitem__" for frame in frames)
