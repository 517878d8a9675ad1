"""critical_batch: the sweep's grid, a run stopping at the target validation accuracy, the summaries'
arithmetic (best rate, knee fit, doublings, B_simple at the target) and the three claims decided ✓, ✗ and —
on synthetic tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from optfactors import CONF_DIR
from optfactors.report.claims import combined
from optfactors.stages.train import train
from optfactors.studies.critical_batch.claims import (
    diminishing_returns_above_the_knee,
    noise_scale_predicts_the_knee,
    perfect_scaling_below_the_knee,
)
from optfactors.studies.critical_batch.tables import b_simple_at_target, best_per_batch, doublings, fit_knee

NO_CURVES = pd.DataFrame(columns=["run_key", "epoch"])


def test_the_quick_sweep_tries_four_rates_per_batch_size_from_16_to_8192(make_cfg):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["experiment=critical_batch"], return_hydra_config=True)
    params = OmegaConf.to_container(cfg.hydra.sweeper.params)
    (jobs,) = BasicSweeper.split_arguments(
        OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()]), None
    )
    rates: dict[int, list[float]] = {}
    for job in jobs:
        run = make_cfg("experiment=critical_batch", *job)
        assert run.trainer.val_check_interval == max(1, 4096 // run.data.batch_size)
        assert run.early_stopping.monitor == "val/acc" and run.early_stopping.target == 0.97
        rates.setdefault(run.data.batch_size, []).append(run.optimizer.lr)
    assert sorted(rates) == [2**k for k in range(4, 14)]
    for lrs in rates.values():
        lrs.sort()
        assert len(lrs) == 4 and all(b == pytest.approx(2 * a) for a, b in zip(lrs, lrs[1:], strict=False))


def test_a_run_stops_at_the_first_validation_reaching_the_target(make_cfg):
    cfg = make_cfg(
        "experiment=critical_batch",
        "point=b64",
        "rate=r3",
        "data.subset=3000",
        "data.val_size=500",
        "target_accuracy=0.8",
        "model.width=64",
        "model.depth=2",
        "callbacks.noise_scale.at_steps=[0,8]",
        "callbacks.noise_scale.samples=256",
        "callbacks.noise_scale.big=128",
    )
    record = train(cfg)
    assert record["status"] == "ok" and record["stop_reason"] == "target"
    assert (
        record["updates"] % cfg.trainer.val_check_interval == 0 and record["updates"] < cfg.trainer.max_steps
    )
    assert record["metrics"]["val_acc"] >= 0.8
    assert {"train_eval_b_simple_at_0", "train_eval_b_simple_at_8"} <= set(record["metrics"])


# --- synthetic tables


def _runs(
    steps: dict[tuple[int, float], float | None], b_simple: dict[int, float] | None = None, seeds: int = 1
) -> pd.DataFrame:
    """(batch, lr) -> updates to the target (None: stopped at the cap); B_simple measurements by update,
    put on every batch-64 run. With several seeds, seed s's updates at the i-th (batch, lr) are
    1 + 0.01 ((s + i) % 3 - 1) times them (the mean over 3 seeds unchanged), its B_simple 1 + 0.05 (s - 1)
    times."""
    rows = []
    for seed in range(seeds):
        for i, ((batch, lr), s) in enumerate(steps.items()):
            jitter = 1 + 0.01 * ((seed + i) % 3 - 1) if seeds > 1 else 1.0
            row = {
                "run_key": f"r{i}s{seed}",
                "data.batch_size": batch,
                "optimizer.lr": lr,
                "seed": seed,
                "status": "ok",
                "stop_reason": "target" if s is not None else "cap",
                "updates": s * jitter if s is not None else 10_000,
                "time_per_update_s": 0.001 * batch**0.5,
            }
            if batch == 64:
                scale = 1 + 0.05 * (seed - 1) if seeds > 1 else 1.0
                row |= {f"train_eval_b_simple_at_{k}": v * scale for k, v in (b_simple or {}).items()}
            rows.append(row)
    return pd.DataFrame(rows)


def _curve(
    s_min: float, b_crit: float, batches: list[int], extra: float = 1.0
) -> dict[tuple[int, float], float]:
    """McCandlish's S(B) = S_min (1 + B_crit / B) at the middle rate; the other two rates ``extra`` times
    slower (1.0: a tie) or never reaching the target."""
    steps = {}
    for b in batches:
        s = s_min * (1 + b_crit / b)
        steps |= {(b, 0.1): s * 1.5, (b, 0.2): s, (b, 0.4): None}
    return steps


BATCHES = [2**k for k in range(4, 14)]


def test_the_best_rate_is_the_one_with_fewest_updates_among_those_reaching_the_target():
    best = best_per_batch(_runs({(64, 0.1): 900, (64, 0.2): 700, (64, 0.4): None, (128, 0.1): 500}))
    row = best.set_index("batch_size").loc[64]
    assert row["lr"] == 0.2 and row["steps"] == 700 and row["lrs_reaching"] == 2 and not row["at_edge"]
    assert best.set_index("batch_size").loc[128, "at_edge"]  # its only rate


def test_the_knee_fit_recovers_a_known_curve_and_doublings_are_its_ratios():
    best = best_per_batch(_runs(_curve(100, 512, BATCHES)))
    s_min, b_crit = fit_knee(best)
    assert s_min == pytest.approx(100, rel=0.01) and b_crit == pytest.approx(512, rel=0.01)
    speedups = doublings(best).set_index("batch_size")["speedup"]
    assert speedups[16] == pytest.approx((1 + 512 / 16) / (1 + 512 / 32))
    assert fit_knee(best.head(3)) is None


def test_b_simple_at_the_target_is_the_last_measurement_before_it():
    runs = _runs({(64, 0.1): 300, (64, 0.2): 150}, b_simple={0: 10.0, 100: 200.0, 200: 400.0, 400: 800.0})
    assert b_simple_at_target(runs) == pytest.approx((400 + 200) / 2)  # runs at 300 and 150 updates
    assert math.isnan(b_simple_at_target(_runs({(64, 0.1): 300})))


@pytest.mark.parametrize(
    ("label", "steps", "b_simple", "below", "above", "noise"),
    [
        ("McCandlish's curve, B_simple at the knee", _curve(100, 512, BATCHES), 600.0, True, True, True),
        ("B_simple 10x the knee", _curve(100, 512, BATCHES), 5120.0, True, True, False),
        (
            "a stall below the knee",
            _curve(100, 512, BATCHES) | {(32, 0.2): 100 * (1 + 512 / 16) * 0.9},
            600.0,
            False,
            True,
            True,
        ),
        (
            "still gaining above the knee",
            _curve(100, 512, [b for b in BATCHES if b < 8192]) | {(8192, 0.2): 75.0},
            600.0,
            True,
            False,
            True,
        ),
        ("the knee beyond the batches", _curve(100, 100_000, BATCHES), 600.0, True, None, False),
        ("three batch sizes", _curve(100, 512, [16, 32, 64]), 600.0, None, None, None),
        ("no B_simple", _curve(100, 512, [b for b in BATCHES if b != 64]), None, True, True, None),
    ],
)
def test_the_critical_batch_claims_decide_both_ways(label, steps, b_simple, below, above, noise):
    """3 seeds (the study's committed run has one: every claim —, as `test_one_seed_gives_no_interval`)."""
    runs = _runs(steps, None if b_simple is None else {0: 1.0, 10: b_simple}, seeds=3)
    for claim, expected in (
        (perfect_scaling_below_the_knee, below),
        (diminishing_returns_above_the_knee, above),
        (noise_scale_predicts_the_knee, noise),
    ):
        result = claim(runs, NO_CURVES)
        assert result.reproduced is expected, (label, claim.__name__, result.measured)
        if expected is not None:  # a ✓ or ✗ is the combination of effects with finite intervals
            assert result.effects and result.reproduced is combined(result.effects)
            assert all(
                math.isfinite(e.decision.low) and math.isfinite(e.decision.high) for e in result.effects
            )


def test_one_seed_gives_no_interval():
    runs = _runs(_curve(100, 512, BATCHES), {0: 1.0, 10: 600.0})
    for claim in (
        perfect_scaling_below_the_knee,
        diminishing_returns_above_the_knee,
        noise_scale_predicts_the_knee,
    ):
        result = claim(runs, NO_CURVES)
        assert result.reproduced is None and "one seed: no interval" in result.measured, claim.__name__
        assert all("one seed" in e.decision.reason for e in result.effects)
    below = perfect_scaling_below_the_knee(runs, NO_CURVES)
    assert [e.label for e in below.effects] == ["16->32", "32->64", "64->128", "128->256"]
