"""Run keys: a training run keeps the key its committed record is found by; an analysis stage's key and record
row hold exactly the settings it declares, so editing conf/trainer/ does not rerun a toy surface."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf, open_dict

from optfactors import CONF_DIR
from optfactors.report.collect import run_row
from optfactors.run.config import KNOB_DEFAULTS
from optfactors.run.record import resolved_config, run_key, write_json_atomic
from optfactors.run.rekey import legacy_run_key, rekey, table_keys
from optfactors.stages import critical_points as critical
from optfactors.stages import saddle_escape as saddle
from optfactors.stages import sharp_flat
from optfactors.stages.toy import stage as toy
from optfactors.stages.train import train

ROOT = Path(__file__).resolve().parents[1]
#: Settings no analysis stage reads: a change to them must not rerun one.
UNUSED = ("trainer.max_epochs=99", "data.batch_size=7", "optimizer=adam", "scheduler=cosine")


def test_a_toy_run_key_covers_the_toy_surfaces_and_nothing_else(make_cfg):
    cfg = make_cfg("experiment=toy")
    key = toy.run.key(cfg)
    assert list(toy.run.settings(cfg)) == ["toy"]
    row = run_row({"config": toy.run.settings(cfg)})
    assert not [c for c in row if c.startswith(("data.", "model.", "optimizer.", "trainer.", "stage"))]
    assert toy.run.key(make_cfg("experiment=toy", *UNUSED, "seed=3")) == key
    assert toy.run.key(make_cfg("experiment=toy", "+toy.demos.elongated.surface.steep=100.0")) != key


@pytest.mark.parametrize(
    ("stage", "overrides", "own"),
    [
        (critical.run, ("experiment=critical_points", "problem=sinc"), "critical.grad_tol=1e-5"),
        (saddle.run, ("experiment=saddle_escape",), "saddle.descent.noise=1e-3"),
    ],
    ids=["critical_points", "saddle_escape"],
)
def test_a_critical_point_run_key_covers_its_problem_settings_and_seed(make_cfg, stage, overrides, own):
    cfg = make_cfg(*overrides)
    key = stage.key(cfg)
    assert set(stage.settings(cfg)) == {"problem", "seed", own.split(".")[0]}
    assert stage.key(make_cfg(*overrides, *UNUSED)) == key
    for change in (own, "seed=1", "problem.hidden=[8]"):
        assert stage.key(make_cfg(*overrides, change)) != key, change


def test_where_the_data_of_a_problem_lives_is_not_part_of_its_key(make_cfg, tmp_path):
    mnist = ("experiment=critical_points", "problem=mnist_small")
    assert critical.run.key(make_cfg(*mnist, f"data.root={tmp_path}")) == critical.run.key(make_cfg(*mnist))


def test_a_sharp_flat_run_key_covers_its_analysis_and_its_source_runs(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    hydra = HydraConfig.instance()
    monkeypatch.setattr(hydra, "cfg", None)  # set below, as the CLI sets it; unset again afterwards

    def key(*overrides: str) -> str:
        base = ["experiment=sharp_flat", "setting=mnist_f1", "logger=csv", f"paths.output={tmp_path}"]
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", [*base, *overrides], return_hydra_config=True)
        hydra.set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]
        return sharp_flat.run.key(cfg)

    first = key()
    assert key("trainer.max_epochs=99", "optimizer.lr=0.5") == first  # this run's own trainer, optimizer
    assert key("sharp_flat.sharpness.max_iter=3") != first
    assert key('sharp_flat.source.overrides=["sizes.mnist.sb=32"]') != first  # its source runs changed
    assert key("seed=1") != first


@pytest.mark.parametrize("experiment", sorted(p.parent.name for p in ROOT.glob("results/*/runs.csv")))
def test_every_committed_table_is_keyed_by_the_current_definition(experiment):
    """Each committed row's config, rebuilt from its cells and checked against its key (rekey), hashes to the
    row's own key under today's definition: the tables were re-keyed, nothing is left to migrate."""
    keys = table_keys(ROOT / "results" / experiment / "runs.csv", {})
    assert keys and all(old == new for old, new in keys.items())


def test_moving_a_module_or_declaring_a_knob_at_its_default_changes_no_key(make_cfg, monkeypatch):
    cfg = make_cfg("experiment=quickstart", "data.batch_size=32")
    config = resolved_config(cfg)
    key = run_key(config)
    moved = json.loads(json.dumps(config).replace('"optfactors.models.', '"optfactors.networks.'))
    assert moved != config and run_key(moved) == key
    config["model"]["init"] = "default"  # a knob added to conf/model/ at some depth ...
    assert run_key(config) != key
    monkeypatch.setitem(KNOB_DEFAULTS, "model.init", "default")  # ... declared with its default
    assert run_key(config) == key
    config["model"]["init"] = "he_normal"
    assert run_key(config) != key
    assert legacy_run_key(resolved_config(cfg)) != key  # the old definition hashed import paths


def test_rekey_renames_records_and_checkpoints_and_rewrites_only_keys(make_cfg, tmp_path):
    """A results folder keyed the old way: records and checkpoint folders renamed, tables rewritten key for
    key (same bytes elsewhere), a second pass changes nothing."""
    results = tmp_path / "old"
    config = train.settings(make_cfg("experiment=quickstart", "data.batch_size=32"))
    old, new = legacy_run_key(config), run_key(config)
    runs = results / "quickstart" / "runs"
    record = {"run_key": old, "experiment": "quickstart", "status": "ok", "config": config}
    write_json_atomic(runs / f"{old}.json", record)
    (results / "quickstart" / "checkpoints" / old).mkdir(parents=True)
    table = f"run_key,test_acc\n{old},97.12345678\n"
    (results / "quickstart" / "curves.csv").write_text(table)
    assert rekey(results) == {old: new}
    assert json.loads((runs / f"{new}.json").read_text())["run_key"] == new
    assert not (runs / f"{old}.json").exists()
    assert (results / "quickstart" / "checkpoints" / new).is_dir()
    assert (results / "quickstart" / "curves.csv").read_text() == table.replace(old, new)
    assert rekey(results) == {}


@pytest.mark.parametrize(
    ("experiment", "overrides"),
    [
        ("batch_accuracy", ("setting=mnist_mlp", "data.batch_size=1024", "seed=1")),
        ("optimizers", ("setting=mnist_mlp", "optimizer=momentum", "scheduler=cosine", "optimizer.lr=0.1")),
        ("loss_mse_vs_ce", ("loss=mse", "optimizer=adam", "seed=1")),
        ("warmup", ("scheduler=warmup_cosine", "optimizer.lr=0.01", "seed=0")),
        ("normalization", ("model=mlp_deep", "optimizer.lr=3.0", "trainer.gradient_clip_val=1.0", "seed=1")),
    ],
)
def test_a_training_run_composed_again_has_its_committed_key(make_cfg, experiment, overrides):
    runs = pd.read_csv(ROOT / "results" / experiment / "runs.csv")
    assert train.key(make_cfg(f"experiment={experiment}", *overrides)) in set(runs["run_key"])


def test_a_run_switch_at_its_declared_default_stays_out_of_the_key_and_the_record(make_cfg):
    """compile, channels_last and track_grad_norm are declared in the base config; a run from before they
    were (its recorded config lacks them) keeps its committed key, and switching one on changes the key."""
    run = ("experiment=loss_mse_vs_ce", "loss=mse", "optimizer=adam", "seed=1")
    cfg = make_cfg(*run)
    assert {name: cfg[name] for name in KNOB_DEFAULTS} == KNOB_DEFAULTS
    undeclared = {k: v for k, v in resolved_config(cfg).items() if k not in KNOB_DEFAULTS}
    committed = set(pd.read_csv(ROOT / "results" / "loss_mse_vs_ce" / "runs.csv")["run_key"])
    assert run_key(undeclared) == run_key(resolved_config(cfg)) == train.key(cfg) in committed
    assert not set(KNOB_DEFAULTS) & set(train.settings(cfg))  # nor a new runs.csv column
    switched = make_cfg(*run, "track_grad_norm=true")
    assert train.settings(switched)["track_grad_norm"] is True
    assert train.key(switched) != train.key(cfg)
    assert train.key(make_cfg(*run, "compile=true")) not in {train.key(cfg), train.key(switched)}


def _training_records(limit: int) -> list[dict]:
    """Up to ``limit`` run records of training runs on disk under results/ (records are not committed)."""
    records = []
    for path in sorted(ROOT.glob("results/*/runs/*.json")):
        record = json.loads(path.read_text())
        if "stage" not in record["config"]:
            records.append(record)
        if len(records) == limit:
            break
    return records


def test_a_training_run_keeps_the_key_of_its_record_on_disk():
    records = _training_records(limit=20)
    if not records:
        pytest.skip("no training run records under results/*/runs/")
    for record in records:
        assert train.key(OmegaConf.create(record["config"])) == record["run_key"], record["experiment"]
