"""Files that land whole or not at all.

A write goes to a file of the target's own name inside a temporary folder beside the target
(``.<name>.<random>.tmp/<name>``), is flushed to disk, then renamed over the target: a rename within a file
system is atomic, so a reader sees the old file or the new one, never half of one. A write that fails (a full
disk, an exception, Ctrl-C) removes its temporary folder and leaves the target as it was; its OSError names
the target. Only a process killed mid-write leaves its temporary folder behind (`remove_leftovers`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Suffix of the temporary folders.
TMP_SUFFIX = ".tmp"


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A path to write ``path``'s new content to: renamed to ``path`` when the block succeeds, removed when it
    fails. It has ``path``'s name, so a writer that picks the format from the name (``savefig``) writes the
    same bytes as it would to ``path``."""
    path = Path(path)
    folder: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent))
        tmp = folder / path.name
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except OSError as err:
        if err.filename is None or (folder is not None and str(folder) in str(err.filename)):
            err.filename, err.filename2 = str(path), None  # the file the user knows, not the temporary one
        raise
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through `atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def remove_leftovers(path: str | os.PathLike) -> None:
    """Remove the temporary folders that writers of ``path`` killed mid-write left beside it."""
    path = Path(path)
    for folder in path.parent.glob(f".{path.name}.*{TMP_SUFFIX}"):
        shutil.rmtree(folder, ignore_errors=True)


def _fsync(path: Path) -> None:
    """Flush ``path``'s content to disk (before the rename makes it the target)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
