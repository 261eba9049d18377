"""CUDA started in the background while the data is prepared on the CPU.

The first use of a GPU in a process creates its context and loads cuBLAS and cuDNN (hundreds of megabytes of
libraries), which takes a good part of a second or more; done on the run's thread, it would come after the data
is read. A run on CUDA starts a thread that does it while the data is prepared, and waits for it before the
data goes to the device. Nothing in it draws a random number or changes a setting, so the run trains exactly as
without it; a failure here is left for the run itself to meet and report.
"""

from __future__ import annotations

import threading

import torch
from torch.nn import functional


class CudaStart:
    """Starting CUDA on `device` in a thread (nothing at all for another device). `join()` waits for it;
    `error` is what went wrong, if anything (the run meets it again, and reports it, when it uses the GPU)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if device.type == "cuda":
            self._thread = threading.Thread(target=self._start, name="CUDA start", daemon=True)
            self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _start(self) -> None:
        try:
            with torch.cuda.device(self.device):
                ones = torch.ones(1, 1, 8, 8, device=self.device, requires_grad=True)
                (ones[0, 0] @ ones[0, 0]).sum().backward()  # cuBLAS: its library and this device's handle
                kernel = torch.ones(1, 1, 3, 3, device=self.device)
                functional.conv2d(ones, kernel, padding=1).sum().backward()  # cuDNN, forward and backward
                torch.cuda.synchronize(self.device)
        except Exception as err:
            self.error = err
