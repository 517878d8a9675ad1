"""``make verify``: rerun the short quick profiles into a scratch folder, compare with the committed tables.

Usage: ``python -m optfactors.verify [--studies S ...] [--results results] [--scratch scratch/verify]``.
Each study is swept with its quick profile into ``--scratch`` (nothing committed is touched), collected, and
its ``runs.csv`` and ``curves.csv`` compared with the committed ones row by row (by run key): every column
exactly, except the ones that measure the machine rather than the result (``IGNORED``). Exact agreement holds
on the device the committed runs had (CPU model, kernel instruction set, threads). On another device float32
rounding moves the numbers, but not what a user can reproduce: the study's claims are decided again on the
rerun and must give the committed verdicts, each effect inside its committed 95 % interval
(``results/verdicts.csv``). One line per study; the exit status is 1 if any study differs, so CI checks
something on every kind of machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optfactors.manifest import studies
from optfactors.report.claims import check_claims
from optfactors.report.load import study_tables
from optfactors.report.markdown import MARKS

#: Columns that say how fast or where a run ran, or at which commit: not compared.
IGNORED = (
    "wall_time_s",
    "time_per_update_s",
    "time_per_epoch_s",
    "epoch_time_s",
    "device",
    "processes",
    "git_commit",
    "finished_at",
)


@dataclass(frozen=True)
class Drift:
    """The first difference found between a committed table and its rerun."""

    table: str
    what: str

    def __str__(self) -> str:
        return f"{self.table}: {self.what}"


def compare_tables(
    committed: pd.DataFrame, rerun: pd.DataFrame, table: str, rtol: float = 0.0
) -> Drift | None:
    """None if ``rerun`` has the same rows (by run key and order within a key) and values as ``committed``.

    Numbers are compared with relative tolerance ``rtol`` (0: exactly); ``IGNORED`` columns are skipped.
    """
    columns = [c for c in committed.columns if c not in IGNORED]
    missing = [c for c in columns if c not in rerun.columns]
    if missing:
        return Drift(table, f"columns missing in the rerun: {', '.join(missing)}")
    extra = [c for c in rerun.columns if c not in committed.columns and c not in IGNORED]
    if extra:
        return Drift(table, f"new columns in the rerun: {', '.join(extra)}")
    old = committed[columns].sort_values("run_key", kind="stable").reset_index(drop=True)
    new = rerun[columns].sort_values("run_key", kind="stable").reset_index(drop=True)
    if len(old) != len(new) or not (old["run_key"] == new["run_key"]).all():
        gone = sorted(set(old["run_key"]) - set(new["run_key"]))
        added = sorted(set(new["run_key"]) - set(old["run_key"]))
        return Drift(
            table,
            f"{len(old)} rows committed, {len(new)} rerun; run keys only committed {gone[:3]}, "
            f"only rerun {added[:3]}",
        )
    for column in columns:
        a, b = old[column], new[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            same = np.isclose(x, y, rtol=rtol, atol=0.0, equal_nan=True)
            if not same.all():
                i = int(np.argmax(~same))
                return Drift(
                    table,
                    f"{column} {x[i]:.7g} committed, {y[i]:.7g} rerun "
                    f"(run {old['run_key'][i]}; {int((~same).sum())} of {len(same)} rows differ)",
                )
        else:
            same = (a.astype(str) == b.astype(str)) | (a.isna() & b.isna())
            if not same.all():
                i = int(np.argmax(~same.to_numpy()))
                return Drift(table, f"{column} {a[i]!r} committed, {b[i]!r} rerun (run {old['run_key'][i]})")
    return None


def compare_study(committed_dir: Path, rerun_dir: Path, rtol: float = 0.0) -> Drift | None:
    """Compare ``runs.csv`` then ``curves.csv`` of one study; None if both are the same."""
    for table in ("runs.csv", "curves.csv"):
        old, new = committed_dir / table, rerun_dir / table
        if not old.is_file():
            return Drift(table, f"nothing committed at {old}")
        if not new.is_file():
            return Drift(table, "the rerun wrote no table (see its output above)")
        drift = compare_tables(pd.read_csv(old), pd.read_csv(new), table, rtol)
        if drift is not None:
            return drift
    return None


def other_device(committed_dir: Path, rerun_dir: Path) -> str | None:
    """Why a rerun cannot be compared exactly with the committed runs: it ran on another device (another CPU
    model, kernel instruction set or thread count: `optfactors.device.device_name`); None if on the same
    one."""
    try:
        committed, rerun = (
            sorted(set(pd.read_csv(folder / "runs.csv")["device"].dropna()))
            for folder in (committed_dir, rerun_dir)
        )
    except (FileNotFoundError, KeyError):
        return None  # compare_study names what is missing
    if committed == rerun:
        return None
    return f"committed on {' and '.join(committed)}, rerun on {' and '.join(rerun)}"


def compare_verdicts(committed: pd.DataFrame, rerun_dir: Path, study: str) -> Drift | None:
    """None if the claims of ``study`` decided on the rerun's tables give the committed verdicts (rows of
    verdicts.csv) and every effect lies inside its committed interval."""
    tables = study_tables(rerun_dir, study)
    if tables is None:
        return Drift("verdicts", "the rerun wrote no table (see its output above)")
    for claim, result in check_claims(study, *tables):
        rows = committed[committed["claim"] == claim.claim_id]
        if rows.empty:
            return Drift("verdicts", f"{claim.claim_id}: no committed verdict (make report)")
        old, new = rows["claim_verdict"].iloc[0], MARKS[result.reproduced]
        if old != new:
            return Drift("verdicts", f"{claim.claim_id}: {old} committed, {new} rerun ({result.measured})")
        for effect in result.effects:
            row = rows[rows["label"].fillna("") == effect.label]
            low, high = (row[c].iloc[0] if len(row) else float("nan") for c in ("low", "high"))
            value = effect.decision.effect
            if low < high and not low <= value <= high:  # an exact computation's [x, x] is no noise band
                what = f"{claim.claim_id}: {effect.label or 'effect'} {value:.4g} rerun"
                return Drift("verdicts", f"{what}, outside the committed interval [{low:.4g}, {high:.4g}]")
    return None


def rerun(study: str, scratch: Path) -> int:
    """Sweep ``study``'s quick profile into ``scratch`` and collect its tables there; the exit status."""
    sweep = [
        sys.executable,
        "-m",
        "optfactors",
        "run",
        "-m",
        f"experiment={study}",
        "profile=quick",
        f"paths.results={scratch}",
    ]
    collect = [sys.executable, "-m", "optfactors", "collect", study, "--results", str(scratch)]
    status = subprocess.run(sweep).returncode
    return status or subprocess.run(collect).returncode


