"""The generalization-gap claims, the search table and the sharpness-accuracy correlation, on synthetic
tables that must give ✓, ✗ and undecided (no training)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from optfactors.report.claims import CLAIMS, ClaimResult
from optfactors.report.collect import collect
from optfactors.report.tables import TABLES
from optfactors.studies.keskar_gap_search.figures import search

SIMILAR = CLAIMS["sb_lb_similar_training_accuracy"].fn
GAP = CLAIMS["lb_lower_test_accuracy"].fn
CORRELATION = CLAIMS["sharper_solutions_generalize_worse"].fn
ADAPTIVE = CLAIMS["lb_sharper_adaptive_epsilon"].fn
NO_CURVES = pd.DataFrame(columns=["run_key", "epoch"])


def gap_runs(
    test: dict[str, list[float]],
    train: dict[str, float] | None = None,
    stop: str = "target",
    model: str = "mlp",
    candidate: str = "c",
    lr: float = 0.1,
    lb: int = 4096,
) -> pd.DataFrame:
    """keskar_gap runs of one network: ``test[regime][seed]`` test accuracy (fraction), one train accuracy
    per regime, every run stopped for ``stop``."""
    train = train or {"sb": 0.999, "lb": 0.998}
    return pd.DataFrame(
        [
            {
                "run_key": f"{candidate}{regime}{seed}",
                "status": "ok",
                "dataset": "mnist",
                "model": model,
                "regime": regime,
                "seed": seed,
                "test_acc": acc,
                "train_eval_acc": train[regime],
                "epochs": 10,
                "stop_reason": stop,
                "trainer.max_epochs": 100,
                "data.batch_size": 64 if regime == "sb" else lb,
                "train_samples": 60000,
                "optimizer": "sgd",
                "optimizer.lr": lr,
                "early_stopping.target": 0.01,
                "model.hidden": "[512, 512]",
                "wall_time_s": 60.0,
                "choice.candidate": candidate,
                "sizes.mnist.sb": 64,
                "sizes.mnist.lb": lb,
            }
            for regime, accs in test.items()
            for seed, acc in enumerate(accs)
        ]
    )


CLEAR_GAP = {"sb": [0.985, 0.984, 0.986, 0.985], "lb": [0.975, 0.976, 0.974, 0.975]}


def assert_intervals(result: ClaimResult) -> None:
    """The result has effects, each with a finite interval where every group has at least 2 seeds (rank
    tests: 5 solutions)."""
    assert result.effects, result.measured
    for effect in result.effects:
        if min(effect.decision.ns) >= (5 if effect.decision.p is not None else 2):
            assert math.isfinite(effect.decision.low) and math.isfinite(effect.decision.high), effect.cell()


def test_gap_reproduced_when_its_interval_lies_above_zero() -> None:
    runs = gap_runs(CLEAR_GAP)
    result = GAP(runs, NO_CURVES)
    assert result.reproduced is True
    assert "MLP (MNIST): gap +1.00 points (SB 98.50 %, LB 97.50 %)" in result.measured
    (effect,) = result.effects
    assert effect.decision.ns == (4, 4) and effect.decision.low == pytest.approx(0.859, abs=1e-3)
    assert_intervals(result)
    similar = SIMILAR(runs, NO_CURVES)
    assert similar.reproduced is True and similar.effects[0].decision.effect == pytest.approx(0.1)
    assert_intervals(similar)


def test_gap_within_the_seed_noise_is_undecided_and_a_reversed_one_contradicts() -> None:
    # gap 0.2 points, its Welch interval about ±0.4
    noisy = {"sb": [0.984, 0.986, 0.982, 0.988], "lb": [0.983, 0.983, 0.984, 0.982]}
    result = GAP(gap_runs(noisy), NO_CURVES)
    assert result.reproduced is None and result.effects[0].decision.reason == "interval straddles 0"
    assert_intervals(result)
    reversed_gap = {"sb": CLEAR_GAP["lb"], "lb": CLEAR_GAP["sb"]}
    result = GAP(gap_runs(reversed_gap), NO_CURVES)
    assert result.reproduced is False and "gap -1.00 points" in result.measured
    assert_intervals(result)


def test_gap_undecided_with_capped_runs_or_one_seed() -> None:
    capped = GAP(gap_runs(CLEAR_GAP, stop="cap"), NO_CURVES)
    assert capped.reproduced is None and "runs stopped at the epoch cap (MLP (MNIST) 8)" in capped.measured
    assert capped.effects[0].decision.verdict is True  # the effect alone would pass: the precondition fails
    assert SIMILAR(gap_runs(CLEAR_GAP, stop="cap"), NO_CURVES).reproduced is None
    one = {r: accs[:1] for r, accs in CLEAR_GAP.items()}
    for claim in (GAP, SIMILAR):
        result = claim(gap_runs(one), NO_CURVES)
        assert result.reproduced is None and "SB: one seed, LB: one seed: no interval" in result.measured
    assert GAP(gap_runs({"sb": CLEAR_GAP["sb"]}), NO_CURVES).reproduced is None


def test_similar_training_fails_beyond_one_point() -> None:
    runs = gap_runs(CLEAR_GAP, train={"sb": 1.0, "lb": 0.985})
    result = SIMILAR(runs, NO_CURVES)
    assert result.reproduced is False and "SB 100.00 %, LB 98.50 %" in result.measured
    assert_intervals(result)
    assert GAP(runs, NO_CURVES).reproduced is None  # a precondition of the gap


def test_training_accuracies_too_noisy_to_place_within_one_point_leave_both_claims_undecided() -> None:
    runs = gap_runs(CLEAR_GAP)
    runs.loc[runs["regime"] == "sb", "train_eval_acc"] = [0.999, 0.990, 0.995, 0.986]  # SB - LB -0.65 ± 0.9
    similar = SIMILAR(runs, NO_CURVES)
    assert similar.reproduced is None and similar.effects[0].decision.reason.startswith("interval crosses")
    assert_intervals(similar)
    gap = GAP(runs, NO_CURVES)
    assert gap.reproduced is None and gap.effects[0].decision.verdict is True
    assert "training accuracies not shown within ±1 point (MLP (MNIST))" in gap.measured


def test_records_without_stop_reason_count_as_capped_when_they_used_every_epoch() -> None:
    runs = gap_runs(CLEAR_GAP).drop(columns="stop_reason").assign(epochs=100)
    assert GAP(runs, NO_CURVES).reproduced is None


def test_search_table_has_one_row_per_candidate_with_the_gap() -> None:
    runs = pd.concat(
        [
            gap_runs(CLEAR_GAP, candidate="a"),
            gap_runs({"sb": [0.98, 0.981], "lb": [0.98, 0.979]}, stop="cap", candidate="b", lr=0.05),
        ]
    )
    table = search(runs, NO_CURVES)
    assert list(table["candidate"]) == ["a", "b"] and list(table["lr"]) == [0.1, 0.05]
    a, b = table.iloc[0], table.iloc[1]
    assert (a["SB"], a["LB"], a["seeds"], a["capped runs"]) == (64, 4096, 4, 0)
    assert a["gap (points)"] == pytest.approx(1.0) and a["gap > 2 std"]
    assert a["test SB (%)"] == pytest.approx(98.5) and a["wall time (min)"] == pytest.approx(8.0)
    assert (
        b["capped runs"] == 4
        and b["gap (points)"] == pytest.approx(0.1)
        and b["gap > 2 std"] is not None
        and not b["gap > 2 std"]
    )
    assert TABLES["search"][0] == "keskar_gap_search"


def test_search_rows_that_differ_only_in_lb_share_their_sb_runs() -> None:
    first = gap_runs(CLEAR_GAP, candidate="a")
    larger = gap_runs({"lb": [0.965, 0.966, 0.964, 0.965]}, candidate="a", lb=15000)
    sb_only = gap_runs({"sb": [0.97, 0.97]}, candidate="s", lr=0.01)
    table = search(pd.concat([first, larger, sb_only]), NO_CURVES)
    assert list(table["LB"]) == [4096, 15000, 4096]
    assert list(table["test SB (%)"]) == [98.5, 98.5, 97.0]
    assert list(table["gap (points)"]) == pytest.approx([1.0, 2.0, np.nan], nan_ok=True)
    assert list(table["seeds"]) == [4, 4, 0] and table.loc[2, "gap > 2 std"] is None
    assert list(table["wall time (min)"]) == [8.0, 8.0, 2.0]


def test_search_rows_of_other_candidates_do_not_share_sb_runs() -> None:
    """Same visible setting, another candidate (e.g. another epoch cap or search round): its own SB runs."""
    first = gap_runs(CLEAR_GAP, candidate="a")
    other = gap_runs({"sb": [0.99] * 4, "lb": [0.965] * 4}, candidate="b", lb=15000)
    table = search(pd.concat([first, other]), NO_CURVES)
    assert list(table["candidate"]) == ["a", "b"]
    assert list(table["test SB (%)"]) == [98.5, 99.0]
    assert list(table["seeds"]) == [4, 4]


def sharp_flat_runs(sharp: dict[str, list[float]], test: dict[str, list[float]]) -> pd.DataFrame:
    """sharp_flat runs of one network, one per seed: each regime's ε-sharpness, adaptive ε-sharpness
    (half of it), top eigenvalue (a tenth) and source test accuracy."""
    rows = []
    for seed in range(len(sharp["sb"])):
        row = {"run_key": f"s{seed}", "status": "ok", "dataset": "mnist", "model": "mlp", "seed": seed}
        for regime in ("sb", "lb"):
            value = sharp[regime][seed]
            row |= {
                f"{regime}_sharpness_full_0.001": value,
                f"{regime}_sharpness_full_0.0005": value / 4,
                f"{regime}_sharpness_adaptive_0.001": value / 2,
                f"{regime}_top_eigenvalue": value / 10,
                f"{regime}_source_test_acc": test[regime][seed],
                f"{regime}_source_train_eval_acc": 1.0,
            }
        rows.append(row)
    return pd.DataFrame(rows)


def test_sharper_solutions_generalize_worse_on_ranked_points() -> None:
    sharp = {"sb": [10.0, 12.0, 11.0, 9.0], "lb": [300.0, 250.0, 280.0, 320.0]}
    test = {"sb": [0.985, 0.983, 0.984, 0.986], "lb": [0.975, 0.977, 0.976, 0.974]}
    result = CORRELATION(sharp_flat_runs(sharp, test), NO_CURVES)
    assert result.reproduced is True
    assert "MLP (MNIST): partial ρ = -1.00 (p = 0.0035, n = 8) given the regime" in result.measured
    assert "within SB ρ = -1.00 (p = 0.083, n = 4), within LB ρ = -1.00 (p = 0.083, n = 4)" in result.measured
    assert_intervals(result)


def test_the_sb_and_lb_clusters_alone_do_not_make_sharper_solutions_generalize_worse() -> None:
    """LB sharper and worse, as in the paper, but within each regime the sharper solution is the better one:
    pooled, ρ would be negative; given the regime it is positive."""
    sharp = {"sb": [9.0, 10.0, 11.0, 12.0], "lb": [250.0, 280.0, 300.0, 320.0]}
    test = {"sb": [0.983, 0.984, 0.985, 0.986], "lb": [0.974, 0.975, 0.976, 0.977]}
    assert spearmanr(sharp["sb"] + sharp["lb"], test["sb"] + test["lb"]).statistic < -0.5
    result = CORRELATION(sharp_flat_runs(sharp, test), NO_CURVES)
    assert result.reproduced is False and "partial ρ = +1.00 (p = 0.0035, n = 8)" in result.measured
    assert_intervals(result)


def test_sharpness_unordered_within_regimes_or_too_few_points() -> None:
    sharp = {"sb": [10.0, 12.0, 11.0, 9.0], "lb": [300.0, 250.0, 280.0, 320.0]}
    test = {"sb": [0.985, 0.986, 0.983, 0.984], "lb": [0.976, 0.974, 0.977, 0.975]}
    result = CORRELATION(sharp_flat_runs(sharp, test), NO_CURVES)
    assert result.reproduced is None and result.effects[0].decision.reason.startswith("not significant")
    assert_intervals(result)
    few = {r: v[:3] for r, v in sharp.items()}, {r: v[:3] for r, v in test.items()}
    result = CORRELATION(sharp_flat_runs(*few), NO_CURVES)
    assert result.reproduced is None and result.effects[0].decision.p >= 2 / 36  # 3! x 3! orderings
    empty = pd.DataFrame(columns=["run_key", "status", "dataset", "model", "seed"])
    assert CORRELATION(empty, NO_CURVES).reproduced is None


def test_adaptive_sharpness_claim_reads_the_adaptive_rows() -> None:
    runs = pd.DataFrame(
        [
            {"run_key": f"s{s}", "status": "ok", "dataset": "mnist", "model": "mlp", "seed": s}
            for s in range(2)
        ]
    )
    curves = pd.DataFrame(
        [
            {
                "run_key": f"s{s}",
                "table": "sharpness",
                "regime": r,
                "space": space,
                "epsilon": 1e-3,
                "sharpness": v,
            }
            for s in range(2)
            for r, space, v in (
                ("sb", "adaptive", 1.0),
                ("lb", "adaptive", 5.0 + s),
                ("sb", "full", 9.0),
                ("lb", "full", 1.0),
            )
        ]
    )
    result = ADAPTIVE(runs, curves)
    assert result.reproduced is True and "LB > SB in 2/2 seeds" in result.measured
    assert_intervals(result)
    assert ADAPTIVE(runs, curves.assign(space="full")).reproduced is None


def test_a_miniature_search_gives_one_row_per_candidate(cli, tmp_path) -> None:
    tiny = [
        f"sizes.{d}.{k}={v}"
        for d in ("mnist", "cifar10")
        for k, v in (("subset", 200), ("max_epochs", 3), ("patience", 1), ("sb", 10), ("lb", 50))
    ]
    done = cli(
        "-m",
        "experiment=keskar_gap_search",
        "+candidate=mnist_mlp_sgd,cifar10_c1n_adam",
        "seed=100,101",
        f"paths.results={tmp_path / 'results'}",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
        "early_stopping.min_delta=10.0",  # every run stops on the plateau rule after 2 epochs
        "trainer.limit_test_batches=1",
        *tiny,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs, curves = collect(tmp_path / "results", "keskar_gap_search")
    assert len(runs) == 8 and set(runs["stop_reason"]) == {"plateau"} and set(runs["seed"]) == {100, 101}
    table = search(runs, curves)
    assert list(table["candidate"]) == ["mnist_mlp_sgd", "cifar10_c1n_adam"]
    assert list(table["network"]) == ["MLP [512, 512]", "C1 16 filters, dense [128, 64], dropout 0"]
    assert (
        list(table["LB"]) == [50, 50]
        and list(table["seeds"]) == [2, 2]
        and list(table["capped runs"]) == [0, 0]
    )
    expected = 100 * (
        runs[(runs["choice.candidate"] == "mnist_mlp_sgd") & (runs["regime"] == "sb")]["test_acc"].mean()
        - runs[(runs["choice.candidate"] == "mnist_mlp_sgd") & (runs["regime"] == "lb")]["test_acc"].mean()
    )
    assert table.loc[0, "gap (points)"] == pytest.approx(expected, abs=0.006)


def _record(key: str, test_acc: float) -> dict:
    """A minimal run record: what run_row reads."""
    config = {
        "data": {"name": "mnist", "subset": 100, "val_size": 0},
        "model": {"_target_": "optfactors.models.mlp"},
        "optimizer": {"_target_": "torch.optim.SGD"},
    }
    return {
        "run_key": key,
        "status": "ok",
        "config": config,
        "metrics": {"test_acc": test_acc},
        "curve": [{"epoch": 0, "train_loss": 1.0}],
    }


def test_collect_keeps_committed_rows_without_records(tmp_path):
    """--keep-missing: rows of runs whose records are gone stay (with their curves); a run with a record
    is taken from the record, not duplicated."""
    import json

    runs_dir = tmp_path / "exp" / "runs"
    runs_dir.mkdir(parents=True)
    for key, acc in (("a", 0.5), ("b", 0.6)):
        (runs_dir / f"{key}.json").write_text(json.dumps(_record(key, acc)))
    collect(tmp_path, "exp")
    (runs_dir / "a.json").unlink()
    (runs_dir / "b.json").write_text(json.dumps(_record("b", 0.7)))
    (runs_dir / "c.json").write_text(json.dumps(_record("c", 0.8)))
    runs, curves = collect(tmp_path, "exp", keep_missing=True)
    assert dict(zip(runs["run_key"], runs["test_acc"], strict=True)) == {"a": 0.5, "b": 0.7, "c": 0.8}
    assert sorted(curves["run_key"]) == ["a", "b", "c"]
    runs, _ = collect(tmp_path, "exp")
    assert sorted(runs["run_key"]) == ["b", "c"]


def test_table2_names_each_networks_optimizer_beside_the_paper() -> None:
    runs = gap_runs(CLEAR_GAP, model="keskar_f1", lb=6000)
    table = TABLES["table2"][1](runs, NO_CURVES)
    assert list(table["regime"]) == ["SB", "LB"] and list(table["optimizer"]) == ["SGD 0.1", "SGD 0.1"]
    assert list(table["test acc. (%)"]) == ["98.50 ± 0.08", "97.50 ± 0.08"]
    assert list(table["paper test (%)"]) == [98.03, 97.81] and list(table["batch size"]) == [64, 6000]
