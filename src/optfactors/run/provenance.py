"""Which code a run comes from: the commit, whether the code had uncommitted changes, and the guard that keeps
runs of uncommitted code out of the committed ``results/``.

The state is read once per process (`code_state` is cached), so every record of a sweep names the code the
sweep started with, even if files are edited while it runs. Any tracked file of the checkout counts (the
package, but also ``conf/`` and ``experiments/``, which choose what a run does); changes under ``results/``
are outputs, not code: they do not make the tree dirty.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

#: Set to 1 to let a dirty tree write into the committed results (the records still say ``-dirty``).
ALLOW_DIRTY = "ALLOW_DIRTY"


class DirtyTreeError(RuntimeError):
    """Refusal to write runs of uncommitted code into the committed results folder."""


def _git(where: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=where, capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


def checkout_state(where: Path) -> tuple[Path, str, bool] | None:
    """(checkout root, HEAD commit, tracked files changed outside ``results/``) of the git checkout holding
    ``where``, or None if there is none."""
    try:
        root = Path(_git(where, "rev-parse", "--show-toplevel"))
        commit = _git(where, "rev-parse", "HEAD")
        changes = _git(
            where, "status", "--porcelain", "--untracked-files=no", "--", ":(top)", ":(top,exclude)results"
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return root, commit, bool(changes)


@functools.cache
def code_state() -> tuple[Path, str, bool] | None:
    """:func:`checkout_state` of the checkout this package runs from, read once per process."""
    return checkout_state(Path(__file__).resolve().parent)


def git_commit() -> str | None:
    """The commit of the checkout this package runs from, with ``-dirty`` if its code has changes."""
    state = code_state()
    return None if state is None else state[1] + ("-dirty" if state[2] else "")


def check_results_dir(results_dir: str | os.PathLike) -> None:
    """Raise `DirtyTreeError` if ``results_dir`` is in the checkout's ``results/`` and the code is dirty.

    ``ALLOW_DIRTY=1`` lets it through; a results folder elsewhere (``paths.results=scratch/x``) always may.
    """
    state = code_state()
    if state is None or not state[2] or os.environ.get(ALLOW_DIRTY) == "1":
        return
    committed = (state[0] / "results").resolve()
    target = Path(results_dir).resolve()
    if target == committed or committed in target.parents:
        raise DirtyTreeError(
            f"refusing to write into {committed}: the code has uncommitted changes (git status); "
            f"commit them, or write elsewhere (paths.results=scratch/NAME), or set {ALLOW_DIRTY}=1"
        )
