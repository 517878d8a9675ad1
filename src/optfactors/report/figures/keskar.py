"""Keskar et al. 2017, Table 2: small-batch (SB) vs large-batch (LB) accuracy, measured beside the paper's."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.collect import BATCH_SIZE, ok_runs, seed_std
from optfactors.report.figures import register_figure, register_table
from optfactors.report.figures.style import display_name
from optfactors.report.summaries.keskar import REGIMES, capped_runs, is_capped, sb_lb_summary

#: Table 2 of Keskar et al. (2017): (network, regime) -> (train accuracy %, test accuracy %).
PAPER = {
    ("keskar_f1", "sb"): (99.66, 98.03),
    ("keskar_f1", "lb"): (99.92, 97.81),
    ("keskar_c1", "sb"): (99.89, 80.04),
    ("keskar_c1", "lb"): (99.66, 77.26),
    ("keskar_c2", "sb"): (99.99, 89.24),
    ("keskar_c2", "lb"): (99.99, 87.26),
}


def network_variant(row: pd.Series) -> str:
    """The network with the widths that tell its variants apart: "F1 512x5", "C1 16 filters, dense [128,
    64], dropout 0", "MLP [512, 512]"."""
    name = display_name(row["model"])
    if row["model"] == "keskar_f1":
        return f"{name} {int(row['model.width'])}x{int(row['model.depth'])}"
    if row["model"] == "keskar_c1" and "model.filters" in row and pd.notna(row["model.filters"]):
        filters, dense, dropout = int(row["model.filters"]), row["model.dense"], row["model.dropout"]
        return f"{name} {filters} filters, dense {dense}, dropout {dropout:g}"
    if row["model"] == "mlp":
        return f"{name} {row['model.hidden']}"
    return name


#: The config-group choice naming a search candidate (conf/candidate/), when the runs came through Hydra.
CANDIDATE = "choice.candidate"


def setting_columns(runs: pd.DataFrame) -> pd.DataFrame:
    """Per run, what defines its gap-search setting: dataset, training-set size, network variant,
    optimizer, learning rate, loss target, and the SB and LB batch sizes of its dataset's sizes."""

    def sizes(row: pd.Series, regime: str) -> int:
        return int(row[f"sizes.{row['dataset']}.{regime}"])

    return pd.DataFrame(
        {
            "data": runs["dataset"].map(display_name),
            "train samples": runs["train_samples"].astype(int),
            "network": runs.apply(network_variant, axis=1),
            "optimizer": runs["optimizer"],
            "lr": runs["optimizer.lr"],
            "SB": runs.apply(sizes, axis=1, regime="sb"),
            "LB": runs.apply(sizes, axis=1, regime="lb"),
            "loss target": runs.get("early_stopping.target", pd.Series(np.nan, index=runs.index)),
        },
        index=runs.index,
    )


def candidate_settings(runs: pd.DataFrame) -> pd.DataFrame:
    """:func:`setting_columns` after the search candidate: runs are pooled within a candidate only, since
    candidates may differ in what the columns do not show (e.g. the epoch cap, or the round they ran in)."""
    setting = setting_columns(runs)
    setting.insert(0, "candidate", runs[CANDIDATE].fillna("") if CANDIDATE in runs else "")
    return setting


