"""large_batch_remedies: each remedy's config says what its paper says, the measuring callbacks report what
the analysis library computes on the trained model, the summary's arithmetic, and both claims decided ✓, ✗
and — on synthetic tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.utils import instantiate
from omegaconf import OmegaConf

from optfactors import CONF_DIR
from optfactors.analysis import hessian, sharpness
from optfactors.analysis.noise_scale import measure_noise_scale
from optfactors.data import analysis_batches
from optfactors.run.record import checkpoint_dir
from optfactors.stages.solutions import load_model
from optfactors.stages.train import train
from optfactors.studies.large_batch_remedies.claims import (
    a_remedy_closes_half_the_gap,
    gap_closing_remedies_are_flatter,
)
from optfactors.studies.large_batch_remedies.tables import LB, SB, remedy_summary

REMEDIES = ["linear_scaling_warmup", "ghost_bn_longer", "sam", "swa", "lars", "lamb"]


def _remedy(make_cfg, remedy: str, *overrides: str):
    return make_cfg(
        "experiment=large_batch_remedies", "setting=mnist_f1_sgd", f"+remedy={remedy}", *overrides
    )


def test_every_remedy_applies_its_papers_recipe_to_the_gap_settings_large_batch(make_cfg):
    cfgs = {r: _remedy(make_cfg, r) for r in [SB, LB, *REMEDIES]}
    assert cfgs[SB].data.batch_size == 64 and cfgs[LB].data.batch_size == 2048
    for name in [LB, *REMEDIES]:
        cfg = cfgs[name]
        assert (
            cfg.data.batch_size == 2048
            and cfg.data.subset is None
            and cfg.model._target_.endswith("keskar_f1")
        )
    goyal = cfgs["linear_scaling_warmup"]
    assert goyal.optimizer.lr == pytest.approx(0.1 * 2048 / 64)
    assert goyal.scheduler.schedule._target_.endswith("warmup_constant")
    assert goyal.scheduler.schedule.warmup_steps == 150  # 5 epochs of 30 updates
    hoffer = cfgs["ghost_bn_longer"]
    assert hoffer.model.ghost_batch_size == 128 and hoffer.early_stopping is None
    assert hoffer.optimizer.lr == pytest.approx(0.1 * math.sqrt(2048 / 64), abs=1e-3)
    assert cfgs["sam"].optimizer.rho == 0.05 and cfgs["sam"].optimizer.lr == 0.1
    swa = cfgs["swa"].callbacks.swa
    assert swa._target_.endswith("StochasticWeightAveraging") and swa.swa_lrs == 0.1
    assert cfgs["swa"].early_stopping is None and cfgs["swa"].trainer.max_epochs > swa.swa_epoch_start
    assert cfgs["lars"].optimizer._target_.endswith("LARS") and cfgs["lamb"].optimizer._target_.endswith(
        "LAMB"
    )
    for cfg in cfgs.values():
        assert cfg.callbacks.final_sharpness.samples == 1000


def test_the_quick_sweep_runs_every_remedy_at_its_own_batch_size_on_three_seeds(make_cfg):
    """The sweep's jobs, as Hydra's basic sweeper expands them: keskar_gap's own regime sweep must not
    override the remedies' regime (it once did, so the LB reference ran at SB's batch)."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["experiment=large_batch_remedies"], return_hydra_config=True)
    params = OmegaConf.to_container(cfg.hydra.sweeper.params)
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    (jobs,) = BasicSweeper.split_arguments(parsed, None)
    assert len(jobs) == 8 * 3
    for job in jobs:
        cfg = make_cfg("experiment=large_batch_remedies", *job)
        remedy = next(o.split("=")[1] for o in job if o.startswith("+remedy="))
        assert cfg.data.batch_size == (64 if remedy == SB else 2048), job


