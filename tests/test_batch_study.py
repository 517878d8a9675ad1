"""The batch-size study: every experiment's sweep composes to valid configs, early stopping and the BN switch
work, and a miniature of each experiment produces its tables, figures and claims."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from optfactors import CONF_DIR
from optfactors.report.claims import CLAIMS
from optfactors.report.collect import collect
from optfactors.report.figures import FIGURES, draw_all
from optfactors.report.tables import TABLES, write_tables
from optfactors.run.config import validate
from optfactors.run.record import resolved_config
from optfactors.stages.train import train
from optfactors.task import restore_momentum, use_batch_statistics

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR.parent / "experiments").glob("*.yaml"))


def _sweep(experiment: str, profile: str) -> list[list[str]]:
    """Every job's overrides of an experiment's sweep at a profile (the basic sweeper's cartesian product)."""
    base = [f"experiment={experiment}", f"profile={profile}"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=base, return_hydra_config=True)
    params = [f"{k}={v}" for k, v in cfg.hydra.sweeper.params.items()]
    parsed = OverridesParser.create().parse_overrides(params)
    values = [
        [
            f"{o.get_key_element()}={v}"
            for v in (o.sweep_string_iterator() if o.is_sweep_override() else [o.value()])
        ]
        for o in parsed
    ]
    return [base + list(job) for job in itertools.product(*values)]


# The paper profiles' sweeps are larger (minutes to compose): `make test-all`.
@pytest.mark.parametrize("profile", ["quick", pytest.param("paper", marks=pytest.mark.slow)])
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_run_of_every_sweep_is_a_valid_config(experiment, profile, data_dir, tmp_path):
    jobs = _sweep(experiment, profile)
    single = {"toy", "saddle_escape"}  # one run computes every demonstration
    assert len(jobs) >= (1 if experiment in single else 2)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        composed: dict[tuple[str, ...], DictConfig] = {}  # one Hydra compose per choice of config files
        for job in jobs:
            choices = tuple(o for o in job if not _is_value(o))
            if choices not in composed:
                composed[choices] = compose("config", overrides=[*choices, f"paths.output={tmp_path}"])
            cfg = _with_values(composed[choices], [o for o in job if _is_value(o)])
            if job is jobs[0]:  # the shortcut gives exactly what Hydra composes from the whole command line
                assert cfg == compose("config", overrides=[*job, f"paths.output={tmp_path}"])
            validate(resolved_config(cfg))
            assert cfg.experiment_name == experiment and cfg.profile.name == profile


def _is_value(override: str) -> bool:
    """Whether ``override`` sets a value (``seed=1``, ``data.batch_size=64``), not a config-group choice.

    Hydra applies value overrides to the config composed from the chosen files, as OmegaConf updates in struct
    mode; no defaults list here interpolates a value (only ``${profile}``, a group). So a sweep's jobs that
    differ only in values share one composition (composing is most of the time: ~0.2 s a job)."""
    key = override.partition("=")[0]
    return not key.startswith(("+", "~")) and ("." in key or key == "seed")


def _with_values(cfg: DictConfig, overrides: list[str]) -> DictConfig:
    """A copy of ``cfg`` with the value ``overrides`` applied as Hydra applies them after composing."""
    cfg = copy.deepcopy(cfg)
    for override in OverridesParser.create().parse_overrides(overrides):
        OmegaConf.update(cfg, override.key_or_group, override.value(), merge=True)
    return cfg


def test_keskar_gap_sizes_are_the_searched_quick_ones_and_the_papers(make_cfg):
    # quick: LB 2,048 of all 60,000 MNIST images with SGD 0.1, 1,000 of 10,000 CIFAR-10 images with Adam.
    for setting, lb_size, optimizer in (("mnist_f1_sgd", 2048, "SGD"), ("cifar10_c1_narrow", 1000, "Adam")):
        sb = make_cfg("experiment=keskar_gap", f"setting={setting}", "regime=sb")
        lb = make_cfg("experiment=keskar_gap", f"setting={setting}", "regime=lb")
        assert lb.data.batch_size == lb_size and sb.data.batch_size == 64
        assert sb.optimizer._target_ == lb.optimizer._target_ == f"torch.optim.{optimizer}"
        assert sb.optimizer.lr == lb.optimizer.lr == (0.1 if optimizer == "SGD" else 0.001)
        assert lb.bn_eval == "batch" and lb.early_stopping.monitor == "train/loss" and lb.checkpoint.keep
        assert lb.early_stopping.target == 0.01 and lb.data.val_size == 0
    assert make_cfg("experiment=keskar_gap", "setting=cifar10_c1_narrow").model.filters == 16
    paper = make_cfg("experiment=keskar_gap", "profile=paper", "setting=cifar10_c2", "regime=lb")
    assert paper.data.batch_size == 5000 and paper.data.subset is None and paper.data.val_size == 0
    assert paper.early_stopping.target is None  # Keskar's protocol: until the training loss stops improving


def test_early_stopping_ends_a_run_whose_training_loss_stops_improving(make_cfg):
    record = train(
        make_cfg(
            "data.subset=300",
            "data.val_size=100",
            "data.batch_size=100",
            "trainer.max_epochs=6",
            "+early_stopping={monitor: train/loss, patience: 1, min_delta: 10.0}",
        )
    )
    # Epoch 0 sets the best loss; epoch 1 does not improve it by 10: patience 1 is used up.
    assert record["status"] == "ok" and record["epochs"] == 2 and record["stop_reason"] == "plateau"


def test_a_training_loss_target_stops_a_run_and_the_record_says_why(make_cfg):
    common = ("data.subset=300", "data.val_size=0", "data.batch_size=100", "trainer.max_epochs=4")
    stop = "+early_stopping={monitor: train/loss, patience: 5, min_delta: 0.0, target: %s}"
    reached = train(make_cfg(*common, stop % 100.0))  # the first epoch's loss is below 100
    assert reached["epochs"] == 1 and reached["stop_reason"] == "target"
    assert reached["curve"][0]["train_loss"] <= 100.0
    capped = train(make_cfg(*common, stop % 1e-9, "seed=1"))  # never reached: the epoch cap ends it
    assert capped["epochs"] == 4 and capped["stop_reason"] == "cap"


def test_batch_statistics_evaluation_leaves_running_averages_and_dropout_alone():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.5))
    model.train()
    model(torch.randn(64, 4) * 3 + 1)  # running averages now differ from any batch's statistics
    x = torch.randn(32, 4)
    model.eval()
    running = model(x)
    mean, var = model[1].running_mean.clone(), model[1].running_var.clone()
    use_batch_statistics(model)
    batch = model(x)
    h = model[0](x)
    expected = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + 1e-5) * model[1].weight + model[1].bias
    assert torch.allclose(batch, expected, atol=1e-5) and not torch.allclose(batch, running)
    assert torch.equal(model[1].running_mean, mean) and torch.equal(model[1].running_var, var)
    assert not model[2].training  # dropout stays off
    restore_momentum(model, {"1": 0.1})
    assert model[1].momentum == 0.1


