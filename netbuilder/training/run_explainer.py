"""A run's trained network, kept while a person asks what it looks at in one validation sample after another.

The Predict tab makes its predictions and lets the network go; once explanations are asked for, a
`RunExplainer` loads the run again (the same `Predictor.load`: the run's weights, the run's validation part)
and keeps it, so each further map costs one attribution, not a reload. It answers in plain numpy.
"""

from __future__ import annotations

from inspect import signature
from pathlib import Path

import numpy
import torch

from netbuilder.codegen.training_loop import VOCABULARY_FILE
from netbuilder.data.loading import DataLoadError
from netbuilder.project import Project
from netbuilder.training.explain import GRADCAM, CamLayer, ExplainError, cam_layers, explain
from netbuilder.training.predict import CLASSIFICATION_KIND, PredictError, Predictor
from netbuilder.training.program import ProgramError, load_program


class RunExplainer:
    """Explanations of a run's answers for its validation samples. Build it with `load`."""

    def __init__(self, predictor: Predictor, labels: dict[str, str]) -> None:
        self.predictor = predictor
        first = self._sample(0) if len(predictor) else None
        self.image = first is not None and first.dim() == 3
        self.sequence = first is not None and first.dim() == 2
        # token indices (a text): integrated gradients keep their sign, towards the class or against it
        self.tokens = first is not None and first.dim() == 1 and not first.is_floating_point()
        # a network that gives one value: ClassScores makes it two scores, its negative first, so the value
        # itself is explained as score 1 (score 0 would turn a signed map's colours round)
        self._one_value = predictor.kind != CLASSIFICATION_KIND and first is not None and self._values(first) == 1
        found = cam_layers(predictor.model, predictor.attributes, first) if self.image else []
        self._cam_layers = {layer.node: layer for layer in found}
        self.cam_layers: tuple[tuple[str, str], ...] = tuple(
            (layer.node, labels.get(layer.node, layer.node)) for layer in found
        )
        """(node id, label) of the layers Grad-CAM can look at, in the model's order: the last is the default."""

    @classmethod
    def load(cls, project: Project, weights_path: Path, *, device: str = "cpu") -> RunExplainer:
        """The run's network with its weights and its validation part; PredictError says what is wrong."""
        predictor = Predictor.load(project, weights_path, device=device)
        return cls(predictor, {node_id: node.label for node_id, node in project.graph.nodes.items()})

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods that fit this network's input: Grad-CAM only for an image with a convolution."""
        return tuple(m for m in ("saliency", GRADCAM, "ig") if m != GRADCAM or self.cam_layers)

    def explain(self, sample: int, target: int, method: str, node: str | None = None) -> numpy.ndarray:
        """The map of `method` for validation sample `sample` and class (or output value) `target`, in [0, 1] at
        the input's resolution (for tokens, integrated gradients in [-1, 1]: negative against the class);
        Grad-CAM at the layer of node `node` (by default the last one offered). ExplainError says why not."""
        return self.explain_input(self._sample(sample), target, method, node)

    def explain_input(self, x: torch.Tensor, target: int, method: str, node: str | None = None) -> numpy.ndarray:
        """`explain` for an input given as the network takes it (scaled as its data), without the batch
        dimension: a file that `netbuilder explain` read."""
        layer: CamLayer | None = None
        if method == GRADCAM:
            if not self.cam_layers:
                raise ExplainError("Grad-CAM needs an image input and a convolution; use saliency instead")
            layer = self._cam_layers.get(node or self.cam_layers[-1][0])
            if layer is None:
                raise ExplainError("that layer is not a convolution with an image output; pick another")
        probability = type(self.predictor.criterion).__name__ == "BCELoss"  # the class rule of class_scores
        if self._one_value:
            target = 1
        return explain(
            self.predictor.model,
            x,
            target,
            method,
            layer=layer,
            single_score_is_probability=probability and self.predictor.kind == CLASSIFICATION_KIND,
            signed=self.tokens,
        )

    @torch.no_grad()
    def _values(self, sample: torch.Tensor) -> int:
        """How many values the network gives for one sample."""
        return self.predictor.model(sample.unsqueeze(0).to(self.predictor.device)).numel()

    def _sample(self, index: int) -> torch.Tensor:
        """Validation sample `index` as the network takes it, without the batch dimension."""
        if not 0 <= index < len(self.predictor):
            raise IndexError(f"validation samples are numbered 0 to {len(self.predictor) - 1}")
        try:
            return self.predictor.validation.take([index])[0][0]
        except DataLoadError as err:
            raise PredictError(str(err)) from None


def read_input_files(project: Project, path: Path, weights: Path) -> list[tuple[str, torch.Tensor]]:
    """(name, input as the network takes it) for a file or folder of files (images, CSV rows, .pt/.npy
    tensors; for a text network .txt files), read and scaled by the project's exported predict.py itself, so
    an input is what the exported package would give the network; a text is indexed by the vocab.json beside
    the run's `weights`. PredictError says why a file cannot be read."""
    try:
        program = load_program(project)
    except ProgramError as err:
        raise PredictError(str(err)) from None
    predict = program.predict_module()
    config = program.config
    try:
        if hasattr(predict, "encode_texts"):  # raw text, split and indexed by train.py's own encode_texts
            vocabulary_file = weights.with_name(VOCABULARY_FILE)
            if not vocabulary_file.is_file():
                raise PredictError(f"this run's vocabulary ({VOCABULARY_FILE}) is not beside its weights; train again")
            vocabulary = predict.read_vocabulary(str(vocabulary_file))
            texts = predict.read_texts(str(path))
            encoded = predict.encode_texts([text for _, text in texts], vocabulary)
            named = list(zip([name for name, _ in texts], encoded, strict=True))
        else:
            columns = (
                [config["dataset"]["feature_columns"]]
                if "feature_columns" in signature(predict.read_inputs).parameters
                else []
            )
            named = predict.read_inputs(str(path), *columns)
        if not named:
            raise PredictError(f"{path}: no readable input in it")
        inputs = torch.stack([x for _, x in named])
        if hasattr(predict, "scale"):  # scaled as train.py scales its data (the training data must be at hand)
            inputs = predict.scale(inputs, config["split"])
    except (SystemExit, DataLoadError) as err:  # predict.py's and the loaders' own words
        raise PredictError(str(err)) from None
    return [(name, x) for (name, _), x in zip(named, inputs, strict=True)]
