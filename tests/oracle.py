"""Torch as the oracle for block specs.

A Case is one block with concrete parameters (inferred sizes pinned, to the right value or a wrong one) and
the types arriving at its inputs. `check_case` runs our shape rule, then builds the block exactly as the
generated code would (our constructor text and forward template, executed) and runs torch on random tensors
of those types. Our verdict must equal torch's: valid with the same output shapes and parameter count, or
invalid where torch raises. Auto sizes are checked too: leaving an inferred parameter unset must resolve to
the value that worked.

Case generators live in tests/cases_*.py: each module has GENERATORS = {block_type: fn(rng) -> Case}.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import ShapeError
from netbuilder.blocks.spec import OPTIMIZER, ForwardContext, RuleContext
from netbuilder.blocks.tensor_type import BATCH, LONG, TensorType
from netbuilder.codegen.render import constructor, forward_lines, import_line, literal

BATCH_SIZE = 3


@dataclass
class Case:
    """One block, its parameters (every inferred one pinned) and its input types; `high` bounds int inputs."""

    block: str
    params: dict[str, Any]
    inputs: dict[str, TensorType]
    high: int = 10
    producers: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    """Per port, the range of float values: 'probability' (in [0, 1]) or 'log_probability'; else normal."""


@dataclass
class Verdict:
    valid: bool
    message: str = ""


class Disagreement(AssertionError):
    pass


def ours(case: Case, params: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, TensorType] | None, str]:
    """Our rule on the case: (resolved params, output types or None, error message or joined warnings)."""
    spec = catalogue.get(case.block)
    p = {**spec.defaults(), **(case.params if params is None else params)}
    p = {name: spec.param(name).validate(value) for name, value in p.items()}
    ctx = RuleContext(spec.type, p, case.inputs, case.producers)
    try:
        outputs = spec.infer(ctx)
        return ctx.p, outputs, " / ".join(w.message for w in ctx.warnings)
    except ShapeError as err:
        return ctx.p, None, err.message


def concrete(t: TensorType, high: int, generator: torch.Generator) -> torch.Tensor:
    shape = tuple(BATCH_SIZE if d == BATCH else d for d in t.shape)
    if t.dtype == LONG:
        top = t.classes or high
        values = torch.randint(0, top, shape, generator=generator)
        values.view(-1)[0] = top - 1  # the largest index always occurs, so a too-small output is caught
        return values
    return torch.randn(shape, generator=generator)


def run_torch(case: Case, p: dict[str, Any]) -> tuple[dict[str, tuple[int, ...]], int]:
    """Build the block from our generated code and run it; returns output shapes and parameter count."""
    spec = catalogue.get(case.block)
    generator = torch.Generator().manual_seed(0)
    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "model": nn.Linear(2, 2)}
    call = spec.module.library(p) if spec.module and spec.module.library else None
    if call is not None and call.module != "torch.nn":  # a LibraryModule's class, imported as model.py does
        exec(import_line(call.module, [call.name]), namespace)
    if spec.tensor is not None:  # a learned tensor: the attribute is the output, its values the parameters
        value = eval(spec.tensor(p, literal), namespace)
        if not isinstance(value, nn.Parameter):
            raise Disagreement(f"{case.block} makes a {type(value).__name__}, which training would not change")
        return {spec.outputs[0].name: tuple(value.shape)}, value.numel()
    if spec.module and spec.module.source:  # a class torch lacks, defined in model.py as here
        exec(spec.module.source, namespace)
    module = eval(constructor(spec, p), namespace) if spec.module else None
    if spec.role == OPTIMIZER:
        return {}, 0
    args = {port: f"in_{port}" for port in case.inputs}
    for port, t in case.inputs.items():
        value = concrete(t, case.high, generator)
        kind = case.values.get(port)
        if kind == "probability":
            value = value.sigmoid()
        elif kind == "log_probability":
            value = value.log_softmax(dim=-1)
        namespace[f"in_{port}"] = value
    namespace["block"] = module
    ctx = ForwardContext(p, "block", args, "out", case.inputs)
    exec("\n".join(forward_lines(spec, ctx)), namespace)
    out = namespace["out"]
    port = spec.outputs[0].name
    count = sum(t.numel() for t in module.parameters()) if isinstance(module, nn.Module) else 0
    return {port: tuple(out.shape)}, count


def check_case(case: Case) -> Verdict:
    """Raise Disagreement where our verdict differs from torch's; return ours."""
    spec = catalogue.get(case.block)
    p, outputs, message = ours(case)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            shapes, count = run_torch(case, p)
            torch_error = None
        except Exception as err:  # torch's refusal is the oracle's "invalid"
            torch_error = f"{type(err).__name__}: {err}"
    where = f"{case.block} params={case.params} inputs={ {k: str(v) for k, v in case.inputs.items()} }"
    if outputs is None:
        if torch_error is None:
            raise Disagreement(f"we refuse but torch runs: {where}\n  our message: {message}")
        return Verdict(False, message)
    if torch_error is not None:
        raise Disagreement(f"we accept but torch raises: {where}\n  torch: {torch_error}")
    if any("broadcasting" in str(w.message) for w in caught) and not message:
        raise Disagreement(f"torch warns about broadcasting but we do not: {where}")
    expected = {port: tuple(BATCH_SIZE if d == BATCH else d for d in t.shape) for port, t in outputs.items()}
    if expected != shapes:
        raise Disagreement(f"shapes differ: {where}\n  ours {expected} torch {shapes}")
    our_count = spec.count_params(p, case.inputs, outputs)
    if our_count != count:
        raise Disagreement(f"parameter count differs: {where}\n  ours {our_count} torch {count}")
    _check_auto(case, p, outputs)
    return Verdict(True)


def _check_auto(case: Case, resolved: dict[str, Any], outputs: dict[str, TensorType]) -> None:
    """With every inferred size left on auto, the rule must resolve the same sizes and outputs."""
    spec = catalogue.get(case.block)
    auto = [p.name for p in spec.params if p.inferred]
    if not auto:
        return
    params = {**case.params, **dict.fromkeys(auto)}
    p, auto_outputs, message = ours(case, params)
    if auto_outputs != outputs or any(p[name] != resolved[name] for name in auto):
        raise Disagreement(f"auto sizes disagree with pinned ones for {case.block} {case.params}: {message}")


Generator = Callable[[random.Random], Case]


def collect(
    block: str, generate: Generator, *, seed: int = 0, valid_needed: int = 20, max_tries: int = 600
) -> tuple[int, int]:
    """Run generated cases until `valid_needed` valid ones agreed with torch; returns (valid, invalid)."""
    rng = random.Random(f"{block}-{seed}")
    valid = invalid = 0
    for _ in range(max_tries):
        verdict = check_case(generate(rng))
        if verdict.valid:
            valid += 1
        else:
            invalid += 1
        if valid >= valid_needed and invalid >= min(5, valid_needed):
            break
    return valid, invalid