MINIATURES = {  # experiment -> (common overrides, the runs' overrides)
    "batch_timing": (
        ("data.subset=2000",),
        [(f"data.batch_size={b}",) for b in (1, 100, 1000, 2000)],
    ),
    "batch_accuracy": (
        (
            "sizes.mnist.subset=256",
            "sizes.cifar10.subset=256",
            "sizes.mnist.val_size=100",
            "sizes.cifar10.val_size=100",
            "sizes.mnist.max_epochs=1",
            "sizes.cifar10.max_epochs=1",
            "trainer.limit_test_batches=1",
        ),
        [(f"setting={s}", f"data.batch_size={b}") for s in ("mnist_mlp", "cifar10_c1") for b in (16, 256)],
    ),
    "keskar_gap": (
        (
            "sizes.mnist.subset=300",
            "sizes.cifar10.subset=200",
            "sizes.mnist.val_size=100",
            "sizes.cifar10.val_size=100",
            "sizes.mnist.max_epochs=3",  # early stopping ends every run after 2 epochs, before this cap
            "sizes.cifar10.max_epochs=3",
            "sizes.mnist.patience=1",
            "sizes.cifar10.patience=1",
            "early_stopping.min_delta=10.0",
            "sizes.mnist.sb=10",
            "sizes.cifar10.sb=10",
            "sizes.mnist.lb=30",
            "sizes.cifar10.lb=20",
            "trainer.limit_test_batches=1",
        ),
        [
            (f"setting={s}", f"regime={r}", f"seed={seed}")
            for s in ("mnist_f1", "cifar10_c1")
            for r in ("sb", "lb")
            for seed in range(4)  # the claims decide from 4 seeds per regime
        ],
    ),
}


# The two longest miniatures (keskar_gap trains to a loss target, batch_timing times whole epochs) run in
# `make test-all`; by default the keskar_gap_search miniature (test_gap_claims.py) trains as keskar_gap does,
# and test_wandb.py runs batch_timing.
SLOW_MINIATURES = {"keskar_gap", "batch_timing"}


@pytest.mark.parametrize(
    "experiment",
    [pytest.param(e, marks=pytest.mark.slow) if e in SLOW_MINIATURES else e for e in sorted(MINIATURES)],
)
def test_a_miniature_of_each_experiment_gives_its_tables_figures_and_claims(make_cfg, experiment):
    common, runs = MINIATURES[experiment]
    for run in runs:
        record = train(make_cfg(f"experiment={experiment}", *common, *run))
        assert record["status"] == "ok", record["error"]
        assert record["epochs"] < record["config"]["trainer"]["max_epochs"] or experiment != "keskar_gap"
    results = Path(make_cfg().paths.results)
    table, curves = collect(results, experiment)
    assert len(table) == len(runs)
    written = {p.name for p in draw_all(results) + write_tables(results)}
    for name, spec in FIGURES.items():
        if spec.experiment == experiment:
            assert {f"{name}.png", f"{name}.pdf"} <= written
    for name, (table_experiment, _) in TABLES.items():
        if table_experiment == experiment:
            assert (results / experiment / f"{name}.csv").read_text().count(
                "\n"
            ) == 1 + 2 * 2  # header + rows
    for claim in CLAIMS.values():
        if claim.experiment == experiment:
            result = claim.fn(table, curves)
            assert_decided_or_explained(result, claim.claim_id)


def assert_decided_or_explained(result, claim_id: str) -> None:
    """A miniature's claim (one or two seeds) is decided, or — with its effects' reasons (e.g. one seed)."""
    reasons = [e.decision.reason for e in result.effects if e.decision.verdict is None]
    assert result.measured and (result.reproduced is not None or reasons or result.detail), (claim_id, result)
