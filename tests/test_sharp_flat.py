"""The sharp/flat study: a miniature sweep trains its SB/LB source runs as keskar_gap runs, analyses them,
reuses them the next time with identical numbers, and gives every table, figure and claim; a diverged source
fails the analysis with a clear error."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pandas as pd
import pytest
import torch

from optfactors.analysis import landscape
from optfactors.report.claims import CLAIMS
from optfactors.report.collect import collect
from optfactors.report.figures import FIGURES, draw_all
from optfactors.report.tables import TABLES, write_tables

EXPERIMENT = "sharp_flat"
#: keskar_gap shrunk as in test_batch_study's miniature (early stopping after 2 epochs), CSV logging only, on
#: a narrow F1 (5 x 32 instead of 5 x 512: the full-space ε-sharpness searches one variable per parameter).
SOURCE = [
    "model.width=32",
    "sizes.mnist.subset=300",
    "sizes.mnist.val_size=100",
    "sizes.mnist.max_epochs=3",
    "sizes.mnist.patience=1",
    "early_stopping.min_delta=10.0",
    "sizes.mnist.sb=10",
    "sizes.mnist.lb=30",
    "trainer.limit_test_batches=1",
]
#: The analysis shrunk: 100 samples, a few Lanczos steps, directions, radii and alphas.
ANALYSIS = [
    "sizes.mnist.train=100",
    "sizes.mnist.test=100",
    "sizes.mnist.lanczos_iter=5",
    "sizes.mnist.trace_samples=2",
    "sizes.mnist.directions=2",
    "sizes.mnist.plane_points=3",
    "sharp_flat.sharpness.max_iter=2",
    "sharp_flat.interpolation.alphas=[-1.0,2.0,4]",
    "sharp_flat.perturbation.radii=[0.0,1.0,3]",
]


def _args(tmp_path: Path, *extra: str, source: list[str] = SOURCE) -> list[str]:
    quoted = ",".join(f'"{o}"' for o in source)
    return [
        f"experiment={EXPERIMENT}",
        "setting=mnist_f1",
        "logger=csv",
        f"paths.results={tmp_path / 'results'}",
        f"hydra.run.dir={tmp_path / 'run'}",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
        f"sharp_flat.source.overrides=[{quoted}]",
        *ANALYSIS,
        *extra,
    ]


def _records(results: Path, experiment: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((results / experiment / "runs").glob("*.json"))]


def test_a_miniature_sweep_trains_reuses_and_reports(cli, tmp_path):
    results = tmp_path / "results"
    done = cli("-m", *_args(tmp_path, "seed=0,1"), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    records = _records(results, EXPERIMENT)
    assert [r["status"] for r in records] == ["ok", "ok"]
    # The sources are keskar_gap runs, trained now, recorded and kept where keskar_gap's own sweep puts them.
    sources = {r["run_key"]: r for r in _records(results, "keskar_gap")}
    for record in records:
        for regime, source in record["sources"].items():
            assert source["trained_now"] and source["experiment"] == "keskar_gap"
            assert sources[source["run_key"]]["config"]["regime"] == regime
            assert (results / "keskar_gap" / "checkpoints" / source["run_key"] / "last.ckpt").is_file()
        assert record["sources"]["lb"]["batch_size"] == 30 and record["sources"]["sb"]["batch_size"] == 10
        tables = {row["table"] for row in record["curve"]}
        assert tables == {
            "solution",
            "sharpness",
            "hessian",
            "spectrum",
            "interpolation",
            "perturbation",
            "plane",
        }
        assert record["metrics"]["lb_sharpness_full_0.001"] > 0
        assert record["metrics"]["lb_sharpness_adaptive_0.001"] > 0
        for regime, source in record["sources"].items():  # generalization of the same models, whole sets
            metrics = sources[source["run_key"]]["metrics"]
            assert record["metrics"][f"{regime}_source_test_acc"] == metrics["test_acc"]
            assert record["metrics"][f"{regime}_source_train_eval_acc"] == metrics["train_eval_acc"]

    # Analysed again from scratch: the kept checkpoints are reused and every number is the same.
    again = cli(*_args(tmp_path, "seed=0", "resume=false"), timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    first = next(r for r in records if r["config"]["seed"] == 0)
    second = json.loads((results / EXPERIMENT / "runs" / f"{first['run_key']}.json").read_text())
    assert not any(s["trained_now"] for s in second["sources"].values())
    assert second["curve"] == first["curve"]

    runs, curves = collect(results, EXPERIMENT)
    written = {p.name for p in draw_all(results) + write_tables(results)}
    for name, spec in FIGURES.items():
        if spec.experiment == EXPERIMENT:
            assert {f"{name}.png", f"{name}.pdf"} <= written
    sharpness = pd.read_csv(results / EXPERIMENT / "sharpness.csv")
    assert list(sharpness["ε"]) == [0.001, 0.0005] and set(sharpness["seeds"]) == {2}
    assert sharpness.loc[0, "paper full space LB"] == "205.14 ± 69.52"
    assert (results / EXPERIMENT / "hessian.csv").read_text().count("\n") == 1 + 2
    assert "adaptive SB" in sharpness.columns and "adaptive LB/SB" in sharpness.columns
    assert {name for name, (exp, _) in TABLES.items() if exp == EXPERIMENT} == {
        "sharpness",
        "hessian",
        "sharpness_accuracy",
    }
    correlation = pd.read_csv(results / EXPERIMENT / "sharpness_accuracy.csv")
    assert list(correlation["solutions"]) == [4, 4, 4]  # 2 seeds x SB, LB, for each of the 3 measures
    for claim in CLAIMS.values():
        if claim.experiment != EXPERIMENT:
            continue
        result = claim.fn(runs, curves)
        (effect,) = result.effects
        if claim.claim_id == "sharper_solutions_generalize_worse":  # 2 + 2 solutions: too few to decide
            assert result.measured.startswith("F1 (MNIST): partial ") and result.reproduced is None
        else:  # LB / SB paired over the 2 seeds
            assert result.measured.startswith("F1 (MNIST): LB/SB = ") and effect.decision.ns == (2,)
            assert math.isfinite(effect.decision.low) and math.isfinite(effect.decision.high)


def test_a_diverged_source_fails_the_analysis_with_its_reason(cli, tmp_path):
    done = cli(*_args(tmp_path, "seed=0", source=[*SOURCE, "optimizer.lr=1e9"]), timeout=600)
    assert done.returncode != 0
    (record,) = _records(tmp_path / "results", EXPERIMENT)
    assert record["status"] == "failed"
    assert (
        record["error"].startswith("SourceError: source run keskar_gap/")
        and "ended diverged" in record["error"]
    )


def test_interpolation_can_evaluate_test_batches_with_training_statistics():
    torch.manual_seed(0)
    model_a = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    model_b = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    train = [(torch.randn(50, 3) * 3 + 1, torch.randint(0, 2, (50,)))]
    test = [(torch.randn(40, 3), torch.randint(0, 2, (40,)))]
    loss_fn = torch.nn.CrossEntropyLoss()
    frame = landscape.interpolate(
        model_a, model_b, loss_fn, test, [0.0, 1.0], bn="recompute", statistics_batches=train
    )
    for alpha, model in ((0.0, model_a), (1.0, model_b)):
        reference = copy.deepcopy(model)
        landscape.recompute_bn_statistics(reference, train)
        expected = landscape.evaluate(reference, loss_fn, test)
        assert frame.loc[frame["alpha"] == alpha, "loss"].item() == pytest.approx(expected[0], rel=1e-6)
    own = landscape.interpolate(model_a, model_b, loss_fn, test, [0.0], bn="recompute")
    assert own["loss"].item() != pytest.approx(frame["loss"].iloc[0], rel=1e-3)
