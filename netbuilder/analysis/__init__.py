"""Checking a graph: shape inference over a symbolic batch, counts, and diagnostics with fixes."""

from netbuilder.analysis.analyzer import Analysis, Analyzer, analyze
from netbuilder.analysis.diagnostics import ERROR, WARNING, Diagnostic
from netbuilder.analysis.fixes import AddNode, BypassNode, Fix, InsertNode, SetParam
from netbuilder.analysis.order import topological_order
from netbuilder.analysis.training_task import TrainingTask

__all__ = [
    "ERROR",
    "WARNING",
    "AddNode",
    "Analysis",
    "Analyzer",
    "BypassNode",
    "Diagnostic",
    "Fix",
    "InsertNode",
    "SetParam",
    "TrainingTask",
    "analyze",
    "topological_order",
]
