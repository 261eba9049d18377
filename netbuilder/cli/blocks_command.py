"""`netbuilder blocks [--json]`: the block catalogue by category, or every block's parameters and ports."""

from __future__ import annotations

import argparse
from typing import Any

from netbuilder.blocks import BLOCKS, by_category
from netbuilder.blocks.spec import BlockSpec, ParamSpec
from netbuilder.cli.exit_codes import OK
from netbuilder.cli.json_output import print_json


def run_blocks(args: argparse.Namespace) -> int:
    groups = by_category()
    if args.json:
        print_json({"blocks": [_block_json(spec) for specs in groups.values() for spec in specs]})
        return OK
    for category, specs in groups.items():
        print(category)
        width = max(len(s.type) for s in specs)
        for spec in specs:
            print(f"  {spec.type.ljust(width)}  {spec.summary}")
        print()
    print(f"{len(BLOCKS)} blocks. `netbuilder blocks --json` gives every parameter and port.")
    return OK


def _block_json(spec: BlockSpec) -> dict[str, Any]:
    return {
        "type": spec.type,
        "category": spec.category,
        "role": spec.role,
        "summary": spec.summary,
        "doc": spec.doc,
        "params": [_param_json(p) for p in spec.params],
        "inputs": [{"name": p.name, "accepts": sorted(p.accepts)} for p in spec.inputs],
        "outputs": [{"name": p.name, "kind": p.kind} for p in spec.outputs],
    }


def _param_json(param: ParamSpec) -> dict[str, Any]:
    facts: dict[str, Any] = {"name": param.name, "kind": param.kind, "default": param.default, "help": param.help}
    for key in ("min", "max"):
        if getattr(param, key) is not None:
            facts[key] = getattr(param, key)
    if param.choices:
        facts["choices"] = list(param.choices)
    if param.lengths:  # how many integers: of an ints value, or of an int_per_dim value given per dimension
        facts["lengths"] = list(param.lengths)
    if param.inferred:
        facts["inferred"] = True
    return facts
