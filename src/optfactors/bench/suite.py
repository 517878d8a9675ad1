"""The test suite's wall time: ``make test``'s pytest command (one process per core, one torch thread each,
the ``slow`` tests left out) run once on the checkout's ``tests/``, against the performance issue's 6
minutes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from optfactors.bench.core import Measurement, compared

#: The performance issue's bound on ``make test`` after the install.
LIMIT_MIN = 6


def checkout_root() -> Path | None:
    """The checkout this package runs from (editable install), if it has its ``tests/`` beside ``src/``."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "tests").is_dir() and (root / "pyproject.toml").is_file() else None


def suite_run(root: Path, workers: str = "auto") -> tuple[float, int]:
    """Wall time (s) and exit status of ``pytest -n <workers>`` in ``root`` as ``make test`` runs it."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPTFACTORS_PROGRESS_BAR": "false"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", workers, "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start, done.returncode


def run(tiny: bool) -> list[Measurement]:
    """The suite's time against ``LIMIT_MIN`` (a failing suite misses it, whatever its time); nothing if
    ``tiny`` (the tests run the tiny bench themselves) or if the package does not run from a checkout."""
    root = None if tiny else checkout_root()
    if root is None:
        return []
    seconds, status = suite_run(root)
    failed = "" if status == 0 else f" (FAILED, exit {status})"
    row = compared(
        f"tests: make test's suite{failed}, ratio to {LIMIT_MIN} min",
        None,
        seconds / 60,
        LIMIT_MIN,
        "min",
        "<= 1",
    )
    return [row if status == 0 else replace(row, met=False)]
