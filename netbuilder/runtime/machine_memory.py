"""What this machine's memory holds, and whether a network fits in it: the RAM (read without torch), and a
CUDA GPU's memory where torch is already loaded (asking would load it).

The figures of the network come from the analysis (netbuilder.analysis.model_size): a network whose
parameters alone exceed the memory it would live in cannot be built and is refused before anything is
allocated (`ModelTooLarge`); one whose training estimate exceeds it gets a warning, since the estimate is
rough and the system may swap.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from netbuilder.analysis import Analysis
from netbuilder.analysis.model_size import format_bytes
from netbuilder.blocks import catalogue
from netbuilder.project.settings import TrainingSettings

MEMINFO = Path("/proc/meminfo")


class ModelTooLarge(ValueError):
    """The network's parameters alone exceed the memory it would be built in; the message says so and what
    to do. A ValueError, as the other settings that cannot run here are (a device that is not present), so
    the window's run reports its message as it reports theirs."""


def ram_bytes() -> int | None:
    """This machine's RAM and swap, in bytes (None where the system does not say)."""
    try:
        fields = dict(line.split(":", 1) for line in MEMINFO.read_text().splitlines() if ":" in line)
        return sum(int(fields[key].split()[0]) * 1024 for key in ("MemTotal", "SwapTotal"))
    except (OSError, KeyError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return None


def available_ram_bytes() -> int | None:
    """The memory this machine could give a program now without swapping (the kernel's MemAvailable), in
    bytes; None where the system does not say."""
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return None


def device_memory(device: str) -> tuple[str, int | None]:
    """(where, bytes) for a device named as the training setting names it ("cpu", "cuda", "cuda:1", "auto"):
    the RAM for the CPU, the GPU's memory for CUDA when torch is loaded; bytes None when unknown."""
    torch = sys.modules.get("torch")  # never imported here: asking would load it
    # another thread may be importing it right now (the window loads torch in the background): a module still
    # being initialised has no cuda yet, so it counts as not loaded
    loaded = torch is not None and not getattr(getattr(torch, "__spec__", None), "_initializing", False)
    cuda = loaded and device != "cpu" and torch.cuda.is_available()
    if not cuda:
        return "machine's memory", ram_bytes()
    index = int(device.partition(":")[2] or torch.cuda.current_device())
    properties = torch.cuda.get_device_properties(index)
    return f"GPU's memory ({properties.name})", int(properties.total_memory)


def check_weights_fit(weight_bytes: int, device: str = "cpu") -> None:
    """ModelTooLarge when `weight_bytes` of parameters and buffers exceed the device's memory."""
    where, has = device_memory(device)
    if has is not None and weight_bytes > has:
        raise ModelTooLarge(
            f"the network's parameters take {format_bytes(weight_bytes)}, more than this {where}, "
            f"{format_bytes(has)}: make the largest layers smaller (`netbuilder summary` lists them)"
        )


def training_memory_warning(analysis: Analysis, settings: TrainingSettings) -> str | None:
    """One line when training the analysed network with `settings` would need more than its device's memory
    (None when it fits, the memory is unknown, or there is nothing to train); ModelTooLarge when its
    parameters alone do not fit. Asked by `netbuilder train` and the window's Train before a run starts."""
    task = analysis.training_task
    if task is None:
        return None
    size = analysis.size
    check_weights_fit(size.weight_bytes, settings.device)
    where, has = device_memory(settings.device)
    needed = size.training_bytes(settings.batch_size, catalogue.get(task.optimizer).state_per_parameter)
    if has is None or needed <= has:
        return None
    return (
        f"training needs about {format_bytes(needed)} (weights, gradients, {task.optimizer}'s state and the "
        f"activations of a batch of {settings.batch_size}), more than this {where}, {format_bytes(has)}: it "
        "may run out of memory; a smaller batch size or smaller layers need less"
    )
