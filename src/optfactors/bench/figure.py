"""The benchmark figure: every measurement with a target, its ratio against the target's bound."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from optfactors.figures import FORMATS
from optfactors.figures.style import use_style


def bench_figure(table: pd.DataFrame) -> Figure:
    """One horizontal bar per targeted measurement (ratio; bound as a tick), green if met, red if not."""
    rows = table[table["target"].notna()].reset_index(drop=True)
    fig = Figure(layout="constrained", figsize=(8, 0.45 * len(rows) + 1.4))
    ax = fig.subplots()
    labels = [
        f"{name}" + (f", batch {int(batch):,}" if pd.notna(batch) else "")
        for name, batch in zip(rows["name"], rows["batch_size"], strict=True)
    ]
    colors = ["#009E73" if met else "#D55E00" for met in rows["met"].astype(bool)]
    positions = range(len(rows))[::-1]
    ax.barh(list(positions), rows["ratio"], color=colors)
    for y, target in zip(positions, rows["target"], strict=True):
        op, bound = target.split()
        ax.plot([float(bound)] * 2, [y - 0.4, y + 0.4], color="black", lw=2)
        ax.annotate(
            target, (float(bound), y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7
        )
    ax.set_yticks(list(positions), labels, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("ratio (black tick: target bound; green met, red missed)")
    fig.suptitle("make bench: measured ratios against their targets")
    return fig


def save_bench_figure(table: pd.DataFrame, results: Path) -> list[Path]:
    """Draw `bench_figure` into ``results/figures/bench.png|pdf``; return the files."""
    out = results / "figures"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with use_style():
        fig = bench_figure(table)
        for fmt, metadata in FORMATS.items():
            paths.append(out / f"bench.{fmt}")
            fig.savefig(paths[-1], metadata=metadata)
    return paths
