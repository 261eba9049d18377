"""The end-to-end steps from a project to its files that the command line, the window and the training engine
share, so each is orchestrated once: a project's code package (every file generated with the project's own
name, training settings and starting weights) and that package written to a folder.

Pure, like the packages it joins (analysis, codegen, project): no torch, no Qt, so the window calls it on its
own thread and the engine loads the very train.py it generates. What needs torch comes after it and is
netbuilder.export's: the formats (`export_formats`) and, when `CodeExport.needs_starting_weights`, the
starting weights' file that the package's train.py loads (`write_starting_weights_file`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from netbuilder.analysis import Analysis, analyze
from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.codegen.package import Package, generate_package, write_package
from netbuilder.graph.grouping import expand_all
from netbuilder.project import Project
from netbuilder.project.project_file import project_from_dict, project_to_dict


@dataclass(frozen=True)
class CodeExport:
    """A code package written: the package, the files written, and whether its train.py loads starting
    weights that are still to be written beside it."""

    package: Package
    written: list[Path]
    needs_starting_weights: bool


def expanded_project(project: Project, orientation: Orientation = Orientation.LEFT_TO_RIGHT) -> Project:
    """A copy of `project` with every composite block expanded in place and the result laid out afresh (the
    diagram of the network as it runs); the project itself is left as it is."""
    copy = project_from_dict(project_to_dict(project))
    expand_all(copy.graph)
    for node_id, position in layered_positions(copy.graph, orientation).items():
        copy.graph.move(node_id, position)
    return copy


def package_project(project: Project, *, analysis: Analysis | None = None, weights_format: str = "pt") -> Package:
    """Every file of the project's export, generated from its graph (`analysis`: the graph's, when the caller
    has it), name, file name, training settings and starting weights. CodegenError when even the model cannot
    be generated; `Package.training_skipped` says why a graph that cannot train has no train.py.
    `weights_format` is what predict.py loads: "pt" (train.py's model.pt) or "safetensors"."""
    return generate_package(
        project.graph,
        analysis if analysis is not None else analyze(project.graph),
        name=project.name,
        source=project.path.name if project.path is not None else "",
        **project.training.to_dict(),
        weights_format=weights_format,
        starting_weights=project.weights is not None,
    )


def write_code_package(
    project: Project, folder: Path, *, analysis: Analysis | None = None, weights_format: str = "pt"
) -> CodeExport:
    """The project's code package written into `folder` (made if missing), each file atomically.
    CodegenError when nothing could be generated, OSError when the folder cannot be written."""
    package = package_project(project, analysis=analysis, weights_format=weights_format)
    written = write_package(package, folder)
    return CodeExport(
        package, written, needs_starting_weights="train.py" in package.files and project.weights is not None
    )
