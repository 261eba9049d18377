"""Explanations on the CPU: Grad-CAM (and saliency, integrated gradients) for one 32x32 image on a
ResNet-18-sized network, against a plain forward and backward pass of the same network in the same run.

Budget (issue 14): a Grad-CAM appears within a second on a CPU. The ratio to forward+backward says what
captum adds to the gradient the method needs anyway, so a slow shared machine shifts both sides.
Run: `.venv/bin/python benchmarks/bench_explain.py`.
"""

from __future__ import annotations

import statistics
import time

import torch
from torchvision.models import resnet18

from netbuilder.training.explain import GRADCAM, INTEGRATED_GRADIENTS, SALIENCY, cam_layers, explain


def timed(functions: dict[str, object], repeat: int = 7) -> dict[str, float]:
    """Median seconds of `repeat` runs of each function, taken in turns, so that a burst of load on a shared
    machine falls on all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(times) for name, times in samples.items()}


def main() -> None:
    torch.manual_seed(0)
    model = resnet18(num_classes=10).eval()  # 11.2 M parameters, as the "ResNet-18-sized"
    image = torch.rand(3, 32, 32)
    children = {name: name for name, _ in model.named_children()}
    last_block = cam_layers(model, children, image)[-1]  # layer4, as the Predict tab's default would be

    def forward_backward() -> None:
        x = image.unsqueeze(0).requires_grad_()
        model(x)[0, 3].backward()
        model.zero_grad(set_to_none=True)

    started = time.perf_counter()
    explain(model, image, 3, GRADCAM, layer=last_block)  # the first one imports captum (and matplotlib)
    first = time.perf_counter() - started
    medians = timed(
        {
            "baseline": forward_backward,
            "gradcam": lambda: explain(model, image, 3, GRADCAM, layer=last_block),
            "saliency": lambda: explain(model, image, 3, SALIENCY),
            "integrated": lambda: explain(model, image, 3, INTEGRATED_GRADIENTS),
        }
    )
    baseline, gradcam, saliency, integrated = (
        medians[name] for name in ("baseline", "gradcam", "saliency", "integrated")
    )
    parameters = sum(p.numel() for p in model.parameters())
    print(f"ResNet-18 ({parameters / 1e6:.1f} M parameters), one 3x32x32 image, CPU, {torch.get_num_threads()} threads")
    print(f"forward + backward (baseline)    {baseline * 1000:8.1f} ms")
    where = f"Grad-CAM at {last_block.attribute}"
    print(f"{where:<33}{gradcam * 1000:8.1f} ms   {gradcam / baseline:5.2f}x the baseline")
    print(f"saliency                         {saliency * 1000:8.1f} ms   {saliency / baseline:5.2f}x")
    print(f"integrated gradients (32 steps)  {integrated * 1000:8.1f} ms   {integrated / baseline:5.2f}x")
    print(f"first Grad-CAM of the process    {first * 1000:8.1f} ms   (imports captum)")
    print(f"budget: Grad-CAM under 1 s: {'met' if gradcam < 1.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
