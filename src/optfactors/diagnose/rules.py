"""The lecture's recipe for "my network fails to train" (Hung-yi Lee, ML 2021), applied to finished runs.

Per run, from runs.csv and curves.csv only: diverged -> the update and the learning rate. Training loss
large -> not at a critical point (the loss stalls while the gradient norm stays large), an optimization
issue (a network that can do at most what this one can -- shallower, narrower, or the same one trained
otherwise -- reached a clearly lower training loss on the same data: the 20- vs 56-layer argument), a
critical point (stalled with a vanishing gradient), model bias (only a more flexible network did better),
or undecided. Training loss small -> overfitting (the validation loss far above it) or fine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optfactors.diagnose.labels import config_columns, fmt, key, label, label_columns, present
from optfactors.diagnose.networks import Network, network
from optfactors.diagnose.stall import SMALL_GRADIENT, Stall, stall

#: A loss is large above this fraction of the chance loss (predicting every class with probability 1/C:
#: ln C for cross-entropy, 1 - 1/C for the softmax MSE). Cross-entropy on 10 classes: above 0.23 nats, the
#: right class getting a (geometric-mean) probability below 0.79. The lecture's first question.
LARGE_LOSS = 0.1
#: Overfitting: the training loss is small and the validation loss exceeds it by more than this fraction
#: of the chance loss (the LARGE_LOSS yardstick: small on training data, large on held-out data).
GAP = 0.1
#: Another setting's training loss is clearly lower when below (1 - CLEARLY_LOWER) x this run's: 10 %, twice
#: the seed spread of the committed studies (depth: plain-20 at 1.35 and 1.50, ±5 % of their mean).
CLEARLY_LOWER = 0.1

#: The verdicts.
DIVERGED = "diverged"
FAILED = "failed"
NOT_CRITICAL = "optimization issue: not a critical point"
OPTIMIZATION = "optimization issue"
CRITICAL = "critical point"
MODEL_BIAS = "model bias"
UNDECIDED = "model bias or optimization issue"
OVERFITTING = "overfitting"
FINE = "fine"

#: What the lecture does about each verdict.
ADVICE = {
    DIVERGED: "the learning rate is too large here: lower it, warm up, clip the gradient or normalise",
    FAILED: "the run raised an error: nothing to diagnose",
    NOT_CRITICAL: "the loss stalls while the gradient stays large (bouncing between the walls of a valley): "
    "lower the learning rate or adapt it per parameter (Adagrad, RMSProp, Adam)",
    OPTIMIZATION: "a network that can do at most what this one does fits the training data better: change "
    "the optimization (learning rate, optimizer, normalisation, residual connections), not the model",
    CRITICAL: "the gradient vanished at a large loss: a saddle point or a local minimum (the Hessian tells "
    "which; momentum or noise leaves a saddle)",
    MODEL_BIAS: "only a more flexible network fits the training data better: make the model more flexible",
    UNDECIDED: "no run here tells them apart: train a shallower or smaller network (easier to optimize) on "
    "the same data and compare the training losses",
    OVERFITTING: "small training loss, large validation loss: more data, data augmentation, a less flexible "
    "model, early stopping (or a mismatch between training and test data)",
    FINE: "small training loss and a small gap to the validation loss: nothing to fix",
}

#: Columns a runs.csv needs to be diagnosed (analysis studies' tables have none of them).
REQUIRED = ("model", "data.num_classes", "train_loss")
#: Data columns that do not change the training data (a setting with another batch size is comparable).
BATCHING = ("data.batch_size", "data.eval_batch_size", "data.drop_last")


@dataclass(frozen=True)
class Diagnosis:
    """The lecture's verdict on one run and the evidence, each line with its numbers."""

    run_key: str
    label: str
    verdict: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Setting:
    """The ok runs of one config (all seeds): mean final training loss and the network trained."""

    row: dict[str, Any]
    loss: float
    seeds: int
    network: Network


def training_loss(row: dict[str, Any]) -> float:
    """The final training loss: the training set re-evaluated after training when recorded
    (train_eval_loss), else the last epoch's running mean (train_loss)."""
    for column in ("train_eval_loss", "train_loss"):
        if present(row.get(column)):
            return float(row[column])
    return math.nan


