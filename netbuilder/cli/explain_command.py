"""`netbuilder explain PROJECT --weights W --input FILE --method gradcam|saliency|ig -o OUT.png`: what a trained
network looks at in one input, as the Predict tab shows it: the map over the image (or, for a sequence, a band
per time step; for a text, its tokens coloured towards the class or against it), written as a picture; the
answer it explains is printed (torch loads only here)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netbuilder.cli.collector import freeze_imports
from netbuilder.cli.exit_codes import OK, PROBLEMS, USAGE
from netbuilder.cli.token_picture import write_token_picture
from netbuilder.heat_colours import heat_rgba
from netbuilder.project import load_project

METHODS = {"saliency": "Saliency", "gradcam": "Grad-CAM", "ig": "Integrated gradients"}
OPACITY = 0.6  # the Predict tab's default
SMALLEST_SIDE = 256  # a small input is written enlarged (an 8x8 digit as 256x256), its pixels kept sharp


def run_explain(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    from netbuilder.training.class_scores import class_probabilities  # torch loads here
    from netbuilder.training.explain import ExplainError
    from netbuilder.training.predict import CLASSIFICATION_KIND, PredictError
    from netbuilder.training.run_explainer import RunExplainer, read_input_files

    freeze_imports()
    try:
        explainer = RunExplainer.load(project, args.weights)
        named = read_input_files(project, args.input, args.weights)
    except PredictError as err:
        print(f"netbuilder: cannot explain with {args.weights}: {err}", file=sys.stderr)
        return PROBLEMS
    name, x = named[0]
    layers = dict((label, node) for node, label in explainer.cam_layers)
    if args.layer is not None and args.layer not in layers:
        offered = ", ".join(layers) or "none in this network"
        print(f"netbuilder: --layer {args.layer}: Grad-CAM can look at {offered}", file=sys.stderr)
        return USAGE
    predictor = explainer.predictor
    output = predictor.model(x.unsqueeze(0).to(predictor.device)).detach().float().cpu()
    if predictor.kind == CLASSIFICATION_KIND:
        probabilities, predicted = class_probabilities(output, predictor.criterion)
        target = _class_index(args.target, predictor.class_names) if args.target is not None else int(predicted[0])
        if target is None:
            print(
                f"netbuilder: --class {args.target}: the classes are {', '.join(predictor.class_names)}",
                file=sys.stderr,
            )
            return USAGE
        answer = f"class {_class_name(target, predictor.class_names)} ({float(probabilities[0, target]):.1%})"
    else:
        target, answer = 0, f"its first output value ({float(output.reshape(-1)[0]):.4g})"
    try:
        heat = explainer.explain_input(x, target, args.method, layers.get(args.layer) if args.layer else None)
    except ExplainError as err:
        print(f"netbuilder: {err}", file=sys.stderr)
        return PROBLEMS
    picture = predictor.pictures(x.unsqueeze(0))[0] if explainer.image else None
    title = f"{METHODS[args.method]} of {name} for {answer}"
    try:
        if explainer.tokens:
            tokens = predictor.decoded(x.unsqueeze(0))[0]
            signed = args.method == "ig"  # integrated gradients keep their sign for tokens; saliency gives sizes
            target_name = _class_name(target, predictor.class_names) if predictor.kind == CLASSIFICATION_KIND else ""
            write_token_picture(args.out, tokens, heat, signed=signed, title=title, target=target_name)
        else:
            _write_png(args.out, picture, heat)
    except OSError as err:
        print(f"netbuilder: cannot write {args.out}: {err.strerror or err}", file=sys.stderr)
        return USAGE
    where = f" at {_layer_label(explainer, layers, args.layer)}" if args.method == "gradcam" else ""
    print(f"{args.out}: {METHODS[args.method]}{where} of {name} for {answer}")
    if len(named) > 1:
        print(f"(the first of {len(named)} inputs; give one file to explain another)")
    return OK


def _class_index(given: str, names: tuple[str, ...]) -> int | None:
    """The class named `given`, or numbered so when the names are not numbers."""
    if given in names:
        return names.index(given)
    return int(given) if given.isdigit() and int(given) < len(names) else None


def _class_name(index: int, names: tuple[str, ...]) -> str:
    return names[index] if index < len(names) else str(index)


def _layer_label(explainer, layers: dict[str, str], chosen: str | None) -> str:
    return chosen if chosen is not None else explainer.cam_layers[-1][1]


def _write_png(path: Path, picture, heat) -> None:
    """The map over the picture (an image), or a band per time step (a sequence), enlarged when small."""
    import numpy
    from PIL import Image

    if picture is None:  # a sequence: a strip, one column per step
        heat = numpy.repeat(heat.reshape(1, -1), max(1, len(heat) // 8), axis=0)
        base = Image.new("RGB", (heat.shape[1], heat.shape[0]), "white")
    else:
        base = Image.fromarray(picture[..., 0] if picture.shape[2] == 1 else picture).convert("RGB")
    overlay = Image.fromarray(heat_rgba(heat, OPACITY), "RGBA").resize(base.size, Image.Resampling.BILINEAR)
    combined = Image.alpha_composite(base.convert("RGBA"), overlay).convert("RGB")
    scale = max(1, SMALLEST_SIDE // max(combined.size))
    if scale > 1:
        combined = combined.resize((combined.width * scale, combined.height * scale), Image.Resampling.NEAREST)
    combined.save(path, format="PNG")
