"""Making a run's predictions for the Predict tab, off the window's thread (through a BackgroundTask).

netbuilder.training.predict, and with it torch, is imported by the work itself, on the task's thread; what
comes back is the engine's plain numpy `Predictions`, or a `PredictionsFailed` whose message is a sentence
that says what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from netbuilder.project import Project
from netbuilder.ui.widgets.text import sentence


class PredictionsFailed(Exception):
    """The predictions could not be made; the message says why, as a sentence the tab shows."""


def make_predictions(project: Project, weights: Path) -> Any:
    """Load the run's weights into `project`'s network and predict every sample of its validation part."""
    from netbuilder.training.predict import PredictError, Predictor, device_for  # torch loads here

    try:
        predictor = Predictor.load(project, weights, device=device_for(project.training.device))
        return predictor.predict(range(len(predictor)))
    except PredictError as err:
        raise PredictionsFailed(sentence(str(err))) from err
    except Exception as err:  # whatever it is, the tab says so rather than staying empty
        raise PredictionsFailed(sentence(f"the predictions could not be made: {type(err).__name__}: {err}")) from err
