"""Faults of the machine rather than of the run, and files a fault left unreadable.

A full disk, a folder the run may not write or a read-only file system (`is_resource_error`) stop the run
with one line and no record, a SIGTERM with one line and a ``failed`` record (`one_line_faults`); once the
fault is fixed, the same command continues from the run's last checkpoint. A checkpoint or record that
cannot be read is moved aside as ``<name>.corrupt``, kept for inspection, with one warning line
(`set_aside`), and the run is done again from its last good state.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from lightning.pytorch.utilities.exceptions import SIGTERMException

log = logging.getLogger("optfactors")

#: OSError numbers that say the machine cannot take the run's files: full disk or quota, no permission,
#: read-only file system.
RESOURCE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS})
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
#: Suffix of a file set aside because it could not be read.
CORRUPT_SUFFIX = ".corrupt"

P = ParamSpec("P")
R = TypeVar("R")


def is_resource_error(err: BaseException) -> bool:
    """Whether ``err`` is a full disk, a permission refused or a read-only file system."""
    return isinstance(err, OSError) and err.errno in RESOURCE_ERRNOS


def free_mb(path: str | os.PathLike) -> int:
    """Free space in MiB on the file system of ``path`` (or of its nearest existing folder)."""
    folder = Path(path).absolute()
    while not folder.exists():
        folder = folder.parent
    return shutil.disk_usage(folder).free // 2**20


def resource_error_line(err: OSError) -> str:
    """``optfactors: <path>: no space left on device (0 MB free); the run was not recorded`` (without the
    path and free space if ``err`` names no file)."""
    what = os.strerror(err.errno).lower()
    if err.filename is None:
        return f"optfactors: {what}; the run was not recorded"
    if err.errno in NO_SPACE:
        what += f" ({free_mb(err.filename)} MB free)"
    return f"optfactors: {err.filename}: {what}; the run was not recorded"


#: What a run stopped by SIGTERM says (Lightning's SIGTERMException would exit with code 0).
SIGTERM_LINE = "optfactors: stopped by SIGTERM; the run was recorded as failed, and a rerun continues it"


def one_line_faults(main: Callable[P, R]) -> Callable[P, R]:
    """``main``, but a resource error prints `resource_error_line` and exits with code 1 (a sweep stops there:
    its other runs would meet the same fault), and a SIGTERM prints `SIGTERM_LINE` and exits with 143."""

    @functools.wraps(main)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return main(*args, **kwargs)
        except SIGTERMException:
            print(SIGTERM_LINE, file=sys.stderr)
            sys.exit(128 + signal.SIGTERM)
        except OSError as err:
            if not is_resource_error(err):
                raise
            print(resource_error_line(err), file=sys.stderr)
            sys.exit(1)

    return wrapped


def set_aside(path: Path, err: Exception, then: str) -> None:
    """Move the unreadable ``path`` to ``<path>.corrupt`` and say in one warning line which file, why
    (``err``) and what happens ``then``."""
    corrupt = path.with_name(path.name + CORRUPT_SUFFIX)
    os.replace(path, corrupt)
    log.warning("%s cannot be read (%s): moved to %s; %s", path, reason(err), corrupt.name, then)


def reason(err: BaseException) -> str:
    """``err``'s type and the first sentence of its message, on one line."""
    lines = str(err).strip().splitlines()
    first = lines[0].split(". ")[0] if lines else ""
    return f"{type(err).__name__}: {first}" if first else type(err).__name__
