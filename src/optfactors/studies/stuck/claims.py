"""A stuck training loss is not a small gradient, decided by the one rule (optfactors.decision) over seeds."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_ratio
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import ok_runs

#: The plateau: the loss after one third of the updates stays above this share of its value there.
PLATEAU = 0.5
#: Not small: the gradient norm on the plateau is at least this multiple of the early one.
NOT_SMALL = 1.0


def seed_numbers(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per ok seed: the training loss at one third of the updates and the lowest one afterwards, the median
    gradient norm over the first fifth of that third (early, while the loss moves) and over the rest
    (plateau), and the loss at the end."""
    rows = []
    for seed, key in zip(ok_runs(runs)["seed"], ok_runs(runs)["run_key"], strict=True):
        curve = curves[curves["run_key"] == key].sort_values("updates")
        third = len(curve) // 3
        late = curve.iloc[third:]
        rows.append(
            {
                "seed": seed,
                "update": int(curve["updates"].iloc[third]),
                "at_third": curve["train_loss"].iloc[third],
                "lowest_after": late["train_loss"].min(),
                "last": curve["train_loss"].iloc[-1],
                "early_grad": curve["train_grad_norm"].iloc[: max(third // 5, 1)].median(),
                "plateau_grad": late["train_grad_norm"].median(),
            }
        )
    return pd.DataFrame(rows)


@register_claim(
    "stuck_is_not_small_gradient",
    lecture="When the training loss stops decreasing, the gradient is not necessarily small: the loss can "
    "plateau while the gradient norm stays far from zero.",
)
def stuck_not_small_gradient(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Two effects, paired over seeds (ratios of geometric means, paired t on log values): the plateau, the
    lowest loss over the last two thirds of the updates over the loss at one third, ✓ above 0.5; and the
    gradient, the median gradient norm there over the median of the first updates', ✓ above 1."""
    detail = (
        "Per seed, paired: the plateau is the lowest training loss over the last two thirds of the updates "
        f"over its value at one third (above {PLATEAU:g}: it never halves); the gradient is the median "
        "gradient norm there over the median of the first updates' (while the loss still moved; above "
        f"{NOT_SMALL:g}: not small). Ratios of geometric means over seeds, paired t-intervals on log values; "
        "reproduced if both intervals lie above their thresholds."
    )
    seeds = seed_numbers(runs, curves)
    if seeds.empty:
        return ClaimResult("no ok run", None, detail)
    plateau = decide_ratio(seeds["lowest_after"], seeds["at_third"], PLATEAU, paired=True)
    gradient = decide_ratio(seeds["plateau_grad"], seeds["early_grad"], NOT_SMALL, paired=True)
    effects = (
        Effect("lowest loss after / at one third", plateau, "x", signed=False),
        Effect("gradient norm on the plateau / early", gradient, "x", signed=False),
    )
    measured = "; ".join(
        f"seed {s.seed}: loss {s.at_third:.3g} at update {s.update}, lowest {s.lowest_after:.3g} "
        f"afterwards, last {s.last:.3g}; gradient norm median {s.plateau_grad:.3g} on the plateau vs "
        f"{s.early_grad:.3g} in the first updates"
        for s in seeds.itertuples(index=False)
    )
    return ClaimResult(measured, combined(effects), detail, effects)
