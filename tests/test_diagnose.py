"""``optfactors diagnose``: the lecture's verdict on the committed studies, and on hand-made tables for every
branch (diverged, not a critical point, critical point, optimization, model bias, overfitting, fine)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optfactors.diagnose.rules import (
    CRITICAL,
    DIVERGED,
    FAILED,
    FINE,
    MODEL_BIAS,
    NOT_CRITICAL,
    OPTIMIZATION,
    OVERFITTING,
    UNDECIDED,
    Diagnosis,
    chance_loss,
    diagnose,
)
from optfactors.diagnose.tables import load

ROOT = Path(__file__).resolve().parents[1]
LARGE = "is large: above 0.23 (0.1 x the chance loss 2.3)"


def committed(experiment: str) -> dict[str, Diagnosis]:
    """The diagnoses of a committed study's tables, by run label."""
    _, runs, curves = load(experiment, ROOT / "results")
    return {d.label: d for d in diagnose(runs, curves)}


def test_depth_the_deeper_plain_network_is_an_optimization_issue():
    found = committed("depth")
    for seed, loss in ((0, "2.27"), (1, "1.97")):
        deep = found[f"model.depth=56 model.residual=False seed={seed}"]
        assert deep.verdict == OPTIMIZATION
        assert deep.evidence[:2] == (
            f"training loss {loss} {LARGE}",
            "a shallower network (model.depth=20) reached a training loss of 1.42 (2 seeds): this network "
            "can compute everything that one does, so it is not model bias",
        )
        shallow = found[f"model.depth=20 model.residual=False seed={seed}"]
        assert shallow.verdict == UNDECIDED  # the deeper one did worse: depth did not help, nothing shallower
        assert shallow.evidence[1].startswith(
            "a deeper network (model.depth=56) reached a training loss of 2.12"
        )
    # in this budget the residual 56 also trains worse than the residual 20 (the claim that it does not is ✗)
    assert found["model.depth=56 model.residual=True seed=0"].verdict == OPTIMIZATION
    assert (
        "(model.depth=20) reached a training loss of 0.942"
        in found["model.depth=56 model.residual=True seed=0"].evidence[1]
    )


def test_stuck_training_stalls_with_a_large_gradient_not_at_a_critical_point():
    found = committed("stuck")
    assert found["seed=0"].verdict == found["seed=1"].verdict == NOT_CRITICAL
    assert found["seed=0"].evidence == (
        f"training loss 1.85 {LARGE}",
        "the training loss stalled: median 2.17 over the last 37 of 150 points (from update 114) vs 2.16 "
        "over 37 around the middle (from update 58)",
        "gradient norm: median 0.626 over the second half vs 0.291 over the first tenth (2.2x; below 0.1x "
        "would be a vanishing gradient)",
    )
    # seed 1 ends on one of the plateau's spikes (6.36); its gradient norm stays at 0.83x its early value
    assert found["seed=1"].evidence[2].startswith("gradient norm: median 0.319 over the second half vs 0.383")


def test_normalization_the_plain_network_fails_where_the_same_network_with_batchnorm_trains():
    found = committed("normalization")
    plain = {label: d for label, d in found.items() if label.startswith("model=mlp_deep")}
    with_bn = {label: d for label, d in found.items() if label.startswith("model=keskar_f1")}
    assert sorted(label for label, d in plain.items() if d.verdict == DIVERGED) == [
        f"model=mlp_deep optimizer.lr={lr} trainer.gradient_clip_val=null seed={seed}"
        for lr, seed in ((1, 0), (3, 0), (3, 1))
    ]
    assert found["model=mlp_deep optimizer.lr=3 trainer.gradient_clip_val=null seed=0"].evidence == (
        "the loss became non-finite at update 11 (epoch 1) with learning rate 3 (constant schedule, no "
        "gradient clipping)",
        "the same network with BatchNorm (model=keskar_f1) reached a training loss of 0.3 (2 seeds) without "
        "diverging",
        "the same network (optimizer.lr=0.3) reached a training loss of 0.308 (2 seeds) without diverging",
        "the same network (trainer.gradient_clip_val=1) reached a training loss of 1.9 (2 seeds) without "
        "diverging",
        "the same network with BatchNorm (model=keskar_f1 optimizer.lr=0.1) reached a training loss of "
        "0.0152 (2 seeds) without diverging",
    )
    trained = [d for d in plain.values() if d.verdict != DIVERGED]
    assert len(trained) == 13 and all(d.verdict == OPTIMIZATION for d in trained)
    assert all(d.evidence[1].startswith("the same network with BatchNorm (model=keskar_f1") for d in trained)
    assert Counter(d.verdict for d in with_bn.values()) == {FINE: 14, OPTIMIZATION: 2}  # lr 3 unclipped
    assert (
        found["model=keskar_f1 optimizer.lr=3 trainer.gradient_clip_val=null seed=0"]
        .evidence[1]
        .startswith("the same network (optimizer.lr=0.1) reached a training loss of 0.0152")
    )


