"""The benchmark figure: every measurement with a target, its ratio against the target's bound."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import FORMATS
from optfactors.report.figures.style import use_style


def bench_figure(table: pd.DataFrame) -> Figure:
    """One row per targeted measurement: its ratio (dot, green if met, red if not), joined to the target's
    bound (black tick)."""
    rows = table[table["target"].notna()].reset_index(drop=True)
    fig = Figure(layout="constrained", figsize=(8, 0.45 * len(rows) + 1.4))
    ax = fig.subplots()
    labels = [
        f"{name}" + (f", batch {int(batch):,}" if pd.notna(batch) else "")
        for name, batch in zip(rows["name"], rows["batch_size"], strict=True)
    ]
    positions = list(range(len(rows)))[::-1]
    for y, ratio, target, met in zip(positions, rows["ratio"], rows["target"], rows["met"], strict=True):
        bound = float(target.split()[1])
        color = "#009E73" if bool(met) else "#D55E00"
        ax.plot([bound, ratio], [y, y], color=color, lw=1.5)
        ax.plot(ratio, y, "o", color=color, ms=7)
        ax.plot([bound] * 2, [y - 0.3, y + 0.3], color="black", lw=2)
        ax.annotate(
            f"{ratio:.2f} (target {target})",
            (ratio, y),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=7,
        )
    ax.set_yticks(positions, labels, fontsize=7)
    ax.set_xlim(0, 1.15 * max(rows["ratio"].max(), 3.3))
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