def main(argv: list[str] | None = None) -> int:
    """Rerun and compare each study; print one line per study; 1 if any drifted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    short = [s.name for s in studies(verify=True)]  # quick enough to rerun on every CI run (≈ 6 min)
    parser.add_argument(
        "--studies", nargs="+", default=short, help=f"default (manifests' verify): {' '.join(short)}"
    )
    parser.add_argument("--results", type=Path, default=Path("results"), help="the committed results")
    parser.add_argument("--scratch", type=Path, default=Path("scratch/verify"), help="where the reruns go")
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for numbers (0: exact)")
    args = parser.parse_args(argv)
    lines = []
    for study in args.studies:
        scratch = args.scratch / study
        shutil.rmtree(scratch, ignore_errors=True)  # a fresh folder: nothing is skipped as already done
        status = rerun(study, scratch)
        elsewhere = None if status else other_device(args.results / study, scratch / study)
        if elsewhere is not None:  # exact agreement is not expected: the verdicts are compared instead
            committed = pd.read_csv(args.results / "verdicts.csv")
            drift = compare_verdicts(committed[committed["study"] == study], scratch, study)
            same = f"same verdicts, effects within intervals ({elsewhere})"
            lines.append(f"{study}: {same}" if drift is None else f"{study}: differs: {drift} ({elsewhere})")
            continue
        drift = compare_study(args.results / study, scratch / study, args.rtol)
        if status and drift is None:
            drift = Drift("sweep", f"exited with status {status}")
        lines.append(f"{study}: same" if drift is None else f"{study}: differs: {drift}")
    print("\n".join(["", "verify (committed tables vs a rerun at this checkout):", *lines]))
    return int(any(": differs:" in line for line in lines))


if __name__ == "__main__":
    sys.exit(main())
