"""The device a run trains on: its name (the CPU model, kernel instruction set and threads, or the GPU),
the default device, and waiting for its queued work. torch is imported where it is used, so reading a
device name (a claim does) imports no torch."""

from __future__ import annotations

import contextlib
import platform
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else what `platform` knows)."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return cpu


def device_name(device: torch.device) -> str:
    """A human-readable name of the training device: the GPU model, or the CPU model, the instruction set
    torch's kernels use on it (AVX2, AVX512, ...) and the thread count. A CPU's metrics are bit-reproducible
    only where all three agree: the same float32 sums in another vector width round differently."""
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_model()}, {torch.backends.cpu.get_cpu_capability()} ({torch.get_num_threads()} threads)"


def names_a_gpu(name: str) -> bool:
    """Whether a ``device_name`` (a record's ``device``) names a GPU: a CPU's ends with its thread count."""
    return not name.endswith(" threads)")


def default_device() -> torch.device:
    """The first GPU if there is one, else the CPU: where work runs that Lightning does not place (the
    analysis stages), and what a benchmark's timings wait for."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so that wall-clock times measure the work itself."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
