"""The project file: graph + training settings <-> versioned JSON (`.nbproj`), saved atomically."""

from netbuilder.project.errors import ProjectError, SettingsError
from netbuilder.project.project import Project
from netbuilder.project.project_file import (
    FORMAT_VERSION,
    SUFFIX,
    copy_project,
    load_project,
    project_from_dict,
    project_to_dict,
    project_to_json,
    save_project,
)
from netbuilder.project.settings import DEVICES, TrainingSettings

__all__ = [
    "DEVICES",
    "FORMAT_VERSION",
    "SUFFIX",
    "Project",
    "ProjectError",
    "SettingsError",
    "TrainingSettings",
    "copy_project",
    "load_project",
    "project_from_dict",
    "project_to_dict",
    "project_to_json",
    "save_project",
]
