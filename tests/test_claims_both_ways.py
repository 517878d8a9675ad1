"""Every registered claim decided both ways: synthetic tables (only the columns the claim reads) that must
give ✓, ones that must give ✗, and ones that must leave it undecided (—). No training, no real results.

The gap claims of keskar_gap and the sharpness-accuracy correlation are decided both ways in
tests/test_gap_claims.py, the quick start's claim in tests/test_figures_report.py (found by their ids); a
newly registered claim without cases here or there fails :func:`test_every_claim_is_decided_both_ways`.
And every registered claim, figure and table must name an experiment that ``make sweep EXP=<name>`` runs
and whose runs land in ``results/<name>/``, where the report and the figures look for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from optfactors import CONF_DIR
from optfactors.report.claims import CLAIMS, ClaimResult, combined
from optfactors.report.figures import FIGURES
from optfactors.report.tables import TABLES

ROOT = Path(__file__).resolve().parents[1]
NO_CURVES = pd.DataFrame(columns=["run_key", "epoch"])
CLIP, LR = "trainer.gradient_clip_val", "optimizer.lr"


@dataclass(frozen=True)
class Case:
    """Tables, the verdict they must give, and text the measured string must contain."""

    label: str
    runs: pd.DataFrame
    curves: pd.DataFrame
    expected: bool | None
    text: str = ""


def frame(rows: list[dict], **fixed: object) -> pd.DataFrame:
    """A table of ``rows``, each with the ``fixed`` columns and a unique run_key unless given one."""
    return pd.DataFrame([{"run_key": f"r{i}", **fixed, **row} for i, row in enumerate(rows)])


def ok(value: float | None) -> dict:
    """Status ok with ``value``, or diverged (no value) for None."""
    return {"status": "ok" if value is not None else "diverged"}


# --- batch_accuracy: the largest batch >= 5 points below the batch picked by validation, on train and test


def batch_runs(
    acc: dict[int, tuple[float, float, float]], dataset: str = "mnist", jitter: float = 0.002
) -> pd.DataFrame:
    """Two ok seeds per batch size, ``jitter`` either side of ``acc[batch] = (train_eval_acc, val_acc,
    test_acc)`` (fractions)."""
    rows = [
        {"run_key": f"{dataset}{b}s{s}", "data.batch_size": b, "seed": s, "val_acc": v}
        | {"train_eval_acc": t + sign * jitter, "test_acc": test + sign * jitter}
        for b, (t, v, test) in acc.items()
        for s, sign in enumerate((-1, 1))
    ]
    return frame(rows, status="ok", dataset=dataset, model="mlp")


# Batch 512 has the best validation accuracy; batch 64 the best test accuracy, but a training accuracy only 3
# points above the largest batch's: picked by test, the claim would fail.
LARGE_WORSE = {64: (0.93, 0.96, 0.99), 512: (0.98, 0.985, 0.97), 4096: (0.90, 0.90, 0.90)}
LARGE_CLOSE_ON_TRAIN = {64: (0.99, 0.98, 0.98), 4096: (0.97, 0.90, 0.90)}
LARGE_WORSE_BY_ABOUT_5 = {64: (0.96, 0.96, 0.96), 4096: (0.905, 0.905, 0.905)}


# --- critical points and the saddle (curves rows of table point, taylor, saddle)


def points(ratios: list[float], losses: list[float] | None = None, converged: bool = True) -> pd.DataFrame:
    """Critical points of one problem: their minimum ratios and losses."""
    losses = losses if losses is not None else [1.0] * len(ratios)
    rows = [{"minimum_ratio": r, "loss": loss} for r, loss in zip(ratios, losses, strict=True)]
    return frame(rows, run_key="p", table="point", problem="sinc", converged=converged)


def init_points(slope: float, seed: int | None = None, converged_share: int = 2) -> pd.DataFrame:
    """40 initialisations of one problem, every ``converged_share``-th converged: loss from 0.1 to 2 and
    minimum ratio 1 + ``slope`` · loss, plus noise of std 0.3 drawn with ``seed`` (None: no noise)."""
    losses = np.linspace(0.1, 2.0, 40)
    noise = np.random.default_rng(seed).normal(0, 0.3, 40) if seed is not None else np.zeros(40)
    rows = [
        {
            "init_seed": i,
            "loss": loss,
            "minimum_ratio": 1 + slope * loss + e,
            "converged": i % converged_share == 0,
        }
        for i, (loss, e) in enumerate(zip(losses, noise, strict=True))
    ]
    return frame(rows, run_key="p", table="point", problem="sinc")


def taylor(relative_error: float, first_order: float = 0.0, eigenvalue: float = -2.0) -> pd.DataFrame:
    """Loss changes along the negative-curvature direction: ½λη² off by ``relative_error``, plus a
    first-order term ``first_order * η``."""
    rows = [
        {"eta": eta, "predicted": 0.5 * eigenvalue * eta**2}
        | {"loss_change": 0.5 * eigenvalue * eta**2 * (1 + relative_error) + first_order * eta}
        for eta in (-0.1, -0.01, 0.0, 0.01, 0.1)
    ]
    return frame(rows, run_key="s", table="taylor")


def saddle(exact: float | None, noisy: float | None) -> pd.DataFrame:
    """The saddle row (loss 0.7): the update at which exact and noisy GD left it, ending at loss 0.2 (None:
    never, ending at the saddle's loss)."""
    row = {
        "loss": 0.7,
        "grad_norm": 1e-9,
        "min_eigenvalue": -0.3,
        "steps": 500,
        "exact_final_loss": 0.7 if exact is None else 0.2,
        "noisy_final_loss": 0.7 if noisy is None else 0.2,
        "exact_escape_step": exact if exact is not None else np.nan,
        "noisy_escape_step": noisy if noisy is not None else np.nan,
    }
    return frame([row], run_key="s", table="saddle")


#: The saddle run's setting: a path has left when its loss is 0.1 % below the saddle's.
SADDLE_RUN = frame([{"saddle.descent.drop": 1e-3}], run_key="s", status="ok")


# --- depth: final training loss of plain and residual networks


def depth_runs(losses: dict[tuple[int, bool], list[float]]) -> pd.DataFrame:
    """``losses[(depth, residual)][seed]``: train_eval_loss of ok runs; a diverged plain-56 seed besides."""
    rows = [
        {"model.depth": d, "model.residual": r, "train_eval_loss": loss, "status": "ok"}
        for (d, r), seeds in losses.items()
        for loss in seeds
    ]
    rows.append({"model.depth": 56, "model.residual": False, "train_eval_loss": 0.0, "status": "diverged"})
    return frame(rows)


PLAIN_20, RES_20 = [0.50, 0.52, 0.51], [0.30, 0.32, 0.31]


# --- optimizers: per optimizer, schedule and lr, two seeds' (train_loss, val_acc, test_acc)

Cells = dict[tuple[str, str, float], tuple[float, float, float]]


def optimizer_runs(cells: Cells, jitter: float = 0.0005) -> pd.DataFrame:
    """Two ok seeds per cell: train loss and test accuracy ``jitter`` either side of ``cells[(optimizer,
    schedule, lr)] = (train_loss, val_acc, test_acc)``; every validation loss equal (ties go by val_acc)."""
    rows = [
        {"optimizer": o, "schedule": s, LR: lr, "seed": seed, "val_acc": val, "val_loss": 1.0}
        | {"train_loss": loss + sign * jitter, "test_acc": test + sign * jitter}
        for (o, s, lr), (loss, val, test) in cells.items()
        for seed, sign in enumerate((-1, 1))
    ]
    return frame(rows, status="ok", dataset="mnist")


# lr 1.0 ends with the lowest training loss, but the worst validation accuracy: not picked.
SGD_LOSSES = {("sgd", "constant", 0.1): (0.30, 0.9, 0.9), ("sgd", "constant", 0.01): (0.50, 0.85, 0.85)}
SGD_LOSSES |= {("sgd", "constant", 1.0): (0.05, 0.5, 0.5)}
# SGD with cosine decay ends lowest of all: the claim compares constant schedules only.
SGD_LOSSES |= {("sgd", "cosine", 0.1): (0.01, 0.9, 0.9)}
# Adam's cosine schedule has the better validation accuracy, its constant one the better test accuracy.
ADAM = {("adam", "constant", 1e-3): (0.05, 0.98, 0.99), ("adam", "cosine", 1e-3): (0.04, 0.985, 0.98)}


def momentum_cosine(test_at_best_val: float) -> Cells:
    """SGD + momentum, cosine: the lr with the best validation accuracy has ``test_at_best_val``; another
    lr has a better test accuracy but a worse validation accuracy (not chosen)."""
    return {
        ("momentum", "cosine", 0.1): (0.1, 0.97, test_at_best_val),
        ("momentum", "cosine", 0.01): (0.1, 0.96, 0.999),
    }


# --- budget trends: a claim's quantity at its study's budget (the shortest) and at longer ones

EPOCHS = "trainer.max_epochs"


def cifar_leads(leads: dict[int, float], jitter: float = 0.001) -> pd.DataFrame:
    """Per budget, two seeds ``jitter`` either side of: SGD + momentum + cosine at 40 % test accuracy and
    Adam (constant) ``lead`` above it; Adam's cosine runs validate worse (not picked) but test at 90 % at the
    longest budget; an MNIST run at another budget besides (ignored)."""
    longest = max(leads)
    rows = [
        {EPOCHS: epochs, "optimizer": o, "schedule": s, "val_acc": val, "seed": seed}
        | {"test_acc": acc + sign * jitter, "dataset": "cifar10"}
        for epochs, lead in leads.items()
        for o, s, val, acc in (
            ("momentum", "cosine", 0.4, 0.40),
            ("adam", "constant", 0.4, 0.40 + lead),
            ("adam", "cosine", 0.3, 0.9 if epochs == longest else 0.3),
        )
        for seed, sign in enumerate((-1, 1))
    ]
    rows.append(
        {EPOCHS: 20, "optimizer": "adam", "schedule": "constant", "test_acc": 1.0, "dataset": "mnist"}
    )
    return frame(rows, status="ok", val_loss=1.0, train_loss=1.0, **{LR: 0.01})


def adaptive_budget(margins: dict[int, float], jitter: float = 0.005) -> pd.DataFrame:
    """Constant-schedule CIFAR-10 runs per budget, two seeds ``jitter`` either side: SGD at its picked rate
    (best validation accuracy) ends at training loss 1.0, the adaptive methods ``margins[epochs]`` below it;
    SGD's rate 1.0 ends lower (0.2) but validates worse (not picked)."""
    cells = [("sgd", 0.1, 0.45, 0.0), ("sgd", 1.0, 0.2, -0.8)]
    cells += [(name, 1e-3, 0.45, None) for name in ("adagrad", "rmsprop", "adam")]
    rows = [
        {EPOCHS: epochs, "optimizer": name, LR: lr, "val_acc": val, "seed": seed}
        | {"train_loss": 1.0 + (offset if offset is not None else -margin) + sign * jitter}
        for epochs, margin in margins.items()
        for name, lr, val, offset in cells
        for seed, sign in enumerate((-1, 1))
    ]
    return frame(rows, status="ok", schedule="constant", dataset="cifar10", val_loss=1.0, test_acc=0.4)


def residual_budget(excess: dict[int, float], one_seed_at: int | None = None) -> pd.DataFrame:
    """ResNet-20 at 0.5 and ResNet-56 ``excess`` above it per budget (two seeds, one at ``one_seed_at``),
    plain-56 besides."""
    rows = [
        {EPOCHS: epochs, "model.depth": depth, "model.residual": True, "train_eval_loss": loss + jitter}
        for epochs, x in excess.items()
        for depth, loss in ((20, 0.5), (56, 0.5 + x))
        for jitter in ((-0.01, 0.01) if epochs != one_seed_at else (0.0,))
    ]
    rows.append({EPOCHS: 12, "model.depth": 56, "model.residual": False, "train_eval_loss": 2.0})
    return frame(rows, status="ok")


def loss_tables(
    train_acc: dict[tuple[str, str], list[float]], jitter: float = 0.005
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """loss_mse_vs_ce: two ok seeds per (optimizer, loss), their training accuracy per epoch ``jitter``
    either side of ``train_acc[(optimizer, loss)]``, and a diverged run (with a curve) that must not count."""
    keys = {(o, loss, seed): f"{o}-{loss}-{seed}" for o, loss in train_acc for seed in (0, 1)}
    runs = frame(
        [{"run_key": k, "optimizer": o, "loss": loss} for (o, loss, _), k in keys.items()], status="ok"
    )
    blown = {"run_key": "blown", "optimizer": "sgd", "loss": "mse", "status": "diverged"}
    runs = pd.concat([runs, pd.DataFrame([blown])], ignore_index=True)
    curves = [
        {"run_key": k, "epoch": e, "train_acc": acc + (2 * seed - 1) * jitter}
        for (o, loss, seed), k in keys.items()
        for e, acc in enumerate(train_acc[(o, loss)])
    ]
    curves.append({"run_key": "blown", "epoch": 0, "train_acc": 0.0})
    return runs, pd.DataFrame(curves)


CE_FASTER = {
    ("sgd", "cross_entropy"): [0.8, 0.9],
    ("sgd", "mse"): [0.2, 0.4],
    ("adam", "cross_entropy"): [0.85, 0.95],
    ("adam", "mse"): [0.8, 0.9],
}


# --- sharp_flat: LB vs SB per seed, from the analysis rows in curves


def solution_runs(seeds: int) -> pd.DataFrame:
    """sharp_flat runs of one network (F1 on MNIST), one per seed."""
    rows = [{"run_key": f"s{s}", "seed": s} for s in range(seeds)]
    return frame(rows, status="ok", dataset="mnist", model="keskar_f1")


def analysis_curves(table: str, values: dict[str, list[float]]) -> pd.DataFrame:
    """Analysis rows giving each seed's ``values[regime][seed]`` as the claim reads it; decoys that would
    reverse the verdict where the claim must not look (a smaller ε, the other space)."""
    rows = []
    for regime, seeds in values.items():
        other = values["lb" if regime == "sb" else "sb"]
        for seed, value in enumerate(seeds):
            key = {"run_key": f"s{seed}", "table": table, "regime": regime}
            if table in ("sharpness", "adaptive"):
                space = "full" if table == "sharpness" else "adaptive"
                decoy = "adaptive" if space == "full" else "full"
                rows += [
                    key | {"table": "sharpness", "space": space, "epsilon": 1e-3, "sharpness": value},
                    key | {"table": "sharpness", "space": space, "epsilon": 5e-4, "sharpness": other[seed]},
                    key | {"table": "sharpness", "space": decoy, "epsilon": 1e-3, "sharpness": other[seed]},
                ]
            elif table == "perturbation":  # loss rises by `value` per unit radius, in two directions
                rows += [
                    key | {"radius": r, "direction": d, "loss": 0.1 + value * r}
                    for r in (0.0, 0.5, 1.0)
                    for d in (0, 1)
                ]
            else:
                rows.append(key | {"top_eigenvalue": value})
    return pd.DataFrame(rows)


LB_SHARPER = {"sb": [1.0, 2.0, 1.5], "lb": [10.0, 25.0, 13.0]}
LB_FLATTER = {"sb": [1.0, 2.0, 1.5], "lb": [0.1, 0.3, 0.2]}
LB_FLATTER_ONCE = {"sb": [1.0, 2.0, 1.5], "lb": [10.0, 1.0, 15.0]}
WITH_ZERO = {"sb": [0.0, 2.0, 1.5], "lb": [10.0, 25.0, 13.0]}
SHARP_FLAT_TABLES = {
    "lb_sharper_epsilon": "sharpness",
    "lb_sharper_adaptive_epsilon": "adaptive",
    "lb_sharper_perturbation": "perturbation",
    "lb_larger_top_eigenvalue": "hessian",
}


def sharp_flat_cases(claim: str) -> list[Case]:
    """LB / SB paired by seed: above 1 (✓), below 1 (✗), either way within the seed noise, one seed, a value
    leaving no ratio, or nothing to pair (—)."""
    table, runs = SHARP_FLAT_TABLES[claim], solution_runs(3)
    sb_only = analysis_curves(table, LB_SHARPER)
    one_seed = analysis_curves(table, {"sb": [1.0], "lb": [10.0]})
    return [
        Case("lb-sharper", runs, analysis_curves(table, LB_SHARPER), True, "LB > SB in 3/3 seeds"),
        Case("lb-flatter", runs, analysis_curves(table, LB_FLATTER), False, "LB > SB in 0/3 seeds"),
        Case("lb-flatter-in-one-seed", runs, analysis_curves(table, LB_FLATTER_ONCE), None, "2/3 seeds"),
        Case("one-seed", solution_runs(1), one_seed, None, "1/1 seeds, one seed: no interval"),
        Case("a-zero-value", runs, analysis_curves(table, WITH_ZERO), None, "a value <= 0: no ratio"),
        Case("not-analysed", runs, NO_CURVES, None),
        Case("only-sb-analysed", runs, sb_only[sb_only["regime"] == "sb"], None),
    ]


@pytest.mark.parametrize("claim", SHARP_FLAT_TABLES)
def test_sharp_flat_effects_are_ratios_with_intervals(claim: str) -> None:
    """Every LB/SB effect with 2 or more seeds (and a ratio) has a finite interval around its ratio of
    geometric means."""
    for case in sharp_flat_cases(claim):
        for effect in CLAIMS[claim].fn(case.runs, case.curves).effects:
            decision, decided = effect.decision, case.label != "a-zero-value"
            finite = np.isfinite(decision.low) and np.isfinite(decision.high)
            assert finite == (decided and decision.n >= 2), case.label
            assert decision.method == "paired t on logs" and decision.threshold == 1.0


# --- warmup, normalization, stuck


def warmup_runs(losses: dict[tuple[str, float], list[float | None]]) -> pd.DataFrame:
    """``losses[(schedule, peak lr)][seed]``: final training and validation loss, None for a diverged seed."""
    rows = [
        ok(loss) | {"schedule": s, LR: lr, "train_loss": loss, "val_loss": loss}
        for (s, lr), seeds in losses.items()
        for loss in seeds
    ]
    return frame(rows).astype({"train_loss": float, "val_loss": float})


PLAIN = {("cosine", 0.001): [0.5, 0.52], ("cosine", 0.01): [0.2, 0.21], ("cosine", 0.1): [0.8, 0.82]}


def norm_runs(acc: dict[tuple[str, float, float | None], list[float | None]]) -> pd.DataFrame:
    """``acc[(model, lr, clip)][seed]``: test and validation accuracy of an ok run, None if it diverged."""
    rows = [
        ok(a) | {"model": m, LR: lr, CLIP: np.nan if clip is None else clip, "test_acc": a, "val_acc": a}
        for (m, lr, clip), seeds in acc.items()
        for a in seeds
    ]
    return frame(rows).astype({"test_acc": float, "val_acc": float})


BN_TRAINS = {("keskar_f1", 0.1, None): [0.95, 0.96], ("keskar_f1", 1.0, None): [0.90, 0.92]}
NO_BN_AT_SMALL_LR = {("mlp", 0.1, None): [0.90, 0.91]}
# Clipped runs of the network without BatchNorm: not counted as trainable by batchnorm_tolerates.
NO_BN_BLOWS_UP = {("mlp", 1.0, None): [None, 0.3], ("mlp", 1.0, 1.0): [0.60, 0.62]}


def stuck_tables(loss: list[float], grad: list[float], seeds: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every seed with the same training-loss and gradient-norm curve, seed s's past the first third times
    1 + 0.05 (s - 1); rows in reverse order of updates."""
    runs = frame([{"run_key": f"s{s}", "seed": s} for s in range(seeds)], status="ok")
    rows = [
        {"run_key": f"s{s}", "updates": 10 * (i + 1)}
        | {
            "train_loss": lo * (1 + 0.05 * (s - 1) * (i > 5)),
            "train_grad_norm": g * (1 + 0.05 * (s - 1) * (i > 5)),
        }
        for s in range(seeds)
        for i, (lo, g) in enumerate(zip(loss, grad, strict=True))
    ]
    return runs, pd.DataFrame(rows[::-1])


PLATEAU = [3.0, 2.8, 2.6, 2.5, 2.4] + [2.3] * 10  # falls for a third of the updates, then flat
FALLING = [3.0 * 0.7**i for i in range(15)]
GROWING_GRAD = [1.0] * 5 + [2.0] * 10
STEADY_GRAD = [1.0] * 15
SHRINKING_GRAD = [1.0] * 5 + [0.01] * 10


# --- batch_timing: median over repeats per batch size, MNIST/MLP only


def timing_runs(
    times: dict[int, tuple[float, float]], repeats: int = 3, device: str = "AMD EPYC 7B13 (2 threads)"
) -> pd.DataFrame:
    """``times[batch] = (time per epoch, time per update)`` in seconds, ``repeats`` times with noise; a
    CIFAR-10 run whose times would change every verdict besides (not the quick series: ignored)."""
    rows = [
        {
            "data.batch_size": b,
            "time_per_epoch_s": e * (1 + 0.01 * k),
            "time_per_update_s": u * (1 + 0.01 * k),
        }
        | {"dataset": "mnist"}
        for b, (e, u) in times.items()
        for k in range(repeats)
    ]
    rows += [
        {"data.batch_size": b, "time_per_epoch_s": 1.0, "time_per_update_s": 1e3 * b, "dataset": "cifar10"}
        for b in times
    ]
    return frame(rows, status="ok", model="mlp", device=device)


GPU_LIKE = {1: (60.0, 1e-3), 100: (0.8, 2e-3), 1000: (0.1, 1e-2), 2000: (0.06, 1.1e-2), 4000: (0.03, 1.2e-2)}
A100 = "NVIDIA A100-SXM4-40GB"
CPU_LIKE = {1: (60.0, 1e-3), 100: (6.0, 5e-2), 1000: (6.0, 0.5), 2000: (6.0, 1.0), 4000: (6.0, 2.0)}


# --- toy: path summaries of one toy run


def toy(demo: str, paths: dict[str, dict], run_key: str = "toy") -> pd.DataFrame:
    rows = [{"path": p, **fields} for p, fields in paths.items()]
    return frame(rows, run_key=run_key, table="path_summary", demo=demo)


def lr_extremes(flips: int = 99, small_final: float = 9.99) -> pd.DataFrame:
    return toy(
        "elongated",
        {
            "gd_lr_1e-2": {
                "steps": 1000,
                "final_distance": 1.2,
                "start_loss": 50.0,
                "final_loss": 2.0,
                "y_sign_flips_last_100": flips,
            },
            "gd_lr_1e-7": {"steps": 100000, "final_distance": small_final, "start_distance": 10.0},
        },
    )


def adagrad(decay_bursts: int = 0, decay_close: float = 60.0) -> pd.DataFrame:
    """Adagrad close at update 40 (0.001 away), then 3 bursts; with decay close at ``decay_close`` (NaN:
    never, then 0.5 away at best, nothing counted after) with ``decay_bursts``."""
    plain = {"first_close_step": 40.0, "bursts": 3, "max_dy_after_close": 0.5, "max_dx_after_close": 0.01}
    plain |= {"min_distance": 0.001}
    never = np.isnan(decay_close)
    decay = {"first_close_step": decay_close, "min_distance": 0.5 if never else 0.002}
    decay |= {"bursts": np.nan if never else decay_bursts, "max_dy_after_close": 0.005}
    decay |= {"max_dx_after_close": 0.001}
    return toy(
        "elongated",
        {
            "adagrad_lecture": plain | {"final_distance": 0.3},
            "adagrad_lecture_decay": decay | {"final_distance": 1e-4},
        },
    )


def momentum(gd_min_x: float = 0.3, momentum_final: float = 1e-5) -> pd.DataFrame:
    common = {"final_grad_norm": 1e-9, "final_loss": 0.0}
    return toy(
        "momentum",
        {
            "gd": common | {"final_x": 0.3, "min_x": gd_min_x, "final_distance": 1.05},
            "gd_momentum": common | {"final_x": -0.75, "min_x": -1.0, "final_distance": momentum_final},
        },
    )


def mse_vs_ce(mse_final: float = 0.999, paths: tuple[str, ...] = ("gd_cross_entropy", "gd_mse", "adam_mse")):
    ends = {"gd_cross_entropy": (10.0, 0.01), "gd_mse": (1.0, mse_final), "adam_mse": (1.0, 0.001)}
    summary = toy("mse_vs_ce", {p: {"start_loss": ends[p][0], "final_loss": ends[p][1]} for p in paths})
    start = frame([{"path": "gd_mse", "step": 0, "grad_norm": 1e-9}], run_key="toy", table="path")
    return pd.concat([summary, start], ignore_index=True)


def ewa(corrected_error: float = 0.0) -> pd.DataFrame:
    """An average started at 0 of a constant 1 (β = 0.9), and its corrected version off by an error."""
    rows = [
        {"step": t, "mean": 1.0, "average": 1 - 0.9**t, "corrected": 1.0 + corrected_error * 0.9**t}
        for t in range(1, 21)
    ]
    return frame(rows, run_key="toy", table="ewa")


def two_toy_runs(curves: pd.DataFrame) -> pd.DataFrame:
    """The same rows twice under two run keys: stale records of an earlier toy config."""
    return pd.concat([curves, curves.assign(run_key="stale")], ignore_index=True)


NO_RUNS = pd.DataFrame(columns=["run_key", "status"])
#: The toy run's setting: close means within 0.01 of the minimum.
TOY_RUN = frame([{"toy.close": 0.01}], run_key="toy", status="ok")

CASES: dict[str, list[Case]] = {
    "large_batch_lower_train_and_val_accuracy": [
        Case(
            "both-drops-large-picked-by-validation",
            batch_runs(LARGE_WORSE),
            NO_CURVES,
            True,
            "MNIST/MLP, batch 4,096: train 8.0 and test 7.0 points below batch 512",
        ),
        Case(
            "train-drop-small-on-one-network",
            pd.concat([batch_runs(LARGE_WORSE), batch_runs(LARGE_CLOSE_ON_TRAIN, "cifar10")]),
            NO_CURVES,
            False,
            "CIFAR-10/MLP, batch 4,096: train 2.0 and test 8.0 points below batch 64",
        ),
        Case("drops-of-5-within-noise", batch_runs(LARGE_WORSE_BY_ABOUT_5, jitter=0.01), NO_CURVES, None),
        Case("one-batch-size", batch_runs({64: (0.99, 0.98, 0.98)}), NO_CURVES, None),
        Case("no-ok-run", batch_runs(LARGE_WORSE).assign(status="diverged"), NO_CURVES, None),
    ],
    "critical_points_rarely_minima": [
        # every one of 80 points a saddle: Wilson's interval lies above 95 % from 73 points on
        Case("all-saddles", NO_RUNS, points([0.5] * 80), True, "100% of 80 critical points"),
        Case("one-in-four-a-minimum", NO_RUNS, points([0.5] * 60 + [1.0] * 20), False, "75% of 80"),
        Case("all-of-20-saddles-too-few-to-tell", NO_RUNS, points([0.5] * 20), None, "100% of 20"),
        Case("none-converged", NO_RUNS, points([0.5] * 20, converged=False), None),
        Case("no-points", NO_RUNS, NO_CURVES, None),
    ],
    "minimum_ratio_trend_with_initialisations": [
        Case(
            "significant",
            NO_RUNS,
            init_points(-0.2),
            True,
            "sinc: ρ -1.00, -1.00, -1.00, -1.00 over the first 10, 20, 30, 40",
        ),
        # ρ = -0.03 over 40 converged points: not significant; p < 0.05 would need ≈ 5,211 initialisations
        Case("too-weak", NO_RUNS, init_points(-0.02, seed=2, converged_share=1), None, "would need ≈ 5,211"),
        Case("wrong-sign", NO_RUNS, init_points(0.2), False),
        Case("too-few-points", NO_RUNS, init_points(-0.2, converged_share=20), None),
    ],
    "minimum_ratio_rises_as_loss_falls": [
        Case(
            "ratio-rises-as-loss-falls",
            NO_RUNS,
            points(list(np.linspace(0.1, 1.0, 10)), list(np.linspace(2.0, 0.1, 10))),
            True,
            "ρ = -1.00",
        ),
        Case(
            "ratio-falls-with-loss",
            NO_RUNS,
            points(list(np.linspace(0.1, 1.0, 10)), list(np.linspace(0.1, 2.0, 10))),
            False,
            "ρ = +1.00",
        ),
        Case("no-correlation", NO_RUNS, points([0.5, 0.9, 0.6, 0.8, 0.7], [1.0, 2.0, 3.0, 4.0, 5.0]), None),
        Case("none-converged", NO_RUNS, points([0.5, 0.6, 0.7], [3.0, 2.0, 1.0], converged=False), None),
    ],
    "saddle_taylor_descent_direction": [
        Case("taylor-within-1%", NO_RUNS, taylor(0.01), True, "largest relative error 1.0%"),
        Case("taylor-off-by-20%", NO_RUNS, taylor(0.2), False, "largest relative error 20.0%"),
        Case("loss-rises-on-one-side", NO_RUNS, taylor(0.0, first_order=0.01), False),
        Case("no-saddle", NO_RUNS, NO_CURVES, None),
    ],
    "saddle_noise_escapes": [
        Case("only-noisy-leaves", SADDLE_RUN, saddle(None, 150), True, "exact GD did not leave"),
        Case("exact-leaves-too", SADDLE_RUN, saddle(300, 150), False, "exact GD left at update 300"),
        Case("neither-leaves", SADDLE_RUN, saddle(None, None), False, "noisy GD did not leave"),
        Case("no-saddle", SADDLE_RUN, NO_CURVES, None),
    ],
    "depth_plain_deeper_trains_worse": [
        Case(
            "plain-56-higher",
            depth_runs({(20, False): PLAIN_20, (56, False): [0.9, 0.92, 0.91]}),
            NO_CURVES,
            True,
            "plain-20 0.51 ± 0.01; plain-56 0.91 ± 0.01",
        ),
        Case(
            "plain-56-lower",
            depth_runs({(20, False): PLAIN_20, (56, False): [0.30, 0.32, 0.31]}),
            NO_CURVES,
            False,
        ),
        Case(
            "plain-56-within-noise",
            depth_runs({(20, False): PLAIN_20, (56, False): [0.49, 0.55, 0.52]}),
            NO_CURVES,
            None,
        ),
        Case("no-plain-56", depth_runs({(20, False): PLAIN_20, (56, True): RES_20}), NO_CURVES, None),
    ],
    "depth_residual_deeper_trains_as_well": [
        Case(
            "resnet-56-lower",
            depth_runs({(20, True): RES_20, (56, True): [0.20, 0.22, 0.21], (56, False): [0.9, 0.92]}),
            NO_CURVES,
            True,
            "ResNet-20 0.31 ± 0.01; ResNet-56 0.21 ± 0.01; plain-56 0.91 ± 0.0141",
        ),
        Case(
            "resnet-56-higher",
            depth_runs({(20, True): RES_20, (56, True): [0.6, 0.62], (56, False): [0.9, 0.92]}),
            NO_CURVES,
            False,
        ),
        Case(
            "resnet-56-not-below-plain-56",
            depth_runs({(20, True): RES_20, (56, True): [0.20, 0.22], (56, False): [0.10, 0.11]}),
            NO_CURVES,
            False,
        ),
        Case(  # as low as ResNet-20 within the seeds' noise: "at least as well" is not resolved either way
            "resnet-56-as-low",
            depth_runs({(20, True): RES_20, (56, True): [0.30, 0.32, 0.31], (56, False): [0.9, 0.92]}),
            NO_CURVES,
            None,
        ),
        Case("no-resnet-20", depth_runs({(56, True): RES_20, (56, False): PLAIN_20}), NO_CURVES, None),
    ],
    "adaptive_lower_training_loss": [
        Case(
            "every-adaptive-below-sgd",
            optimizer_runs(SGD_LOSSES | ADAM | {("rmsprop", "constant", 1e-3): (0.1, 0.9, 0.9)}),
            NO_CURVES,
            True,
            "MNIST: SGD 0.3 ± 0.000707 vs RMSProp 0.1 ± 0.000707, Adam 0.05 ± 0.000707",
        ),
        Case(
            "rmsprop-above-sgd",
            optimizer_runs(SGD_LOSSES | ADAM | {("rmsprop", "constant", 1e-3): (0.4, 0.9, 0.9)}),
            NO_CURVES,
            False,
            "RMSProp 0.4 ± 0.000707",
        ),
        Case(
            "rmsprop-within-noise",
            optimizer_runs(
                SGD_LOSSES | ADAM | {("rmsprop", "constant", 1e-3): (0.29, 0.9, 0.9)}, jitter=0.01
            ),
            NO_CURVES,
            None,
        ),
        Case("no-adaptive", optimizer_runs(SGD_LOSSES), NO_CURVES, None),
        Case("no-sgd", optimizer_runs(ADAM), NO_CURVES, None),
    ],
    "adaptive_margin_grows_with_budget": [
        Case(
            "pulls-ahead",
            adaptive_budget({4: -0.01, 12: 0.2}),
            NO_CURVES,
            True,
            "4 epochs: SGD 1 ± 0.00707, Adagrad 1.01 ± 0.00707",
        ),
        Case(
            "falls-behind", adaptive_budget({4: 0.2, 12: 0.1}), NO_CURVES, False, "12 epochs: SGD 1 ± 0.00707"
        ),
        Case("within-noise", adaptive_budget({4: 0.0, 12: 0.01}, jitter=0.05), NO_CURVES, None),
        Case("one-budget", adaptive_budget({12: 0.2}), NO_CURVES, None),
    ],
    "momentum_gap_shrinks_with_budget": [
        Case(
            "closes-in",
            cifar_leads({4: 0.0365, 12: 0.01}),
            NO_CURVES,
            True,
            "12 epochs: momentum + cosine 40.00 ± 0.14 %, Adam (constant) 41.00 ± 0.14 % (lead +1.00)",
        ),
        Case("falls-behind", cifar_leads({4: 0.0365, 12: 0.05}), NO_CURVES, False, "(lead +5.00)"),
        Case("within-noise", cifar_leads({4: 0.0365, 12: 0.03}, jitter=0.02), NO_CURVES, None),
        Case("one-budget", cifar_leads({12: 0.01}), NO_CURVES, None),
    ],
    "residual_depth_gap_shrinks_with_budget": [
        Case(
            "catches-up",
            residual_budget({12: 0.38, 24: 0.2, 48: 0.1}),
            NO_CURVES,
            True,
            "48 epochs: ResNet-20 0.5, ResNet-56 0.6 (excess +0.100, 2 seeds)",
        ),
        Case("falls-behind", residual_budget({12: 0.2, 48: 0.3}), NO_CURVES, False, "excess +0.300"),
        Case(
            "one-seed-at-the-longest",
            residual_budget({12: 0.38, 48: 0.0}, one_seed_at=48),
            NO_CURVES,
            None,
            "(excess +0.000, 1 seed); ResNet-56, 48 epochs: one seed, ResNet-20, 48 epochs: one seed",
        ),
        Case("one-budget", residual_budget({48: 0.1}), NO_CURVES, None),
    ],
    "momentum_decay_close_to_adam": [
        Case(
            "within-a-point",
            optimizer_runs(momentum_cosine(0.975) | ADAM),
            NO_CURVES,
            True,
            "momentum + cosine 97.50 ± 0.07 %, Adam (cosine) 98.00 ± 0.07 % (gap +0.50 points)",
        ),
        Case("three-points-below", optimizer_runs(momentum_cosine(0.95) | ADAM), NO_CURVES, False, "+3.00"),
        Case(
            "a-point-below-within-noise",
            optimizer_runs(momentum_cosine(0.97) | ADAM, jitter=0.01),
            NO_CURVES,
            None,
        ),
        Case("no-adam", optimizer_runs(momentum_cosine(0.975) | SGD_LOSSES), NO_CURVES, None),
        Case("no-momentum-cosine", optimizer_runs(ADAM | SGD_LOSSES), NO_CURVES, None),
    ],
    "ce_trains_faster_than_mse": [
        Case(
            "ce-faster-gap-shrinks",
            *loss_tables(CE_FASTER),
            True,
            "SGD: CE 85.00 ± 0.71 %, MSE 30.00 ± 0.71 % (gap +55.00",
        ),
        Case(
            "adam-gap-larger",
            *loss_tables(CE_FASTER | {("adam", "mse"): [0.1, 0.1]}),
            False,
            "Adam: CE 90.00 ± 0.71 %, MSE 10.00 ± 0.71 % (gap +80.00",
        ),
        Case("mse-faster-with-sgd", *loss_tables(CE_FASTER | {("sgd", "mse"): [0.9, 0.95]}), False),
        Case(
            "adam-gap-as-large-within-noise",
            *loss_tables(CE_FASTER | {("adam", "mse"): [0.3, 0.45]}, jitter=0.02),
            None,
        ),
        Case(
            "no-adam",
            *loss_tables({k: v for k, v in CE_FASTER.items() if k[0] == "sgd"}),
            None,
        ),
    ],
    **{claim: sharp_flat_cases(claim) for claim in SHARP_FLAT_TABLES},
    "warmup_helps_at_large_lr": [
        Case(
            "warmup-lower",
            warmup_runs(
                PLAIN
                | {("cosine", 1.0): [None, 1.5, 1.6]}
                | {("warmup_cosine", 0.01): [0.2, 0.2], ("warmup_cosine", 0.1): [0.25, 0.26]}
                | {("warmup_cosine", 1.0): [0.4, 0.42]}
            ),
            NO_CURVES,
            True,
            "best lr without warm-up 0.01 (validation loss 0.205); lr 0.1: final training loss 0.81 (2",
        ),
        Case(
            "warmup-higher",
            warmup_runs(PLAIN | {("warmup_cosine", 0.1): [1.5, 1.52]}),
            NO_CURVES,
            False,
            "lr 0.1: final training loss 0.81 (2 seeds) without warm-up, 1.51 (2 seeds) with it",
        ),
        Case(
            "within-seed-spread",
            warmup_runs(
                {
                    ("cosine", 0.01): [0.2, 0.21],
                    ("cosine", 0.1): [0.8, 0.9],
                    ("warmup_cosine", 0.1): [0.82, 0.86],
                }
            ),
            NO_CURVES,
            None,
        ),
        Case(  # a diverged seed has no loss: left out, and every seed diverged leaves no interval
            "warmup-diverges-at-the-largest-lr",
            warmup_runs(
                PLAIN
                | {("cosine", 1.0): [1.5, 1.6]}
                | {("warmup_cosine", 0.1): [0.3, 0.31], ("warmup_cosine", 1.0): [None, None]}
            ),
            NO_CURVES,
            None,
            "lr 1: final training loss 1.55 (2 seeds) without warm-up, nan (0 seeds, 2 diverged: left out)",
        ),
        Case("no-warmup-runs", warmup_runs(PLAIN), NO_CURVES, None),
        Case(  # a partial sweep: idxmin over no loss at all must not crash the report
            "every-run-without-warmup-diverged",
            warmup_runs({("cosine", 0.1): [None, None], ("warmup_cosine", 0.1): [0.3, 0.31]}),
            NO_CURVES,
            None,
            "no run without warm-up ended ok",
        ),
        Case(
            "best-lr-is-the-largest",
            warmup_runs({("cosine", 0.01): [0.5], ("cosine", 0.1): [0.2], ("warmup_cosine", 0.1): [0.1]}),
            NO_CURVES,
            None,
            "no peak learning rate above the best one without warm-up (0.1)",
        ),
    ],
    "batchnorm_tolerates_larger_lr": [
        Case(
            "bn-trains-where-no-bn-fails",
            norm_runs(BN_TRAINS | NO_BN_AT_SMALL_LR | NO_BN_BLOWS_UP),
            NO_CURVES,
            True,
            "lr 1: without BN 1 of 2 seeds diverged, validation 30.0 %; with BN test accuracy 91.0 % (2 ",
        ),
        Case(
            "only-bn-trainable",
            norm_runs(BN_TRAINS | {("mlp", 0.1, None): [None, None]}),
            NO_CURVES,
            True,
            "lr 0.1: without BN 2 of 2 seeds diverged; with BN test accuracy 95.5 %",
        ),
        Case(
            "bn-fails-too",
            norm_runs(
                BN_TRAINS | NO_BN_AT_SMALL_LR | NO_BN_BLOWS_UP | {("keskar_f1", 1.0, None): [0.2, 0.22]}
            ),
            NO_CURVES,
            False,
        ),
        Case(
            "bn-within-the-noise",
            norm_runs(
                BN_TRAINS | NO_BN_AT_SMALL_LR | NO_BN_BLOWS_UP | {("keskar_f1", 1.0, None): [0.3, 0.9]}
            ),
            NO_CURVES,
            None,
        ),
        Case(
            "no-bn-trains-everywhere",
            norm_runs(BN_TRAINS | NO_BN_AT_SMALL_LR | {("mlp", 1.0, None): [0.8, 0.85]}),
            NO_CURVES,
            None,
            "trains at every learning rate run",
        ),
        Case(
            "bn-not-run-where-no-bn-fails",
            norm_runs({("keskar_f1", 0.1, None): [0.95, 0.96]} | NO_BN_AT_SMALL_LR | NO_BN_BLOWS_UP),
            NO_CURVES,
            None,
        ),
    ],
    "clipping_prevents_divergence": [
        Case(
            "clipped-runs-survive",
            norm_runs(
                NO_BN_AT_SMALL_LR
                | {("mlp", 1.0, None): [None] * 4, ("mlp", 1.0, 1.0): [0.6, 0.62, 0.61, 0.6]}
                | {("keskar_f1", 10.0, None): [None]}  # BatchNorm network: not the one the claim is about
            ),
            NO_CURVES,
            True,
            "lr 1: 4 of 4 seeds diverged unclipped, 0 of 4 clipped (clipped test accuracy 60.8 %)",
        ),
        Case(
            "clipped-runs-diverge-more",
            norm_runs({("mlp", 1.0, None): [None, 0.5, 0.5, 0.5, 0.5], ("mlp", 1.0, 1.0): [None] * 5}),
            NO_CURVES,
            False,
            "lr 1: 1 of 5 seeds diverged unclipped, 5 of 5 clipped",
        ),
        Case(  # 2 of 2 against 0 of 2 seeds: too few to tell
            "two-seeds-each",
            norm_runs({("mlp", 1.0, None): [None, None], ("mlp", 1.0, 1.0): [0.6, 0.62]}),
            NO_CURVES,
            None,
            "lr 1: 2 of 2 seeds diverged unclipped, 0 of 2 clipped",
        ),
        Case(
            "no-clipped-run-at-that-lr",
            norm_runs({("mlp", 1.0, None): [None, 0.5], ("mlp", 0.1, 1.0): [0.9]}),
            NO_CURVES,
            None,
            "lr 1: 1 of 2 seeds diverged unclipped, no clipped run",
        ),
        Case("nothing-diverged", norm_runs(NO_BN_AT_SMALL_LR | {("mlp", 0.1, 1.0): [0.9]}), NO_CURVES, None),
    ],
    "stuck_is_not_small_gradient": [
        Case(
            "plateau-large-gradient",
            *stuck_tables(PLATEAU, GROWING_GRAD),
            True,
            "seed 1: loss 2.3 at update 60",
        ),
        Case(
            "plateau-small-gradient",
            *stuck_tables(PLATEAU, SHRINKING_GRAD),
            False,
            "median 0.0105 on the plateau",
        ),
        Case("loss-keeps-falling", *stuck_tables(FALLING, GROWING_GRAD), False),
        Case("plateau-gradient-unchanged", *stuck_tables(PLATEAU, STEADY_GRAD), None),
        Case("one-seed", *stuck_tables(PLATEAU, GROWING_GRAD, seeds=1), None),
        Case(
            "no-ok-run",
            stuck_tables(PLATEAU, GROWING_GRAD)[0].assign(status="diverged"),
            stuck_tables(PLATEAU, GROWING_GRAD)[1],
            None,
        ),
    ],
    "epoch_faster_with_large_batch": [
        Case(
            "600x-shorter", timing_runs(GPU_LIKE), NO_CURVES, True, "60.6 s at batch 1, 101 ms at batch 1,000"
        ),
        Case("10x-shorter", timing_runs(CPU_LIKE), NO_CURVES, False, "ratio 10.0x"),
        Case("one-repeat", timing_runs(GPU_LIKE, repeats=1), NO_CURVES, None, "ratio 600.0x"),
        Case("no-batch-1000", timing_runs({1: (60.0, 1e-3), 100: (0.8, 2e-3)}), NO_CURVES, None),
    ],
    "update_time_grows_slowly": [
        Case("2x", timing_runs(GPU_LIKE), NO_CURVES, True, "1.01 ms at batch 1, 2.02 ms at batch 100"),
        Case("50x", timing_runs(CPU_LIKE), NO_CURVES, False, "ratio 50.0x"),
        Case("one-repeat", timing_runs(CPU_LIKE, repeats=1), NO_CURVES, None),
        Case("no-batch-100", timing_runs({1: (60.0, 1e-3), 1000: (0.1, 1e-2)}), NO_CURVES, None),
    ],
    "update_time_flat_up_to_large_batches": [
        Case("flat", timing_runs(GPU_LIKE, device=A100), NO_CURVES, True, "batch^0.13 for batch 1,000-4,000"),
        Case("linear", timing_runs(CPU_LIKE, device=A100), NO_CURVES, False, "batch^1.00"),
        Case("flat-on-a-cpu", timing_runs(GPU_LIKE), NO_CURVES, None, "needs a GPU; on this CPU: time per"),
        Case("linear-on-a-cpu", timing_runs(CPU_LIKE), NO_CURVES, None, "needs a GPU; on this CPU: time per"),
        Case(
            "one-large-batch", timing_runs({1: (60.0, 1e-3), 1000: (0.1, 1e-2)}, device=A100), NO_CURVES, None
        ),
    ],
    "toy_gd_lr_extremes": [
        Case("oscillates-and-crawls", NO_RUNS, lr_extremes(), True, "b changed sign in 99 of the last 99"),
        Case("large-lr-settles", NO_RUNS, lr_extremes(flips=10), False),
        Case("small-lr-gets-halfway", NO_RUNS, lr_extremes(small_final=4.0), False),
        Case("missing-path", NO_RUNS, lr_extremes().iloc[:1], None),
        Case("several-toy-runs", NO_RUNS, two_toy_runs(lr_extremes()), None),
    ],
    "toy_adagrad_bursts_decay_fixes": [
        Case("decay-removes-bursts", TOY_RUN, adagrad(), True, "3 bursts up to |b| = 0.5"),
        Case(
            "decay-bursts-too",
            TOY_RUN,
            adagrad(decay_bursts=2),
            False,
            "with decay: close to the minimum at update 60, 2 bursts",
        ),
        Case("decay-never-close", TOY_RUN, adagrad(decay_close=np.nan), False, "with decay: never got close"),
        Case("missing-path", TOY_RUN, adagrad().iloc[:1], None),
        Case("several-toy-runs", TOY_RUN, two_toy_runs(adagrad()), None),
    ],
    "toy_momentum_passes_critical_point": [
        Case("momentum-passes", NO_RUNS, momentum(), True, "ends 1e-05 from the minimum"),
        Case("gd-crosses-zero", NO_RUNS, momentum(gd_min_x=-0.1), False),
        Case("momentum-stops-short", NO_RUNS, momentum(momentum_final=0.5), False),
        Case("missing-path", NO_RUNS, momentum().iloc[:1], None),
    ],
    "toy_mse_stalls_ce_trains": [
        Case("mse-stuck", NO_RUNS, mse_vs_ce(), True, "GD + MSE: 1 → 0.999 (gradient 1.0e-09 at the start)"),
        Case("mse-trains", NO_RUNS, mse_vs_ce(mse_final=0.5), False),
        Case("missing-path", NO_RUNS, mse_vs_ce(paths=("gd_cross_entropy", "gd_mse")), None),
    ],
    "toy_bias_correction": [
        Case("correction-removes-bias", NO_RUNS, ewa(), True, "0.000 with it"),
        Case(
            "correction-nearly-removes-it",
            NO_RUNS,
            ewa(corrected_error=0.05),
            True,
            "0.586 without correction, 0.029 with it",
        ),
        Case("correction-off", NO_RUNS, ewa(corrected_error=-0.5), False),
        Case("no-average", NO_RUNS, mse_vs_ce(), None),
    ],
}


@pytest.mark.parametrize(
    ("claim", "case"),
    [(claim, case) for claim, cases in CASES.items() for case in cases],
    ids=[f"{claim}-{case.label}" for claim, cases in CASES.items() for case in cases],
)
def test_claim_verdict(claim: str, case: Case) -> None:
    result = CLAIMS[claim].fn(case.runs, case.curves)
    assert result.reproduced is case.expected, result.measured
    assert case.text in result.measured
    assert result.measured


def assert_under_the_rule(result: ClaimResult) -> None:
    """A ✓ or ✗ comes with effects and is their combination; an effect has a finite interval where every group
    has 2 units or more (an exact computation's is its value), else — with its reason."""
    assert result.effects or result.reproduced is None, result.measured
    if result.reproduced is not None:
        assert result.reproduced is combined(result.effects), result.measured
    for effect in result.effects:
        d = effect.decision
        if min(d.ns, default=0) >= 2:  # an interval, or — with the reason there is none (a value <= 0)
            assert math.isfinite(d.low) and math.isfinite(d.high) or d.verdict is None and d.reason, (
                effect.cell()
            )


@pytest.mark.parametrize(
    ("claim", "case"),
    [(claim, case) for claim, cases in CASES.items() for case in cases],
    ids=[f"{claim}-{case.label}" for claim, cases in CASES.items() for case in cases],
)
def test_claim_is_decided_by_its_effects(claim: str, case: Case) -> None:
    """Every claim here is under the one rule (no hand-kept list of which)."""
    assert_under_the_rule(CLAIMS[claim].fn(case.runs, case.curves))


def test_every_claim_is_decided_both_ways() -> None:
    """Each registered claim has ✓, ✗ and undecided cases here, or is decided in another test file that
    names it (a study's own test, e.g. tests/test_study_<name>.py from the scaffold)."""
    others = [
        p.read_text() for p in sorted((ROOT / "tests").glob("test_*.py")) if p.name != Path(__file__).name
    ]
    elsewhere = {claim for claim in CLAIMS if claim not in CASES and any(claim in text for text in others)}
    assert set(CASES) | elsewhere == set(CLAIMS), sorted(set(CLAIMS) - set(CASES) - elsewhere)
    for claim, cases in CASES.items():
        assert {c.expected for c in cases} == {True, False, None}, claim


def registered() -> list[tuple[str, str, str]]:
    """(kind, name, experiment) of every registered claim, figure and table."""
    return (
        [("claim", c.claim_id, c.experiment) for c in CLAIMS.values()]
        + [("figure", f.name, f.experiment) for f in FIGURES.values()]
        + [("table", name, experiment) for name, (experiment, _) in TABLES.items()]
    )


def test_every_claim_figure_and_table_names_an_experiment() -> None:
    """``make sweep EXP=<experiment>`` (the report's rerun command) runs ``experiments/<experiment>.yaml``;
    its runs go to ``results/<experiment_name>/``, where the report and the figures read ``<experiment>``:
    so the file must exist and, composed as the CLI composes it, name itself."""
    named = {experiment for _, _, experiment in registered()}
    files = {p.stem for p in (ROOT / "experiments").glob("*.yaml")}
    missing = [(kind, name, e) for kind, name, e in registered() if e not in files]
    assert not missing, f"no experiments/<experiment>.yaml for {missing}"
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        recorded_as = {e: compose("config", overrides=[f"experiment={e}"]).experiment_name for e in named}
    assert recorded_as == {e: e for e in named}
