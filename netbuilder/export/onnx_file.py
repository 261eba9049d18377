"""model.onnx: the network for ONNX runtimes, with a dynamic batch dimension, checked with onnxruntime."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch

from netbuilder.export.checks import check_against_model
from netbuilder.export.subject import EXAMPLE_BATCH, Subject, error_chain

FILE_NAME = "model.onnx"
OPSET = 18  # the torch.export-based exporter's own opset: 17 or newer, as ONNX runtimes of today read
TOLERANCE = 1e-4
# Sizes other than the example's prove the batch is dynamic; not 1, which a BatchNorm without running statistics
# refuses even in eval (it normalises over the batch) though the model works at every other size.
CHECKED_BATCHES = (EXAMPLE_BATCH + 1, EXAMPLE_BATCH + 3)
QUIET = 4  # onnxruntime's log severity: fatal only (its coloured warnings are not the user's; refusals raise)


def write_onnx(subject: Subject, path: Path) -> None:
    """Export with torch.onnx (torch.export underneath), then run the file with onnxruntime on two batch
    sizes: each must give the model's outputs within TOLERANCE."""
    batch = torch.export.Dim("batch")
    names = subject.input_names()
    with torch.no_grad(), warnings.catch_warnings():
        # torch.export's notes on its own internals (size checks, LSTM weights) are not the user's to act
        # on; whether the file is right is decided by onnxruntime below
        warnings.simplefilter("ignore")
        exported = torch.export.export(
            subject.model, subject.example_inputs(), dynamic_shapes={name: {0: batch} for name in names}
        )
        try:
            program = torch.onnx.export(exported, input_names=names, opset_version=OPSET, dynamo=True, verbose=False)
        except Exception as err:
            _note_where(err, exported)
            raise
    program.save(str(path))
    _check_with_onnxruntime(subject, path)


def _note_where(err: Exception, exported: torch.export.ExportedProgram) -> None:
    """The exporter names the graph node it could not translate ("node %adaptive_max_pool2d"); add that
    node's stack trace, which passes through a line of the generated forward(), to the error's notes."""
    nodes = {node.name: node for node in exported.graph.nodes}
    text = "\n".join(str(link) for link in error_chain(err))
    for name in re.findall(r"node %(\w+)", text):
        trace = nodes[name].meta.get("stack_trace") if name in nodes else None
        if trace:
            err.add_note(trace)


def _check_with_onnxruntime(subject: Subject, path: Path) -> None:
    from netbuilder.export.consumers import load_consumer  # onnxruntime loads only for this check

    try:
        check_against_model(subject, load_consumer("onnx", path), CHECKED_BATCHES, TOLERANCE, "onnxruntime")
    except Exception as err:  # onnxruntime's own kinds (Fail, InvalidGraph, RuntimeException ...)
        note_refused_node(err, path)
        raise


# onnxruntime names the node it refuses as "Node (node_ConvTranspose_4)" or "... node. Name:'node_conv2d'"
_REFUSED_NODE = re.compile(r"Node \(([^)]+)\)|Name:'([^']+)'")


def note_refused_node(err: Exception, path: Path) -> None:
    """Add to `err`'s notes the stack trace the exporter kept on the ONNX node that onnxruntime names, which
    passes through a line of the generated forward() (so the report names the layer, as for the exporter's
    own refusals)."""
    import onnx  # read only to find the node: onnxruntime does not give its metadata back

    names = {a or b for a, b in _REFUSED_NODE.findall(str(err))}
    if not names:
        return
    for node in onnx.load(str(path)).graph.node:
        if node.name in names:
            trace = next((p.value for p in node.metadata_props if p.key == "pkg.torch.onnx.stack_trace"), None)
            if trace:
                err.add_note(trace)
