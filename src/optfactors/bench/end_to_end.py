"""End to end: each experiment's run time summed from its run records, each study's sweep time as `make sweep`
logged it (and all of them together), and the peak resident memory of one MNIST (mlp, F1) and one CIFAR-10
(C1) training run (a child process each)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from optfactors.bench.core import Measurement, compared

#: The most memory a quick-profile run may take (the performance issue's bound).
LIMIT_MIB = 4096
#: The performance issue's bounds on the quick profile's wall time: each study, and every study together.
STUDY_LIMIT_MIN, LECTURE_LIMIT_MIN = 20, 60

#: Runs the project's entry point with the given arguments, then prints its peak RSS (KiB): the high-water
#: mark of its own address space (Linux's VmHWM). Not ``getrusage``'s ``ru_maxrss``: Linux keeps that across
#: ``execve``, so a child forked from the bench process reported the bench's own peak (2.6 GiB) for every run.
PEAK_RSS = (
    "import sys\n"
    "from pathlib import Path\n"
    "from optfactors.run.entry import main\n"
    "sys.argv = ['optfactors', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    status = Path('/proc/self/status').read_text().splitlines()\n"
    "    print('PEAK_RSS_KIB', next(ln.split()[1] for ln in status if ln.startswith('VmHWM:')))\n"
)


def experiment_times(results: Path) -> list[Measurement]:
    """Sum of the run records' wall times per experiment with a runs.csv under ``results``."""
    rows = []
    for runs_csv in sorted(results.glob("*/runs.csv")):
        runs = pd.read_csv(runs_csv)
        if "wall_time_s" in runs:
            name = f"end to end: {runs_csv.parent.name}, sum of {len(runs)} run wall times"
            rows.append(Measurement(name, None, float(runs["wall_time_s"].sum()) / 60, "min"))
    return rows


def sweep_times(results: Path, profile: str = "quick") -> list[Measurement]:
    """Each study's wall time at ``profile`` from `make sweep`'s log (``<results>/bench/sweep_times.csv``):
    the sum of its lines at the commit of its latest line (a sweep stopped and resumed adds a line), against
    ``STUDY_LIMIT_MIN``; then the sum over the studies against ``LECTURE_LIMIT_MIN``."""
    log = results / "bench" / "sweep_times.csv"
    if not log.exists():
        return []
    lines = pd.read_csv(log)
    lines = lines[lines["profile"] == profile]
    rows, total, commits = [], 0.0, set()
    for experiment, sweeps in lines.groupby("experiment", sort=True):
        commit = sweeps["git_commit"].iloc[-1]
        minutes = float(sweeps.loc[sweeps["git_commit"] == commit, "wall_time_s"].sum()) / 60
        total, commits = total + minutes, commits | {commit}
        name = f"studies: {experiment} {profile} sweep at {commit}, ratio to {STUDY_LIMIT_MIN} min"
        rows.append(compared(name, None, minutes, STUDY_LIMIT_MIN, "min", "<= 1"))
    if rows:
        name = (
            f"studies: all {len(rows)} {profile} sweeps at {', '.join(sorted(commits))}, "
            f"ratio to {LECTURE_LIMIT_MIN} min"
        )
        rows.append(compared(name, None, total, LECTURE_LIMIT_MIN, "min", "<= 1"))
    return rows


def peak_rss(args: list[str]) -> float:
    """Peak resident memory (MiB) of ``optfactors <args>`` run in a child process."""
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, *args], capture_output=True, text=True, check=True)
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("PEAK_RSS_KIB"))
    return int(line.split()[1]) / 1024


def run(results: Path, tiny: bool) -> list[Measurement]:
    """Experiment and sweep times, then peak memory of a 1-epoch MNIST mlp, MNIST F1 and CIFAR-10 C1 run
    (subsets if ``tiny``)."""
    rows = experiment_times(results) + sweep_times(results)
    subset = 500 if tiny else None
    with tempfile.TemporaryDirectory() as folder:
        for setting, val in (("mnist_mlp", 5000), ("mnist_f1", 5000), ("cifar10_c1", 5000)):
            args = [
                f"setting={setting}",
                "logger=csv",
                "trainer.max_epochs=1",
                f"data.subset={subset if subset else 'null'}",
                f"data.val_size={100 if tiny else val}",
                "checkpoint.every_n_epochs=0",
                f"paths.results={folder}",
                f"hydra.run.dir={folder}/run_{setting}",
            ]
            name = (
                f"memory: peak RSS of one {setting} run (1 epoch, {'500' if tiny else 'all'} training images)"
            )
            rows.append(
                compared(f"{name}, ratio to {LIMIT_MIB:,} MiB", 128, peak_rss(args), LIMIT_MIB, "MiB", "<= 1")
            )
    return rows
