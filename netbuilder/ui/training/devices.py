"""Which CUDA GPUs torch can use here: asked in a BackgroundTask when the Training panel is first shown, which
also loads torch before Train is pressed."""

from __future__ import annotations


def cuda_device_names() -> list[str]:
    """The names of the CUDA GPUs torch can use here (imports torch: call it off the main thread)."""
    import torch

    if not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]


def list_devices_loading_torch() -> list[str]:
    """The CUDA GPU names, empty when there is none or torch cannot tell. It also loads torch, and
    scikit-learn's datasets (the bundled and generated sets' reader), before Train is pressed: the first step
    comes sooner, and the panel then freezes these modules out of garbage collection, which would otherwise
    go through them during the first run (a 90 ms pause of the window)."""
    try:
        names = cuda_device_names()
        import sklearn.datasets  # noqa: F401 - the same for the first dataset
        import torch._dynamo  # noqa: F401 - the first optimizer imports it; here it costs nobody a wait
    except Exception:  # a broken CUDA install: train on the CPU, say nothing here
        names = []
    return names
