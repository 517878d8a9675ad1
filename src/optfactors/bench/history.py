"""Every `make bench` invocation's table, kept: ``<results>/bench/bench_history.csv`` gains one block of rows
per invocation (its start time, commit and machine beside each measurement). A ratio near its target flips
between invocations on a shared machine, so a target is judged on the median ratio of the last invocations
on the machine of the latest one."""

from __future__ import annotations

import statistics
from pathlib import Path

import pandas as pd

from optfactors.bench.core import meets
from optfactors.run.atomic import atomic_write_text

#: How many invocations a target's verdict takes the median over (the performance issue's protocol).
INVOCATIONS = 3


def stamped(table: pd.DataFrame, invocation: str, commit: str | None, machine: str) -> pd.DataFrame:
    """One invocation's bench.csv with its start time, commit and machine on every row."""
    return table.assign(invocation=invocation, git_commit=commit or "", machine=machine)


def append(block: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Add one `stamped` invocation to the history at ``path``; return the whole history."""
    history = pd.concat([pd.read_csv(path), block], ignore_index=True) if path.exists() else block
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, history.to_csv(index=False))
    return history


def spread(history: pd.DataFrame, invocations: int = INVOCATIONS) -> pd.DataFrame:
    """Per targeted measurement of the last ``invocations`` invocations on the latest one's machine: each
    invocation's ratio (a tuple, oldest first), their median, the target and whether the median meets it. A
    measurement missing from some of those invocations is judged on the ones that have it (``n`` says how
    many)."""
    history = history[history["machine"] == history["machine"].iloc[-1]]
    last = list(dict.fromkeys(history["invocation"]))[-invocations:]
    targeted = history[history["invocation"].isin(last) & history["target"].notna()]
    rows = []
    for (name, batch_size, target), group in targeted.groupby(
        ["name", "batch_size", "target"], sort=False, dropna=False
    ):
        ratios = tuple(float(r) for r in group["ratio"])  # the history is in invocation order
        median = statistics.median(ratios)
        rows.append(
            {
                "name": name,
                "batch_size": batch_size,
                "ratios": ratios,
                "n": len(ratios),
                "median": median,
                "target": target,
                "met": meets(median, target),
            }
        )
    return pd.DataFrame(rows, columns=["name", "batch_size", "ratios", "n", "median", "target", "met"])