def chance_loss(row: dict[str, Any]) -> float:
    """The loss of predicting every class with probability 1/C."""
    classes = int(row["data.num_classes"])
    return 1 - 1 / classes if row.get("loss") == "mse" else math.log(classes)


def _settings(runs: pd.DataFrame, config: list[str]) -> dict[tuple[str, ...], Setting]:
    """Every config of the ok runs with a training loss, keyed by its values without the seed."""
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in runs[runs["status"] == "ok"].to_dict("records"):
        if math.isfinite(training_loss(row)):
            grouped.setdefault(key(row, config), []).append(row)
    return {
        setting: Setting(rows[0], sum(map(training_loss, rows)) / len(rows), len(rows), network(rows[0]))
        for setting, rows in grouped.items()
    }


def _diverged(row: dict[str, Any]) -> str:
    epoch = row.get("diverged_epoch")
    where = f"update {int(row['updates'])}" + (f" (epoch {int(epoch) + 1})" if present(epoch) else "")
    how = [f"{row['schedule']} schedule"] if present(row.get("schedule")) else []
    if "trainer.gradient_clip_val" in row:
        clip = row["trainer.gradient_clip_val"]
        how.append(f"gradient norm clipped at {clip:g}" if present(clip) else "no gradient clipping")
    return f"the loss became non-finite at {where} with learning rate {fmt(row.get('optimizer.lr'))}" + (
        f" ({', '.join(how)})" if how else ""
    )


class _Run:
    """One run and the settings it can be compared with (same training data and loss)."""

    def __init__(
        self,
        row: dict[str, Any],
        settings: dict[tuple[str, ...], Setting],
        config: list[str],
        labels: list[str],
    ) -> None:
        self.row, self.network = row, network(row)
        self.labels = [c for c in labels if c != "seed"]
        data = [c for c in config if c.startswith("data.") and c not in BATCHING] + ["loss._target_"]
        own = key(row, config)
        self.others = [
            s
            for setting, s in settings.items()
            if setting != own and all(fmt(s.row.get(c)) == fmt(row.get(c)) for c in data)
        ]

    def _changes(self, other: Setting) -> list[str]:
        return [c for c in self.labels if fmt(other.row[c]) != fmt(self.row[c])]

    def describe(self, other: Setting) -> str:
        """``the same network with BatchNorm (model=keskar_f1 optimizer.lr=0.1) reached a training loss of
        0.015 (2 seeds)``."""
        changed = " ".join(f"{c.removeprefix('choice.')}={fmt(other.row[c])}" for c in self._changes(other))
        seeds = f"{other.seeds} seed{'s' if other.seeds > 1 else ''}"
        return (
            f"{self.network.relation(other.network)} ({changed}) reached a training loss of "
            f"{other.loss:.3g} ({seeds})"
        )

    def telling(self, candidates: list[Setting]) -> list[Setting]:
        """Among the candidates that change the fewest labels, the lowest-loss one per kind of change (the
        same network at another learning rate, with clipping, with BatchNorm, ...); then the lowest-loss
        candidate of all."""
        fewest = min(len(self._changes(s)) for s in candidates)
        per_change: dict[tuple[str, ...], Setting] = {}
        for s in sorted(candidates, key=lambda s: s.loss):
            if len(self._changes(s)) == fewest:
                per_change.setdefault(tuple(self._changes(s)), s)
        nearest = list(per_change.values())
        best = min(candidates, key=lambda s: s.loss)
        return nearest + ([best] if best not in nearest else [])


