"""Capturing a node's output for the Predict tab's chosen sample, off the window's thread (a BackgroundTask).

netbuilder.training.feature_maps, and with it torch, is imported by the work itself, on the task's thread. The
first request loads the run again (`FeatureMaps`, its own copy of the network, so a capture never runs while an
explanation's hooks sit on the explainer's), kept by the view as an opaque object and handed to later requests;
what comes back is a `Captured`: that object and a plain numpy `FeatureMap`, or the sentence that says why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netbuilder.project import Project
from netbuilder.ui.widgets.text import sentence


class FeatureMapsFailed(Exception):
    """The run could not be loaded; the message says why, as a sentence the view shows."""


@dataclass(frozen=True)
class FeatureMapRequest:
    """What the view asks for: for validation sample `sample`, the output of the node at `path` (a node of the top
    graph, or the instances of the blocks opened and then a node inside the last)."""

    sample: int
    path: tuple[str, ...]


@dataclass(frozen=True)
class Captured:
    """What one request made: the run's FeatureMaps (the same object again after the first) and the node's
    output, or why it has none (the FeatureMaps are kept: another node or sample may have one)."""

    maps: Any
    feature_map: Any  # a netbuilder.training.feature_maps.FeatureMap (numpy values); None with a failure
    failure: str = ""


def load_feature_maps(project: Project, weights: Path) -> Any:
    """The run's network and validation part, kept for capturing outputs (a FeatureMaps)."""
    from netbuilder.training.feature_maps import FeatureMaps  # torch loads here
    from netbuilder.training.predict import PredictError, device_for

    try:
        return FeatureMaps.load(project, weights, device=device_for(project.training.device))
    except PredictError as err:
        raise FeatureMapsFailed(sentence(str(err))) from err
    except Exception as err:  # whatever it is, the view says so rather than staying blank
        raise FeatureMapsFailed(sentence(f"the run could not be loaded: {type(err).__name__}: {err}")) from err


def capture_sample(maps: Any, request: FeatureMapRequest) -> Captured:
    """The output `request` asks for, from `maps` (a FeatureMaps), or the sentence that says why there is none."""
    from netbuilder.training.feature_maps import FeatureMapError
    from netbuilder.training.predict import PredictError

    try:
        return Captured(maps, maps.capture(request.sample, *request.path))
    except (FeatureMapError, PredictError, IndexError) as err:
        return Captured(maps, None, sentence(str(err)))
    except Exception as err:  # whatever it is, the view says so rather than staying blank
        return Captured(maps, None, sentence(f"the output could not be computed: {type(err).__name__}: {err}"))


def capture_run_sample(project: Project | None, weights: Path, maps: Any, request: FeatureMapRequest) -> Captured:
    """`capture_sample` with the run's FeatureMaps, loading them first when the view has none yet."""
    return capture_sample(maps if maps is not None else load_feature_maps(project, weights), request)
