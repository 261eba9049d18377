"""How big a document may be: numbers no person reaches and no file can pass, and the checks that use them.

They live here, in the lowest package that enforces any of them, so the Graph (which refuses an edit beyond
them) and the project file's reader (which refuses a file beyond them before it builds anything) share one set;
docs/project-format.md ("Limits") says why each number is what it is.
"""

from __future__ import annotations

import re

from netbuilder.quoting import quoted

# A project file is read whole and parsed before anything in it is counted, so its size bounds that time:
# the largest real one (a 500-node ResNet-152 import) is about 0.2 MB, a file at MAX_NODES about 3 MB (5 MB
# with long labels), and 16 MiB parses in about a second on a slow machine.
MAX_FILE_BYTES = 16 * 1024 * 1024

# Nodes in one graph: a ResNet-152 import has about 500; 10,000 loads and checks in well under a second.
MAX_NODES = 10_000

# No node has more than 64 inputs: a Concat at its widest (DenseNet-201 joins 49 tensors, the most of any
# torchvision model) and a composite with MAX_PORTS inlets. An input takes one edge, so no graph within MAX_NODES
# has more edges; a file with more is refused before any edge is looked at (MAX_FILE_BYTES refuses far fewer).
MAX_INPUTS_PER_NODE = 64
MAX_EDGES = MAX_NODES * MAX_INPUTS_PER_NODE

# Composite blocks (definitions) in one project: an imported ResNet or DenseNet has a handful, a project a person
# builds a few dozen at most; each is read like a graph of its own, so their number bounds reading time.
MAX_DEFINITIONS = 1_000

# Input ports, output ports and exposed parameters of one composite, each: a real block has a few. A block's
# ports and parameters are looked up by name in a list, so an instance of thousands would make every edge and
# parameter of it slow to check.
MAX_PORTS = 64

# How deep composites nest (a block inside a block inside ...): a torchvision model's hierarchy is at most 4
# levels deep. Code that walks a composite's inside calls itself once per level, so this keeps it far below
# Python's recursion limit.
MAX_NESTING = 32

# The network with every composite expanded: each node of a graph, instances included, plus everything inside
# each instance (once per copy of a repeated one), at every depth. Nesting multiplies (10 definitions each
# holding 10 instances of the next is 10**10 nodes in a 20 KB file), and analysis checks every expanded node of
# instances that differ (alike ones are checked once): a quarter to half a second at this limit with every
# instance different (docs/benchmarks.md). Twice a flat graph's MAX_NODES, 40 times a ResNet-152 import.
MAX_EXPANDED_NODES = 2 * MAX_NODES

# A composite's description: a paragraph, not a document.
MAX_DOC_CHARS = 4096

# A label or the project's name: longer than a file name may be (255 bytes), since a new project is named
# after its file, and far longer than anyone types; codegen turns labels into identifiers of any length.
MAX_NAME_CHARS = 256

# A path written in the file (the starting weights'): the longest path Linux accepts (PATH_MAX).
MAX_PATH_CHARS = 4096

# A node id: ASCII letters, digits, '_', '.', '-', starting with a letter or '_', at most 64 characters.
# netbuilder writes n1, n2 ...; the pattern keeps ids printable, encodable and short in every message.
MAX_ID_CHARS = 64
ID_PATTERN = re.compile(rf"[A-Za-z_][A-Za-z0-9_.-]{{0,{MAX_ID_CHARS - 1}}}")
ID_RULE = f"letters, digits, '_', '.' or '-' (ASCII), starting with a letter or '_', at most {MAX_ID_CHARS}"

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def is_node_id(text: str) -> bool:
    """Whether `text` is a valid node id (see ID_PATTERN)."""
    return ID_PATTERN.fullmatch(text) is not None


def unencodable_char(text: str) -> str | None:
    """The first character of `text` that no UTF-8 file can hold (a lone surrogate, which JSON's `\\ud800`
    escapes and some file names produce), or None when all of it can be saved."""
    found = _SURROGATE.search(text)
    return None if found is None else found.group()


def name_problem(text: str, noun: str) -> str | None:
    """Why `text` cannot be `noun` ("a label", "the project's name"): longer than MAX_NAME_CHARS, or holding a
    character no file can save; None when it can be."""
    if len(text) > MAX_NAME_CHARS:
        return f"{noun} is at most {MAX_NAME_CHARS} characters, got {len(text):,}: {quoted(text)}"
    bad = unencodable_char(text)
    if bad:
        return f"{quoted(text)} holds {bad!r}, half of a UTF-16 pair that no file can save; remove it"
    return None