def run(key: str, hidden: list[int], train: float | None, val: float | None = None, **fields: Any) -> dict:
    """One runs.csv row of an MLP on MNIST (ok, constant lr 0.1, seed 0, unless ``fields`` say otherwise)."""
    return {
        "run_key": key,
        "status": "ok",
        "error": None,
        "updates": 100,
        "diverged_epoch": None,
        "model": "mlp",
        "schedule": "constant",
        "loss": "cross_entropy",
        "train_loss": train,
        "val_loss": val if val is not None else (train or 0) + 0.05,
        "data.name": "mnist",
        "data.num_classes": 10,
        "model.hidden": json.dumps(hidden),
        "optimizer.lr": 0.1,
        "loss._target_": "torch.nn.CrossEntropyLoss",
        "seed": 0,
        **fields,
    }


def verdicts(*rows: dict, curves: pd.DataFrame | None = None) -> dict[str, Diagnosis]:
    found = diagnose(pd.DataFrame(rows), curves if curves is not None else pd.DataFrame())
    return {d.run_key: d for d in found}


def test_a_diverged_run_names_the_update_the_learning_rate_and_what_trained_instead():
    found = verdicts(
        run("blown", [64], None, status="diverged", updates=37, diverged_epoch=1, **{"optimizer.lr": 3.0}),
        run("calm", [64], 0.1),
    )
    assert found["blown"].verdict == DIVERGED
    assert found["blown"].evidence == (
        "the loss became non-finite at update 37 (epoch 2) with learning rate 3 (constant schedule)",
        "the same network (optimizer.lr=0.1) reached a training loss of 0.1 (1 seed) without diverging",
    )


def test_small_training_loss_is_overfitting_or_fine_by_the_validation_gap():
    found = verdicts(run("over", [64], 0.01, 0.9, seed=0), run("fine", [64], 0.05, 0.15, seed=1))
    assert found["over"].verdict == OVERFITTING
    assert (
        found["over"].evidence[1] == "validation loss 0.9, 0.89 above it (over 0.23, 0.1 x the chance loss)"
    )
    assert found["fine"].verdict == FINE
    assert found["fine"].evidence == (
        "training loss 0.05 is small: at most 0.23 (0.1 x the chance loss 2.3)",
        "validation loss 0.15, 0.1 above it (within 0.23, 0.1 x the chance loss)",
    )


def test_a_deeper_network_training_worse_than_a_shallower_one_is_an_optimization_issue():
    found = verdicts(run("deep", [64] * 5, 1.5), run("shallow", [64, 64], 0.5))
    assert found["deep"].verdict == OPTIMIZATION
    assert found["deep"].evidence[1] == (
        "a shallower network (model.hidden=[64, 64]) reached a training loss of 0.5 (1 seed): this network "
        "can compute everything that one does, so it is not model bias"
    )
    assert found["shallow"].verdict == UNDECIDED
    assert found["shallow"].evidence[1] == (
        "a deeper network (model.hidden=[64, 64, 64, 64, 64]) reached a training loss of 1.5 (1 seed), not "
        "clearly lower (below 0.45)"
    )