def _large_loss(run: _Run, loss: float, stalled: Stall | None) -> tuple[str, list[str]]:
    """Verdict and evidence for a run whose training loss is large."""
    this = run.network
    lower = [s for s in run.others if s.loss < (1 - CLEARLY_LOWER) * loss]
    contained = [s for s in lower if this.contains(s.network)]
    smaller = [s for s in contained if not s.network.contains(this)] or contained
    optimization = [
        run.describe(s)
        + (
            ": the same functions, so this network can fit the training data that well"
            if s.network.contains(this)
            else ": this network can compute everything that one does, so it is not model bias"
        )
        for s in (run.telling(smaller) if smaller else [])
    ]
    stall_lines = list(stalled.evidence) if stalled else []
    ratio = stalled.gradient_ratio if stalled else None
    if ratio is not None and ratio >= SMALL_GRADIENT:
        return NOT_CRITICAL, stall_lines + optimization
    if optimization:
        return OPTIMIZATION, optimization + stall_lines
    if ratio is not None:
        return CRITICAL, stall_lines
    bigger = [s for s in run.others if s.network.contains(this) and not this.contains(s.network)]
    better = [s for s in bigger if s in lower]
    if better:
        return MODEL_BIAS, [
            run.describe(s) + ": more flexibility fits the training data better" for s in run.telling(better)
        ]
    comparable = [s for s in run.others if this.contains(s.network) or s.network.contains(this)]
    if comparable:
        return UNDECIDED, [
            run.describe(s) + f", not clearly lower (below {(1 - CLEARLY_LOWER) * loss:.3g})"
            for s in run.telling(comparable)
        ] + stall_lines
    return UNDECIDED, [
        f"none of the {len(run.others)} other settings on the same data trains a network that contains this "
        "one or that it contains",
        *stall_lines,
    ]


def _verdict(run: _Run, curve: pd.DataFrame) -> tuple[str, list[str]]:
    row = run.row
    if row["status"] == "diverged":
        same = [s for s in run.others if s.network.contains(run.network) and run.network.contains(s.network)]
        return DIVERGED, [_diverged(row)] + [
            run.describe(s) + " without diverging" for s in (run.telling(same) if same else [])
        ]
    loss = training_loss(row)
    if row["status"] != "ok" or not math.isfinite(loss):
        error = row.get("error")
        return FAILED, [f"status {row['status']}, " + (error if present(error) else "no final training loss")]
    chance = chance_loss(row)
    size = f"{LARGE_LOSS:g} x the chance loss {chance:.3g}"
    if loss > LARGE_LOSS * chance:
        verdict, evidence = _large_loss(run, loss, stall(curve))
        return verdict, [
            f"training loss {loss:.3g} is large: above {LARGE_LOSS * chance:.3g} ({size})",
            *evidence,
        ]
    held, split = _held_out(row)
    gap = held - loss
    evidence = [
        f"training loss {loss:.3g} is small: at most {LARGE_LOSS * chance:.3g} ({size})",
        f"{split} loss {held:.3g}, {gap:.3g} above it ({'over' if gap > GAP * chance else 'within'} "
        f"{GAP * chance:.3g}, {GAP:g} x the chance loss)",
    ]
    return (OVERFITTING if gap > GAP * chance else FINE), evidence


def _held_out(row: dict[str, Any]) -> tuple[float, str]:
    """The final validation loss, else the test loss."""
    if present(row.get("val_loss")):
        return float(row["val_loss"]), "validation"
    return float(row.get("test_loss", math.nan)), "test"


def diagnose(runs: pd.DataFrame, curves: pd.DataFrame) -> list[Diagnosis]:
    """The lecture's verdict on every run of one study, in the order of their labels."""
    config = config_columns(runs)
    labels = label_columns(runs, config)
    settings = _settings(runs, config)
    by_run = dict(tuple(curves.groupby("run_key"))) if "run_key" in curves.columns else {}
    empty = pd.DataFrame(columns=["updates", "train_loss"])
    rows = sorted(runs.to_dict("records"), key=lambda r: tuple(_sortable(r[c]) for c in labels))
    found = []
    for row in rows:
        verdict, evidence = _verdict(_Run(row, settings, config, labels), by_run.get(row["run_key"], empty))
        found.append(Diagnosis(row["run_key"], label(row, labels), verdict, tuple(evidence)))
    return found


def _sortable(value: Any) -> tuple[int, Any]:
    """Numbers before text, missing values first."""
    if not present(value):
        return (0, 0)
    return (1, value) if isinstance(value, int | float) and not isinstance(value, bool) else (2, str(value))
