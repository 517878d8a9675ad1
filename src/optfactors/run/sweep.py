"""The sweep monitor: a Hydra callback that reports progress and sums a multirun up.

Every job writes its outcome (``outcome.json``: run key, status, error, wall time) into its own output
folder, whichever launcher runs it (in-process, joblib workers, SLURM nodes); the monitor reads those
files, so it needs no shared memory. After each job it logs runs done / total and an estimate of the time
left; at the end it prints the counts per status and the failed runs, and exits with code 1 if any run
failed or was invalid.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from optfactors.run.launch import parallel_jobs
from optfactors.run.record import FINAL_STATUSES

log = logging.getLogger("optfactors.run.sweep")

#: Written into each job's output folder by the entry point: what became of the job.
OUTCOME_FILE = "outcome.json"
PROGRESS_FILE = "sweep.json"
#: A job's outcome: its record's status, skipped (the record was final already), or invalid (bad input).
BAD_STATUSES = ("failed", "invalid")
OUTCOME_STATUSES = (*FINAL_STATUSES, "skipped", *BAD_STATUSES)


def count_jobs(config: DictConfig) -> int | None:
    """Number of jobs the basic sweeper makes from the sweep overrides and ``hydra.sweeper.params``."""
    params = config.hydra.sweeper.get("params") or {}
    overrides = [*config.hydra.overrides.task, *(f"{k}={v}" for k, v in params.items())]
    chosen: dict[str, int] = {}
    try:
        for override in OverridesParser.create().parse_overrides(overrides):
            n = len(list(override.sweep_string_iterator())) if override.is_sweep_override() else 1
            chosen.setdefault(override.get_key_element(), n)  # a command-line value wins over the params
    except Exception:  # a sweep syntax only a sweeper can expand (glob, another sweeper's): no total
        return None
    return math.prod(chosen.values())


def read_outcomes(sweep_dir: Path) -> list[dict[str, Any]]:
    """The outcome of every finished job of the sweep in ``sweep_dir``."""
    return [json.loads(p.read_text()) for p in sorted(sweep_dir.glob(f"*/{OUTCOME_FILE}"))]


def _format_duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def progress_line(outcomes: list[dict[str, Any]], total: int | None, elapsed: float, parallel: int) -> str:
    """``sweep: 3/8 runs done (2 ok, 1 skipped), 1m10s elapsed, about 2m05s left``."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o["status"]] = counts.get(o["status"], 0) + 1
    done = len(outcomes)
    text = f"sweep: {done}/{total if total else '?'} runs done ("
    text += (
        ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f"), {_format_duration(elapsed)} elapsed"
    )
    trained = [
        o["wall_time_s"] for o in outcomes if o["status"] in ("ok", "diverged") and o.get("wall_time_s")
    ]
    if total and trained and done < total:
        left = statistics.mean(trained) * (total - done) / parallel
        text += f", about {_format_duration(left)} left"
    return text


class SweepMonitor(Callback):
    """Progress after every job and a summary with the exit code at the end of a multirun."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        total = count_jobs(config)
        (sweep_dir / PROGRESS_FILE).write_text(json.dumps({"total": total, "start": time.time()}))
        log.info("sweep: %s runs -> %s", total if total else "?", sweep_dir)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        progress_file = sweep_dir / PROGRESS_FILE
        if not progress_file.exists():  # not a multirun
            return
        state = json.loads(progress_file.read_text())
        outcomes = read_outcomes(sweep_dir)
        elapsed = time.time() - state["start"]
        log.info(progress_line(outcomes, state["total"], elapsed, parallel_jobs(config.hydra.launcher)))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        outcomes = read_outcomes(sweep_dir)
        counts = {s: sum(o["status"] == s for o in outcomes) for s in OUTCOME_STATUSES}
        lines = [f"sweep finished: {len(outcomes)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items())]
        lines += [
            f"  {o['status']}: {o.get('run_key') or '(no run key)'}: {o['error']}"
            for o in outcomes
            if o["status"] in BAD_STATUSES
        ]
        print("\n".join(lines), file=sys.stderr)
        if any(counts[s] for s in BAD_STATUSES):
            sys.exit(1)