def test_only_a_more_flexible_network_fitting_better_is_model_bias():
    found = verdicts(
        run("small", [8], 1.2), run("big", [512, 512], 0.6), run("cnn", [8], 0.1, model="lenet5")
    )
    assert found["small"].verdict == MODEL_BIAS
    assert found["small"].evidence[1] == (
        "a deeper network (model.hidden=[512, 512]) reached a training loss of 0.6 (1 seed): more "
        "flexibility fits the training data better"
    )
    # lenet5 neither contains nor is contained in an MLP: its lower loss says nothing about the MLPs
    assert found["big"].verdict == UNDECIDED and "[8]" in found["big"].evidence[1]


def _curve(key: str, losses: np.ndarray, norms: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_key": key,
            "updates": np.arange(1, len(losses) + 1),
            "train_loss": losses,
            "train_grad_norm": norms,
        }
    )


def test_a_stalled_loss_is_not_a_critical_point_with_a_large_gradient_and_one_with_a_vanishing_gradient():
    flat = np.full(40, 2.0)
    curves = pd.concat(
        [
            _curve("bouncing", flat, np.r_[np.full(4, 0.5), np.full(36, 1.0)]),
            _curve("saddle", flat, np.r_[np.full(4, 1.0), np.full(36, 0.001)]),
            _curve("learning", np.linspace(2.0, 0.4, 40), np.full(40, 1.0)),
        ]
    )
    found = verdicts(
        run("bouncing", [64], 2.0, seed=0),
        run("saddle", [64], 2.0, seed=1),
        run("learning", [64], 0.4, seed=2),
        curves=curves,
    )
    assert found["bouncing"].verdict == NOT_CRITICAL
    assert found["bouncing"].evidence[2] == (
        "gradient norm: median 1 over the second half vs 0.5 over the first tenth (2x; below 0.1x would be a "
        "vanishing gradient)"
    )
    assert found["saddle"].verdict == CRITICAL and "(0.001x;" in found["saddle"].evidence[2]
    assert found["learning"].verdict == UNDECIDED  # large but still falling: no stall, nothing to compare


def test_failed_runs_and_the_mse_chance_loss():
    found = verdicts(run("crashed", [64], None, status="failed", error="RuntimeError: boom"))
    assert found["crashed"].verdict == FAILED and found["crashed"].evidence == (
        "status failed, RuntimeError: boom",
    )
    assert chance_loss({"data.num_classes": 10, "loss": "mse"}) == 0.9


def test_run_records_are_read_like_the_tables(tmp_path: Path):
    for key, hidden, loss in (("deep", [64] * 5, 1.5), ("shallow", [64, 64], 0.5)):
        config = {
            "data": {"name": "mnist", "subset": 1000, "val_size": 100, "num_classes": 10},
            "model": {"_target_": "optfactors.models.mlp", "hidden": hidden},
            "optimizer": {"_target_": "torch.optim.SGD", "lr": 0.1},
            "loss": {"_target_": "torch.nn.CrossEntropyLoss"},
            "seed": 0,
        }
        record = {
            "run_key": key,
            "status": "ok",
            "config": config,
            "metrics": {"train_loss": loss, "val_loss": loss},
        }
        (tmp_path / "runs").mkdir(exist_ok=True)
        (tmp_path / "runs" / f"{key}.json").write_text(json.dumps(record))
    where, runs, curves = load(str(tmp_path), tmp_path)
    assert where == tmp_path / "runs"
    assert {d.run_key: d.verdict for d in diagnose(runs, curves)} == {
        "deep": OPTIMIZATION,
        "shallow": UNDECIDED,
    }


def test_the_command_dispatches_and_explains_itself():
    def command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "optfactors", "diagnose", *args], capture_output=True, text=True, cwd=ROOT
        )

    assert "usage: optfactors diagnose" in command("--help").stdout
    out = command("stuck")
    assert out.returncode == 0
    assert out.stdout.splitlines()[-1] == "stuck: 2 optimization issue: not a critical point"
    refused = command("toy", "nope")
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "optfactors diagnose: toy: results/toy/runs.csv has no model, data.num_classes, train_loss: "
        "not training runs, nothing to diagnose",
        "optfactors diagnose: nope: not a runs.csv, a folder with runs.csv or run records, or an experiment "
        "in results/",
    ]