def test_final_sharpness_reports_what_the_analysis_library_measures_on_the_trained_model(make_cfg):
    """A tiny SWA run (averaged weights, BatchNorm recomputed): the record's ε-sharpness and top eigenvalue
    equal the library's on the model saved at the end, on the same class-balanced samples."""
    cfg = _remedy(
        make_cfg,
        "swa",
        "data.subset=512",
        "data.eval_batch_size=512",
        "sizes.mnist.lb=256",
        "remedies.swa_epoch_start=1",
        "remedies.swa_max_epochs=2",
        "model.width=32",
        "model.depth=2",
        "callbacks.final_sharpness.samples=200",
        "callbacks.final_sharpness.lanczos_iter=10",
        "checkpoint.keep=true",
    )
    record = train(cfg)
    assert record["status"] == "ok" and record["epochs"] == 3  # 2 epochs, then SWA's BatchNorm epoch
    metrics = record["metrics"]
    model = load_model(
        cfg, checkpoint_dir(cfg.paths.results, cfg.experiment_name, record["run_key"]) / "last.ckpt"
    )
    probe = instantiate(cfg.callbacks.final_sharpness)  # its settings, defaults included
    batches = analysis_batches(
        cfg.data, "train", probe.samples, probe.batch_size, probe.seed, torch.device("cpu")
    )
    loss = instantiate(cfg.loss)
    phi = sharpness.epsilon_sharpness(
        model, loss, batches, probe.epsilon, probe.subspace_dim, probe.max_iter, 0
    )
    top = hessian.top_eigenvalues(model, loss, batches, 1, probe.lanczos_iter, probe.tol, 0).values[0]
    assert metrics["train_eval_epsilon_sharpness"] == pytest.approx(phi, rel=1e-3)
    assert metrics["train_eval_top_eigenvalue"] == pytest.approx(float(top), rel=1e-3)


def test_noise_scale_probe_reports_b_simple_at_initialisation_and_only_at_steps_reached(make_cfg):
    cfg = make_cfg(
        "model=keskar_f1",
        "model.width=32",
        "model.depth=1",
        "data.subset=512",
        "data.val_size=0",
        "data.batch_size=64",
        "data.eval_train=false",
        "trainer.max_epochs=1",
        "+callbacks.noise.data=${data}",
        "+callbacks.noise._target_=optfactors.measurements.NoiseScaleProbe",
        "+callbacks.noise._recursive_=false",
        "+callbacks.noise.at_steps=[0,4,100]",
        "+callbacks.noise.small=16",
        "+callbacks.noise.big=128",
        "+callbacks.noise.samples=256",
        "+callbacks.noise.batch_sizes=[64]",
    )
    torch.manual_seed(cfg.seed)  # the training stage seeds, then builds the model first
    model = instantiate(cfg.model)
    data = cfg.data
    small = analysis_batches(data, "train", 256, 16, 0, torch.device("cpu"))
    big = analysis_batches(data, "train", 256, 128, 0, torch.device("cpu"))
    expected = measure_noise_scale(model, torch.nn.CrossEntropyLoss(), small, big).b_simple
    metrics = train(cfg)["metrics"]
    assert metrics["train_eval_b_simple_at_0"] == pytest.approx(expected, rel=1e-4)
    assert "train_eval_b_simple_at_4" in metrics and "train_eval_b_simple_at_100" not in metrics  # 8 updates


# --- the summary and the claims, on synthetic tables


def _runs(spec: dict[str, tuple[list[float], float]]) -> pd.DataFrame:
    """remedy -> (test accuracies of its seeds, ε-sharpness); a None accuracy is a diverged seed."""
    rows = []
    for remedy, (accs, phi) in spec.items():
        for seed, acc in enumerate(accs):
            rows.append(
                {
                    "run_key": f"{remedy}{seed}",
                    "choice.remedy": remedy,
                    "status": "ok" if acc is not None else "diverged",
                    "train_eval_acc": 1.0,
                    "test_acc": acc,
                    "optimizer.lr": 0.1,
                    "data.batch_size": 64 if remedy == SB else 2048,
                    "epochs": 10,
                    "updates": 300,
                    "wall_time_s": 60.0,
                    "stop_reason": "target",
                    "train_eval_epsilon_sharpness": phi,
                    "train_eval_top_eigenvalue": 10 * phi,
                }
            )
    return pd.DataFrame(rows)


NO_CURVES = pd.DataFrame(columns=["run_key", "epoch"])
SB_LB = {SB: ([0.982, 0.983, 0.981], 0.2), LB: ([0.975, 0.976, 0.974], 0.6)}


