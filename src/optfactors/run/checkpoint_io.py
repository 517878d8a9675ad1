"""Checkpoints that land whole or not at all, load without running code, and never block a resume.

`AtomicCheckpointIO` is the Lightning plugin every training run saves and loads its ``last.ckpt`` with:
written through `optfactors.run.atomic.atomic_path` (a full disk or a kill mid-save leaves the previous
checkpoint as it was), read with ``torch.load(weights_only=True)`` (tensors and plain containers only: a
checkpoint from elsewhere cannot run code). The project's checkpoints need nothing beyond what torch allows
by default (model, optimizer and schedule states, the callbacks' states, RNG states).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from optfactors.run.atomic import atomic_path, remove_leftovers
from optfactors.run.faults import CORRUPT_SUFFIX, is_resource_error, set_aside

#: The one checkpoint a run keeps, overwritten at every save.
LAST = "last.ckpt"


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """The checkpoint at ``path``, unpickled with ``weights_only=True``."""
    return torch.load(path, map_location=map_location, weights_only=True)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch checkpoint IO, with atomic saves and ``weights_only`` loads."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None
    ) -> None:
        buffer = io.BytesIO()  # serialised first: torch.save to a full disk raises a RuntimeError, not ENOSPC
        torch.save(checkpoint, buffer)
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getbuffer())

    def load_checkpoint(
        self,
        path: str | os.PathLike,
        map_location: Callable | None = lambda storage, loc: storage,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        return load_checkpoint(path, map_location)


def readable_checkpoint(path: Path, then: str) -> bool:
    """Whether there is a checkpoint at ``path`` that can be read.

    An unreadable one (cut short by a full disk or a kill before saves were atomic, damaged, or pickling code)
    is set aside as ``<name>.corrupt`` with one warning line that says what happens ``then``. A save killed
    mid-write leaves a temporary folder beside ``path``: removed here.
    """
    remove_leftovers(path)
    if not path.is_file():
        return False
    try:
        load_checkpoint(path)
    except Exception as err:
        if is_resource_error(err):
            raise
        set_aside(path, err, then)
        return False
    return True


def resumable_checkpoint(ckpt_dir: Path) -> str | None:
    """``ckpt_dir/last.ckpt`` if it is a `readable_checkpoint`; else None (the run starts from scratch)."""
    path = ckpt_dir / LAST
    return str(path) if readable_checkpoint(path, "the run starts from scratch") else None


def remove_checkpoints(ckpt_dir: Path) -> None:
    """Delete ``ckpt_dir`` with its checkpoints, but keep the files set aside in it (``*.corrupt``)."""
    for path in ckpt_dir.glob("*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif not path.name.endswith(CORRUPT_SUFFIX):
            path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        ckpt_dir.rmdir()  # unless it keeps a file set aside
