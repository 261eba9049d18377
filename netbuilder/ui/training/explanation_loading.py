"""Explaining the Predict tab's chosen sample, off the window's thread (through a BackgroundTask).

netbuilder.training.run_explainer, and with it torch and captum, is imported by the work itself, on the
task's thread. The first request loads the run again (`RunExplainer`, kept by the tab as an opaque object
and handed to later requests); what comes back is an `Explained`: the explainer and a plain numpy map, or
when the run cannot be loaded, an `ExplanationFailed` whose message is a sentence that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netbuilder.project import Project
from netbuilder.ui.widgets.text import sentence

METHOD_NAMES = {"saliency": "Saliency", "gradcam": "Grad-CAM", "ig": "Integrated gradients"}
METHOD_TIPS = {
    "saliency": "How much each input value moves the class's score: the gradient's size at each pixel or step",
    "gradcam": "Where the chosen convolution's features speak for the class (Grad-CAM), enlarged to the input",
    "ig": "Each input value's share of the class's score, summed along a path from a blank input "
    "(integrated gradients)",
}


class ExplanationFailed(Exception):
    """The explanation could not be made; the message says why, as a sentence the tab shows."""


@dataclass(frozen=True)
class Explained:
    """What one request made: the run's explainer (the same object again after the first) and the map, or
    why this map cannot be made (the explainer is kept: another method or sample may work)."""

    explainer: Any
    heat: Any  # numpy (H, W) for an image, (length,) for a sequence, in [0, 1]; None with a failure
    failure: str = ""


@dataclass(frozen=True)
class ExplanationRequest:
    """What the tab asks for: a method on a validation sample, for a class, at a layer (Grad-CAM)."""

    sample: int
    target: int
    method: str
    node: str | None = None


def load_explainer(project: Project, weights: Path) -> Any:
    """The run's network and validation part, kept for explanations (a RunExplainer)."""
    from netbuilder.training.predict import PredictError, device_for  # torch loads here
    from netbuilder.training.run_explainer import RunExplainer

    try:
        return RunExplainer.load(project, weights, device=device_for(project.training.device))
    except PredictError as err:
        raise ExplanationFailed(sentence(str(err))) from err
    except Exception as err:  # whatever it is, the tab says so rather than staying blank
        raise ExplanationFailed(sentence(f"the run could not be loaded: {type(err).__name__}: {err}")) from err


def explain_sample(explainer: Any, request: ExplanationRequest) -> Explained:
    """The map `request` asks for, from `explainer` (a RunExplainer), or the sentence that says why not."""
    from netbuilder.training.explain import ExplainError
    from netbuilder.training.predict import PredictError

    try:
        heat = explainer.explain(request.sample, request.target, request.method, request.node)
    except (ExplainError, PredictError, IndexError) as err:
        return Explained(explainer, None, sentence(str(err)))
    except Exception as err:  # whatever it is, the tab says so rather than staying blank
        return Explained(explainer, None, sentence(f"the explanation could not be made: {type(err).__name__}: {err}"))
    return Explained(explainer, heat)


def explain_run_sample(project: Project, weights: Path, explainer: Any, request: ExplanationRequest) -> Explained:
    """`explain_sample` with the run's explainer, loading it first when the tab has none yet."""
    return explain_sample(explainer if explainer is not None else load_explainer(project, weights), request)
