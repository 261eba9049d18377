"""The parts of train.py that fit the step to its device: mixed precision (the autocast type and fp16's gradient
scaler) and the memory layout of a convolutional network's weights and images (channels last on CUDA)."""

from __future__ import annotations

MIXED_PRECISION = '''\
def mixed_precision(precision: str, device: str):
    """The autocast type and the gradient scaler: bf16, or fp16 with a scaler, on CUDA; the CPU trains in fp32."""
    if torch.device(device).type != "cuda":
        return None, None
    amp = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    return amp, torch.amp.GradScaler("cuda") if amp == torch.float16 else None'''


MEMORY_FORMAT = '''\
def memory_format(model: nn.Module, device: str) -> torch.memory_format:
    """How the model's weights and the batches of images lie in memory: channels last (each pixel's channels side
    by side) for a network of 2-d convolutions on CUDA, whose convolutions run fastest so; else as usual."""
    convolutional = any(isinstance(module, nn.Conv2d) for module in model.modules())
    return torch.channels_last if convolutional and torch.device(device).type == "cuda" else torch.contiguous_format'''


def layout_lines(*, images: bool, streamed: bool) -> list[str]:
    """A network of images takes its weights, and the batches in memory, in memory_format()'s layout: once, here."""
    if not images:
        return []
    lines = [
        "    layout = memory_format(model, device)  # channels last for a convolutional network on CUDA",
        "    model = model.to(memory_format=layout)",
    ]
    if not streamed:
        lines.append(
            "    train_x, val_x = train_x.contiguous(memory_format=layout), val_x.contiguous(memory_format=layout)"
        )
    return lines
