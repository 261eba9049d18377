"""Hypothesis strategies for what a person types or picks while editing: block parameter values, training
settings, labels, positions, clipboard text. Each value strategy draws `(value, must_refuse)`: values that are
plainly outside what the spec declares must be refused; the rest may still be refused by a block's own check
(a permutation that repeats an axis), so a test accepts either outcome for them but never an untyped error.

SEQUENCE_SETTINGS bounds both sequences for CI. They are shared by the pure edit-sequence test and the editor's
(tests/ui/test_editor_sequences.py).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from netbuilder.blocks.spec import MAX_TEXT, ParamSpec
from netbuilder.project.settings import CHOICE, INTEGER, SettingSpec

# Examples per test: small by default so CI stays fast; NETBUILDER_FUZZ_EXAMPLES=2000 for a long search.
EXAMPLES = int(os.environ.get("NETBUILDER_FUZZ_EXAMPLES", "30"))
SEQUENCE_SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Characters a label may meet on a real keyboard and clipboard: accents, CJK, emoji, combining marks,
# right-to-left overrides, zero-width joiners, control characters, all kinds of white space, and lone
# surrogates (JSON's "\ud800", a file name that is not UTF-8), which no file can hold: the graph refuses them.
_ODD = "é中🙂\u0301\u202e\u200d\u00a0\t\n\x00\x7f\u2028 '\"\\<>&{}[]\ud800\udce9"
_ODD_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)) | st.sampled_from(_ODD), max_size=40)

labels = st.one_of(
    _ODD_TEXT,
    st.sampled_from(["", " ", "\t\n", "conv1", "relu", "fc", "1", "x" * 256, "x" * 2000, "n1", "dataset", "loss"]),
)
"""A label as a person might type or paste it: empty and blank ones must be refused."""

positions = st.tuples(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
"""A point on the canvas (the scene only ever reports finite ones)."""


def _refused(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, bool]]:
    return strategy.map(lambda v: (v, True))


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, bool]]:
    return strategy.map(lambda v: (v, False))


_NOT_NUMBERS = st.sampled_from(["3", "", "abc", [], {}, True, False])
_NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def param_values(spec: ParamSpec) -> st.SearchStrategy[tuple[Any, bool]]:
    """`(value, must_refuse)` for one block parameter, drawn from its kind, range, choices and lengths."""
    low = None if spec.min is None else int(spec.min) if spec.kind in ("int", "ints") else spec.min
    high = None if spec.max is None else int(spec.max) if spec.kind in ("int", "ints") else spec.max
    not_of_its_kind = {"bool": st.sampled_from([0, 1, "true"]), "text": st.sampled_from([3, [], {}, True])}
    wrong: list[st.SearchStrategy[Any]] = [not_of_its_kind.get(spec.kind, _NOT_NUMBERS)]
    if not spec.optional:
        wrong.append(st.none())
    if spec.kind == "int":
        fits = st.integers(low if low is not None else -(10**6), high if high is not None else 10**6)
        wrong.append(st.floats(0.1, 0.9) | _NOT_FINITE)
    elif spec.kind == "float":
        fits = st.floats(low if low is not None else -1e6, high if high is not None else 1e6, allow_nan=False)
        wrong.append(_NOT_FINITE)
    elif spec.kind == "bool":
        fits = st.booleans()
    elif spec.kind == "choice":
        fits = st.sampled_from(spec.choices)
        wrong = [st.text(max_size=10).filter(lambda s: s not in spec.choices), st.integers()]
    elif spec.kind == "ints":
        item = st.integers(low if low is not None else -(10**6), high if high is not None else 10**6)
        fits = st.one_of(*(st.lists(item, min_size=n, max_size=n) for n in spec.lengths)).map(tuple)
        wrong.append(st.lists(item, min_size=max(spec.lengths) + 1, max_size=max(spec.lengths) + 2))
    else:  # text
        fits = st.text(alphabet=st.characters(categories=("L", "N", "P", "Zs", "Cs")), min_size=1, max_size=30)
        wrong.append(st.just("x" * (MAX_TEXT + 1)) | st.just("line\nbreak"))
    if spec.kind in ("int", "ints", "float"):
        wrong.extend(_out_of_range(spec, low, high))
    if spec.optional:
        fits = fits | st.none()
    return st.one_of(_maybe(fits), _maybe(fits), _maybe(fits), _refused(st.one_of(*wrong)))


def _out_of_range(spec: ParamSpec, low: float | None, high: float | None) -> list[st.SearchStrategy[Any]]:
    """Numbers just and far beyond each declared bound (for `ints`, a whole tuple of them)."""

    def shaped(value: float) -> Any:
        return [value] * spec.lengths[0] if spec.kind == "ints" else value

    beyond = []
    if low is not None:
        below = (
            st.integers(int(low) - 1000, math.ceil(low) - 1)
            if spec.kind != "float"
            else st.floats(low - 1000, low, exclude_max=True)
        )
        beyond.append(below.map(shaped))
    if high is not None:
        above = (
            st.integers(int(high) + 1, int(high) + 1000)
            if spec.kind != "float"
            else st.floats(high, high + 1000, exclude_min=True)
        )
        beyond.append(above.map(shaped))
    return beyond


def setting_values(spec: SettingSpec) -> st.SearchStrategy[tuple[Any, bool]]:
    """`(value, must_refuse)` for one training setting, drawn from its declaration."""
    if spec.kind == CHOICE:
        return st.one_of(
            _maybe(st.sampled_from(spec.choices)),
            _refused(st.text(max_size=8).filter(lambda s: s not in spec.choices) | st.none() | st.integers()),
        )
    high = spec.high if spec.high is not None else 10**6
    if spec.kind == INTEGER:
        fits = st.integers(int(spec.low), int(high))
        wrong = st.integers(max_value=int(spec.low) - 1) | st.floats(0.1, 0.9) | _NOT_NUMBERS
    else:
        fits = st.floats(spec.low, high, allow_nan=False)
        wrong = st.floats(max_value=spec.low, exclude_max=True) | _NOT_FINITE | _NOT_NUMBERS
    if spec.high is not None:
        wrong = wrong | st.integers(int(spec.high) + 1, int(spec.high) + 10**6)
    return st.one_of(_maybe(fits), _maybe(fits), _maybe(fits), _refused(wrong))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_NODE_ITEM = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["n1", "a"]) | _JSON,
        "block": st.sampled_from(["Linear", "ReLU", "Nope"]) | _JSON,
        "label": labels | _JSON,
        "params": st.just({}) | st.just({"out_features": -1}) | _JSON,
        "position": positions.map(list) | _JSON,
    },
)

foreign_clipboards = st.one_of(
    st.text(max_size=30),
    _JSON.map(json.dumps),
    st.fixed_dictionaries(
        {
            "nodes": st.lists(_NODE_ITEM | _JSON, max_size=3),
            "edges": st.lists(st.lists(st.sampled_from(["n1", "a", "x", "y"]) | _JSON, max_size=5), max_size=2) | _JSON,
        }
    ).map(json.dumps),
)
"""Text under the clipboard's netbuilder type that no netbuilder copied (another version, another program):
pasting it must be refused with a message, never half done, never a traceback."""
