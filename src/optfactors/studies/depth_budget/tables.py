"""The budget trend of the residual depth claim: ResNet-20 and ResNet-56's final training loss per budget."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.report.tables import register_table
from optfactors.studies.common import (
    mean_std,
    ok_runs,
)

EPOCHS = "trainer.max_epochs"


def residual_by_budget(runs: pd.DataFrame) -> pd.DataFrame:
    """Per budget (epochs) of the residual networks: ResNet-20's and ResNet-56's final training loss
    (train_eval_loss, mean and std over seeds, and their seed count) and ResNet-56's excess over ResNet-20."""
    ok = ok_runs(runs)
    ok = ok[ok["model.residual"].astype(bool)]
    stats = ok.groupby([EPOCHS, "model.depth"])["train_eval_loss"].agg(["mean", "std", "count"])
    table = stats.unstack("model.depth")
    rows = []
    for epochs, row in table.iterrows():
        if pd.isna(row.get(("mean", 20))) or pd.isna(row.get(("mean", 56))):
            continue
        rows.append(
            {
                "epochs": int(epochs),
                "resnet20": row[("mean", 20)],
                "resnet20_std": row[("std", 20)],
                "resnet56": row[("mean", 56)],
                "resnet56_std": row[("std", 56)],
                "seeds": int(min(row[("count", 20)], row[("count", 56)])),
                "excess": row[("mean", 56)] - row[("mean", 20)],
            }
        )
    return pd.DataFrame(rows)


def residual_losses(runs: pd.DataFrame, epochs: int, depth: int) -> np.ndarray:
    """The final training loss (train_eval_loss) of each ok seed of the residual network of ``depth``
    trained for ``epochs``, seeds without a value left out."""
    ok = ok_runs(runs)
    cell = ok[ok["model.residual"].astype(bool) & (ok[EPOCHS] == epochs) & (ok["model.depth"] == depth)]
    return cell["train_eval_loss"].dropna().to_numpy(dtype=float)


@register_table("residual_trend")
def residual_trend(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per budget, the final training loss (training subset in eval mode, mean ± std over seeds; no std for
    one seed) of ResNet-20
    and ResNet-56, and ResNet-56's excess (> 0: the deeper network trains worse)."""
    table = residual_by_budget(runs)
    if table.empty:
        return table

    def cell(mean: pd.Series, std: pd.Series) -> list[str]:
        return [mean_std(m, s, ".3f") for m, s in zip(mean, std, strict=True)]

    return pd.DataFrame(
        {
            "epochs": table["epochs"],
            "ResNet-20": cell(table["resnet20"], table["resnet20_std"]),
            "ResNet-56": cell(table["resnet56"], table["resnet56_std"]),
            "excess": table["excess"].round(3),
            "seeds": table["seeds"],
        }
    )
