"""The files of an exported project: model.py, train.py (when the graph can train) and requirements.txt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from netbuilder.analysis import Analysis
from netbuilder.atomic_file import write_atomically
from netbuilder.codegen.model_code import CodegenError, ModelCode, generate_model
from netbuilder.codegen.train_script import TORCH_REQUIREMENT, generate_training
from netbuilder.graph import Graph


@dataclass(frozen=True)
class Package:
    """File name -> text, the model it defines, and why train.py is missing when it is."""

    files: dict[str, str]
    model: ModelCode
    training_skipped: str = ""


def generate_package(
    graph: Graph,
    analysis: Analysis,
    *,
    name: str,
    source: str,
    epochs: int,
    batch_size: int,
    val_fraction: float,
    seed: int,
) -> Package:
    """Every file of the export. Raises CodegenError when even the model cannot be generated."""
    model = generate_model(graph, analysis, name=name, source=source)
    files = {"model.py": model.source}
    requirements: tuple[str, ...] = (TORCH_REQUIREMENT,)
    skipped = ""
    if analysis.has_errors(training=True):
        first = next(d for d in analysis.problems(training=True) if d.is_error)
        skipped = f"train.py was not written: {first.message}"
    else:
        try:
            training = generate_training(
                graph,
                analysis,
                model,
                epochs=epochs,
                batch_size=batch_size,
                val_fraction=val_fraction,
                seed=seed,
                source=source,
            )
        except CodegenError as err:
            skipped = f"train.py was not written: {err}"
        else:
            files["train.py"] = training.source
            requirements = training.requirements
    files["requirements.txt"] = "\n".join(requirements) + "\n"
    return Package(files, model, skipped)


def write_package(package: Package, folder: Path) -> list[Path]:
    """Write every file of `package` into `folder` (made if missing), each atomically; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in package.files.items():
        write_atomically(folder / name, text.encode("utf-8"))
        written.append(folder / name)
    return written
