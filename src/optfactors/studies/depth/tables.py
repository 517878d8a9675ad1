"""He et al. 2016's depth study: per network (depth, residual), its curves and final training loss."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.studies.common import (
    ok_runs,
)

#: Per (depth, residual): legend label, colour, line style.
NETWORKS = {
    (20, False): ("plain-20", "#56B4E9", "--"),
    (56, False): ("plain-56", "#0072B2", "-"),
    (20, True): ("ResNet-20", "#E69F00", "--"),
    (56, True): ("ResNet-56", "#D55E00", "-"),
}


def depth_curves(runs: pd.DataFrame, curves: pd.DataFrame) -> dict[tuple[int, bool], pd.DataFrame]:
    """Per (depth, residual): the per-epoch mean over ok seeds of the training and validation curves."""
    ok = ok_runs(runs)
    found = {}
    for (depth, residual), part in ok.groupby(["model.depth", "model.residual"]):
        rows = curves[curves["run_key"].isin(part["run_key"])]
        found[(int(depth), bool(residual))] = rows.groupby("epoch")[
            ["train_loss", "train_acc", "val_acc"]
        ].mean()
    return found


def final_train_loss(runs: pd.DataFrame) -> dict[tuple[int, bool], np.ndarray]:
    """Per network (depth, residual): the final training loss (training subset in eval mode,
    train_eval_loss) of each ok seed, seeds without a value left out."""
    ok = ok_runs(runs).dropna(subset=["train_eval_loss"])
    grouped = ok.groupby(["model.depth", "model.residual"])["train_eval_loss"]
    return {(int(d), bool(r)): part.to_numpy(dtype=float) for (d, r), part in grouped}
