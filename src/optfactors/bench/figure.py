"""The benchmark figure: every targeted measurement's ratios over the last invocations, their median against
the target's bound."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import FORMATS
from optfactors.report.style import use_style
from optfactors.run.atomic import atomic_path


def bench_figure(judged: pd.DataFrame) -> Figure:
    """One row per targeted measurement (`history.spread`'s table): each invocation's ratio (small grey
    dots), their median (large dot, green if it meets the target, red if not) joined to the target's bound
    (black tick)."""
    rows = judged.reset_index(drop=True)
    fig = Figure(layout="constrained", figsize=(8, 0.45 * len(rows) + 1.4))
    ax = fig.subplots()
    labels = [
        f"{name}" + (f", batch {int(batch):,}" if pd.notna(batch) else "")
        for name, batch in zip(rows["name"], rows["batch_size"], strict=True)
    ]
    positions = list(range(len(rows)))[::-1]
    for y, row in zip(positions, rows.itertuples(index=False), strict=True):
        bound = float(row.target.split()[1])
        color = "#009E73" if bool(row.met) else "#D55E00"
        ax.plot([bound, row.median], [y, y], color=color, lw=1.5)
        ax.plot(row.ratios, [y] * len(row.ratios), "o", color="0.55", ms=3.5, zorder=3)
        ax.plot(row.median, y, "o", color=color, ms=7, zorder=2)
        ax.plot([bound] * 2, [y - 0.3, y + 0.3], color="black", lw=2)
        ax.annotate(
            f"{row.median:.2f} (target {row.target})",
            (row.median, y),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=7,
        )
    ax.set_yticks(positions, labels, fontsize=7)
    ax.set_xlim(0, 1.15 * max(max(max(r) for r in rows["ratios"]), 3.3))
    ax.set_xlabel(
        f"ratio (grey: each of the last {rows['n'].max()} invocations; large: their median, green if it "
        "meets the target; black: the target's bound)",
        fontsize=8,
    )
    fig.suptitle("make bench: measured ratios against their targets")
    return fig


def save_bench_figure(judged: pd.DataFrame, results: Path) -> list[Path]:
    """Draw `bench_figure` into ``results/figures/bench.png|pdf``; return the files."""
    out = results / "figures"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with use_style():
        fig = bench_figure(judged)
        for fmt, metadata in FORMATS.items():
            paths.append(out / f"bench.{fmt}")
            with atomic_path(paths[-1]) as tmp:
                fig.savefig(tmp, metadata=metadata)
    return paths