@register_table("search", "keskar_gap_search")
def search(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Every setting the generalization-gap search tried (conf/candidate/ and LB sizes swept over one), one
    row each: SB and LB each trained until the training loss reached the target or stopped
    improving, on the search seeds; mean train and test accuracy, the gap SB - LB ± its seed standard
    deviation, epochs, how many runs stopped at the epoch cap, and the wall time of the row's runs. Settings
    of one candidate that differ only in LB share their SB runs (an SB run does not use the LB size); a
    setting left before its LB runs shows 0 seeds. The chosen settings are confirmed on other seeds in
    keskar_gap. The commands that made these runs: README.md, "The generalization-gap search"."""
    ok = ok_runs(runs)
    if ok.empty:
        return pd.DataFrame()
    frame = ok.assign(capped=is_capped(ok))
    setting = candidate_settings(ok)
    keys = list(setting.columns)
    full = setting.apply(tuple, axis=1)
    without_lb = setting.drop(columns="LB").apply(tuple, axis=1)
    rows = []
    for values in dict.fromkeys(full):
        lb = frame[(full == values) & (frame["regime"] == "lb")]
        sb_key = tuple(v for k, v in zip(keys, values, strict=True) if k != "LB")
        sb = frame[(without_lb == sb_key) & (frame["regime"] == "sb")]
        if lb.empty and (full[sb.index] != values).all():
            continue  # an SB-only setting is listed once, under its own LB size
        by = {"sb": sb, "lb": lb}
        train = {r: 100 * f["train_eval_acc"].mean() for r, f in by.items()}
        test = {r: 100 * f["test_acc"].mean() for r, f in by.items()}
        gap = test["sb"] - test["lb"]
        gap_std = sum(seed_std(100 * f["test_acc"].std()) ** 2 for f in by.values()) ** 0.5
        both = pd.concat([sb, lb])
        rows.append(
            {
                **dict(zip(keys, values, strict=True)),
                "epochs SB": round(sb["epochs"].mean(), 1),
                "epochs LB": round(lb["epochs"].mean(), 1),
                "capped runs": int(both["capped"].sum()),
                "train SB (%)": round(train["sb"], 2),
                "train LB (%)": round(train["lb"], 2),
                "test SB (%)": round(test["sb"], 2),
                "test LB (%)": round(test["lb"], 2),
                "gap (points)": round(gap, 2),
                "gap std": round(gap_std, 2),
                # Undecided (None) without two seeds in each regime: no spread to compare with.
                "gap > 2 std": bool(gap > 2 * gap_std) if min(len(sb), len(lb)) >= 2 else None,
                "seeds": int(min(len(sb), len(lb))),
                "wall time (min)": round(both["wall_time_s"].sum() / 60, 1),
            }
        )
    return pd.DataFrame(rows)


@register_table("table2", "keskar_gap")
def table2(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Keskar's Table 2 layout: measured train and test accuracy (mean ± std over seeds) beside the paper's,
    with the optimizer, training-set size, batch size, epochs, epoch cap and how many runs stopped at it.
    The paper: Adam, whole training sets, SB 256, LB 10 %, until the training loss stops improving; the
    quick profile uses the settings its search chose (keskar_gap_search): F1 on all of MNIST with plain
    SGD at a fixed rate 0.1, LB 2,048, a narrow C1 on 10,000 CIFAR-10 images with Adam, LB 1,000
    (10 %), SB 64, until the training loss reaches 0.01 or stops improving; BatchNorm is evaluated with
    batch statistics (bn_eval=batch, as the authors' code)."""
    rows = []
    capped = capped_runs(runs)
    for r in sb_lb_summary(runs).itertuples(index=False):
        paper_train, paper_test = PAPER.get((r.model, r.regime), (np.nan, np.nan))
        rows.append(
            {
                "network": f"{display_name(r.model)} ({display_name(r.data)})",
                "optimizer": f"{display_name(r.optimizer)} {r.lr:g}",
                "regime": r.regime.upper(),
                "train samples": int(r.train_samples),
                "batch size": int(r.batch_size),
                "train acc. (%)": f"{r.train_eval_acc_mean:.2f} ± {seed_std(r.train_eval_acc_std):.2f}",
                "paper train (%)": paper_train,
                "test acc. (%)": f"{r.test_acc_mean:.2f} ± {seed_std(r.test_acc_std):.2f}",
                "paper test (%)": paper_test,
                "epochs (mean)": round(r.epochs, 1),
                "epoch cap": int(r.max_epochs),
                "runs at the cap": int(capped.get((r.data, r.model, r.regime), 0)),
                "seeds": int(r.seeds),
            }
        )
    return pd.DataFrame(rows)


@register_figure("keskar_gap", "keskar_gap")
def keskar_gap(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Train and test accuracy of SB and LB per network, the paper's values as black ticks."""
    summary = sb_lb_summary(runs)
    networks = list(dict.fromkeys(summary["model"]))
    fig = Figure(layout="constrained", figsize=(4.2 * max(len(networks), 1) + 1.2, 4.2))
    axes = fig.subplots(1, max(len(networks), 1), squeeze=False)[0]
    for ax, model in zip(axes, networks, strict=False):
        rows = summary[summary["model"] == model].set_index("regime")
        for i, column in enumerate(("train_eval_acc", "test_acc")):
            for j, regime in enumerate(r for r in REGIMES if r in rows.index):
                x = i * 2.6 + j
                row = rows.loc[regime]
                ax.bar(
                    x,
                    row[f"{column}_mean"],
                    yerr=seed_std(row[f"{column}_std"]),
                    capsize=3,
                    color=("#0072B2", "#D55E00")[j],
                    label=regime.upper() if i == 0 else None,
                )
                paper = PAPER.get((model, regime))
                if paper:
                    ax.hlines(
                        paper[i],
                        x - 0.4,
                        x + 0.4,
                        color="black",
                        linewidth=2,
                        label="paper (Adam)" if (i, j) == (0, 0) else None,
                    )
        low = float(np.nanmin(summary[summary["model"] == model][["train_eval_acc_mean", "test_acc_mean"]]))
        ax.set_ylim(max(0.0, low - 10), 100.5)
        ax.set_xticks([0.5, 3.1], ["train", "test"])
        data = rows["data"].iloc[0]
        optimizer = f"{display_name(rows['optimizer'].iloc[0])} {rows['lr'].iloc[0]:g}"
        title = f"{display_name(model)} on {display_name(data)}, {optimizer}"
        ax.set_title(title, loc="left", fontsize="medium")
        ax.set_ylabel("accuracy (%)")
        ax.grid(axis="x", visible=False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper")
    fig.suptitle("Keskar et al. Table 2: small (SB) vs large (LB) batch, train and test accuracy")
    fig.supxlabel(
        "SB and LB with the same optimizer and learning rate (in each title), until the training loss "
        "reaches its target or stops improving; mean ± std over seeds.\n"
        "Black ticks: the paper's values (full data sets; the quick profile trains on subsets, see the "
        "table).",
        x=0.0,
        ha="left",
        fontsize=8.5,
        color="0.35",
    )
    return fig


@register_figure("keskar_gap_search", "keskar_gap_search")
def search_figure(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Left: the test-accuracy gap SB - LB of every setting the search tried, ± twice its seed standard
    deviation (the claim's bar), hollow where a run stopped at the epoch cap. Right: test accuracy against
    batch size at convergence for the settings tried with several LB sizes (mean and range over seeds).
    A setting with one seed has no spread: its bar is only the point. Candidates that differ only in LB
    and ran with the same epoch cap at the same commit share one curve."""
    table = search(runs, curves)
    table = table[table["seeds"] > 0].reset_index(drop=True)
    fig = Figure(layout="constrained", figsize=(12, 0.45 * max(len(table), 4) + 1.6))
    left, right = fig.subplots(1, 2, width_ratios=[1.5, 1])
    labels = [
        f"{r['candidate']}: LB {r['LB']:,} ({r['seeds']} seed{'s' if r['seeds'] > 1 else ''})"
        for _, r in table.iterrows()
    ]
    y = np.arange(len(table))[::-1]
    for yi, (_, row) in zip(y, table.iterrows(), strict=True):
        color = "#009E73" if row["gap > 2 std"] is True else "#999999"
        left.errorbar(
            row["gap (points)"],
            yi,
            xerr=2 * row["gap std"],
            fmt="o",
            color=color,
            mfc="white" if row["capped runs"] else color,
            capsize=3,
        )
    left.axvline(0, color="black", lw=0.8)
    left.set_yticks(y, labels, fontsize="small")
    left.set_xlabel("test accuracy SB - LB (points), ± 2 std over seeds")
    left.set_title("Every setting tried", loc="left")
    left.text(
        0.99,
        0.01,
        "green: gap > 2 std over ≥ 2 seeds\nhollow: a run stopped at the epoch cap",
        transform=left.transAxes,
        ha="right",
        va="bottom",
        fontsize="small",
        color="0.35",
    )
    ok = ok_runs(runs)
    # Pooled across candidates that differ only in LB, when run with the same epoch cap by the same code
    # (their SB runs are then the same trainings).
    setting = setting_columns(ok).assign(cap=ok["trainer.max_epochs"], commit=ok["git_commit"].str[:40])
    lb_sizes = (
        setting[ok["regime"] == "lb"].groupby([c for c in setting.columns if c != "LB"])["LB"].nunique()
    )
    for i, values in enumerate(lb_sizes[lb_sizes > 1].index):
        named = pd.Series(values, index=lb_sizes.index.names)
        part = ok[(setting.drop(columns="LB") == named).all(axis=1)]
        acc = (100 * part["test_acc"]).groupby(part[BATCH_SIZE]).agg(["mean", "min", "max"])
        color = ("#0072B2", "#D55E00", "#009E73")[i % 3]
        label = (
            f"{named['network']} on {named['train samples']:,} {named['data']} images, "
            f"{named['optimizer']} lr {named['lr']:g}"
        )
        right.plot(acc.index, acc["mean"], "o-", color=color, label=label)
        right.fill_between(acc.index, acc["min"], acc["max"], color=color, alpha=0.2)
    right.set_xscale("log")
    right.set_xlabel("batch size")
    right.set_ylabel("test accuracy (%)")
    right.set_title("Test accuracy at convergence vs batch size", loc="left")
    if right.lines:
        right.legend(fontsize="small")
    fig.suptitle(
        "The generalization-gap search (search seeds; the chosen settings are confirmed in keskar_gap)"
    )
    return fig