def test_the_summary_gives_each_remedy_its_share_of_the_gap():
    summary = remedy_summary(
        _runs({**SB_LB, "sam": ([0.979, 0.980, 0.978], 0.3), "lars": ([0.97, None, None], 1)})
    )
    rows = summary.set_index("remedy")
    assert list(summary["remedy"]) == [SB, LB, "sam", "lars"]
    assert rows.loc["sam", "gap_closed"] == pytest.approx((97.9 - 97.5) / (98.2 - 97.5))
    assert rows.loc[SB, "gap_closed"] == pytest.approx(1.0) and rows.loc[LB, "gap_closed"] == pytest.approx(
        0.0
    )
    assert rows.loc["lars", "seeds"] == 1 and rows.loc["lars", "diverged"] == 2


@pytest.mark.parametrize(
    ("label", "spec", "closes", "is_flatter"),
    [
        ("a flatter remedy closes 86 %", {"sam": ([0.981, 0.982, 0.980], 0.3)}, True, True),
        ("a sharper remedy closes 86 %", {"sam": ([0.981, 0.982, 0.980], 0.9)}, True, False),
        ("remedies close 14 % at most", {"sam": ([0.976, 0.977, 0.975], 0.3)}, False, None),
        ("half closed within the seed noise", {"sam": ([0.995, 0.965, 0.979], 0.3)}, None, None),
        ("a half-closing remedy with one seed", {"sam": ([0.980, None, None], 0.3)}, None, None),
    ],
)
def test_the_remedy_claims_decide_both_ways(label, spec, closes, is_flatter):
    """R - SB/2 - LB/2 (Welch): above 0 for some remedy ✓, below 0 for every one ✗; LAMB here closes 5 %."""
    runs = _runs({**SB_LB, "lamb": ([0.975, 0.975, 0.976], 0.5), **spec})
    closing = a_remedy_closes_half_the_gap(runs, NO_CURVES)
    assert closing.reproduced is closes, label
    assert [e.label for e in closing.effects] == ["lamb", "sam"]
    for effect in closing.effects:  # every group with 2 or more seeds: a finite interval
        ns, decision = effect.decision.ns, effect.decision
        assert (min(ns) >= 2) == (math.isfinite(decision.low) and math.isfinite(decision.high)), label
    flatter = gap_closing_remedies_are_flatter(runs, NO_CURVES)
    assert flatter.reproduced is is_flatter, label
    assert all(math.isfinite(e.decision.low) for e in flatter.effects), label


def test_a_remedy_closing_half_is_shown_with_its_share_and_diverged_seeds():
    runs = _runs({**SB_LB, "sam": ([0.981, 0.982, 0.980], 0.3), "lars": ([0.976, 0.977, None], 0.6)})
    closing = a_remedy_closes_half_the_gap(runs, NO_CURVES)
    assert "share closed: sam 86 %, lars 21 % (1 diverged); closes half: sam" in closing.measured
    assert closing.measured.startswith("gap SB - LB +0.70 [+0.47, +0.93] points, n = 3 + 3")
    assert [e.decision.ns for e in closing.effects] == [(3, 3, 3), (2, 3, 3)]
    flatter = gap_closing_remedies_are_flatter(runs, NO_CURVES)
    (effect,) = flatter.effects
    assert effect.label == "sam" and effect.decision.effect == pytest.approx(0.5)
    assert flatter.measured == "large_batch: ε-sharpness 0.600, top eigenvalue 6.00 (means); sam: " + (
        "ε-sharpness 0.300, top eigenvalue 3.00 (means)"
    )


@pytest.mark.parametrize(
    "spec",
    [
        {SB: ([0.980, 0.981, 0.979], 0.2), LB: ([0.979, 0.980, 0.980], 0.6)},  # gap within the seed noise
        {SB: ([0.982], 0.2), LB: ([0.975], 0.6)},  # references with one seed
        {LB: ([0.975, 0.976, 0.974], 0.6)},  # no SB reference
    ],
)
def test_without_a_gap_to_close_both_claims_are_undecided(spec):
    runs = _runs({**spec, "sam": ([0.990, 0.991, 0.989], 0.1)})
    closing = a_remedy_closes_half_the_gap(runs, NO_CURVES)
    assert closing.reproduced is None and "Precondition failed" in closing.detail
    assert gap_closing_remedies_are_flatter(runs, NO_CURVES).reproduced is None
