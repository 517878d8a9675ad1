"""Budget trends of the optimizer claims on CIFAR-10: does each claim's quantity move toward the lecture's
result when C1 trains longer than the optimizers study's quick budget?"""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import display_name, mean_std
from optfactors.studies.optimizers_budget.tables import (
    ADAPTIVE,
    adaptive_margin_by_epoch,
    budgets,
    momentum_gap_by_budget,
)

STUDY = "optimizers_budget"


@register_claim(
    "adaptive_margin_grows_with_budget",
    lecture="(trend of adaptive_lower_training_loss) Trained longer, the adaptive methods pull ahead of SGD "
    "in training loss on CIFAR-10.",
)
def adaptive_margin_grows(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """The worst adaptive margin (SGD − adaptive training loss) at the longest budget against the claim's."""
    detail = (
        "Worst adaptive margin: min over Adagrad, RMSProp, Adam of SGD's training loss minus theirs, each at "
        "its lowest rate of the grid at that epoch (constant schedule, mean over seeds), read at every epoch "
        "of the longest runs. Trend toward ✓ if the margin at the last epoch is larger than at the "
        "optimizers study's budget (its epochs); the lecture's claim holds where the margin is > 0."
    )
    spans = budgets(runs)
    table = adaptive_margin_by_epoch(runs, curves)
    if len(spans) < 2 or "worst_margin" not in table or spans[0] not in set(table["epoch"]):
        return ClaimResult(
            "needs CIFAR-10 runs at two budgets: make sweep EXP=optimizers_budget", None, detail
        )
    margin = table.set_index("epoch")["worst_margin"]
    last = table.iloc[-1]
    losses = ", ".join(f"{display_name(a)} {last[a]:.3g}" for a in ADAPTIVE if a in table)
    measured = (
        f"worst margin {margin[spans[0]]:+.3f} after {spans[0]} epochs, {margin.iloc[-1]:+.3f} after "
        f"{int(margin.index[-1])} (SGD {last['sgd']:.3g} vs {losses}; "
        f"{sum(last[a] < last['sgd'] for a in ADAPTIVE if a in table)}/{len(ADAPTIVE)} below SGD)"
    )
    return ClaimResult(measured, bool(margin.iloc[-1] > margin[spans[0]]), detail)


@register_claim(
    "momentum_gap_shrinks_with_budget",
    lecture="(trend of momentum_decay_close_to_adam) Trained longer, SGD with momentum and cosine decay "
    "closes in on Adam's test accuracy on CIFAR-10.",
)
def momentum_gap_shrinks(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Adam's lead over SGD + momentum + cosine in test accuracy at the longest budget against the claim's."""
    detail = (
        "Adam's lead: Adam's test accuracy (better schedule) minus SGD + momentum + cosine's, each at the "
        "rate with the best validation accuracy, mean over seeds, per budget. Trend toward ✓ if the lead at "
        "the longest budget is smaller than at the optimizers study's; the lecture's claim holds where it is "
        "≤ 1 point. The std over seeds stands beside each mean: a change of the lead smaller than them is "
        "within seed noise."
    )
    table = momentum_gap_by_budget(runs)
    if len(table) < 2:
        return ClaimResult(
            "needs CIFAR-10 runs at two budgets: make sweep EXP=optimizers_budget", None, detail
        )
    first, last = table.iloc[0], table.iloc[-1]
    measured = "; ".join(
        f"{int(r.epochs)} epochs: momentum + cosine {mean_std(r.momentum_cosine, r.momentum_cosine_std)} %, "
        f"Adam ({r.adam_schedule}) {mean_std(r.adam, r.adam_std)} % (lead {r.adam_lead:+.2f})"
        for r in table.itertuples(index=False)
    )
    return ClaimResult(measured, bool(last["adam_lead"] < first["adam_lead"]), detail)
