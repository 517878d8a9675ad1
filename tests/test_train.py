"""One run end to end on real data: accuracy, the record, divergence, resume, W&B offline, the CLI."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from optfactors.run.record import read_record, record_path, run_key
from optfactors.stages.train import _build_task, train

QUICK = ("data.subset=2000", "data.val_size=1000", "data.batch_size=16", "trainer.max_epochs=1")


def test_one_epoch_on_2000_mnist_samples_learns_and_writes_a_valid_record(make_cfg):
    cfg = make_cfg(*QUICK)
    record = train(cfg)
    assert record["status"] == "ok" and record["error"] is None
    metrics = record["metrics"]
    assert metrics["test_acc"] > 0.80 and metrics["train_eval_acc"] > 0.80 and metrics["val_acc"] > 0.80
    assert metrics["test_loss"] < 1.0
    assert record["epochs"] == 1 and record["updates"] == 125  # 2000 / 16
    assert 0 < record["time_per_update_s"] < record["time_per_epoch_s"][0] < record["wall_time_s"]
    assert record["curve"][0]["epoch"] == 0 and record["curve"][0]["lr"] == 0.1
    assert set(record["curve"][0]) >= {"train_loss", "train_acc", "val_loss", "val_acc", "epoch_time_s"}
    assert record["versions"]["torch"] and record["config"]["data"]["subset"] == 2000
    on_disk = read_record(record_path(cfg.paths.results, "adhoc", record["run_key"]))
    assert on_disk == json.loads(json.dumps(record))
    assert record["run_key"] == run_key(record["config"])
    csv = Path(cfg.paths.output) / "csv" / "metrics.csv"
    assert "val/acc" in csv.read_text().splitlines()[0]


def test_same_seed_same_metrics_and_a_done_run_is_skipped(make_cfg, tmp_path):
    first = train(make_cfg(*QUICK, "data.subset=500", "resume=false"))
    again = train(make_cfg(*QUICK, "data.subset=500", "resume=false"))
    assert first["run_key"] == again["run_key"]
    assert (
        again.get("skipped") is None and again["wall_time_s"] != first["wall_time_s"]
    )  # resume=false: rerun
    assert (
        first["metrics"] == again["metrics"]
        and first["curve"][0]["train_loss"] == again["curve"][0]["train_loss"]
    )
    other_seed = train(make_cfg(*QUICK, "data.subset=500", "seed=1"))
    assert other_seed["run_key"] != first["run_key"] and other_seed["metrics"] != first["metrics"]
    skipped = train(make_cfg(*QUICK, "data.subset=500", "paths.output=/nowhere"))  # volatile key: same run
    assert skipped["skipped"] and skipped["wall_time_s"] == again["wall_time_s"]


def test_a_huge_learning_rate_is_recorded_as_diverged(make_cfg):
    cfg = make_cfg(*QUICK, "optimizer.lr=1e6")
    record = train(cfg)
    assert record["status"] == "diverged" and "training loss is" in record["error"]
    assert record["diverged_at"]["epoch"] == 0 and record["diverged_at"]["update"] < 125
    assert read_record(record_path(cfg.paths.results, "adhoc", record["run_key"]))["status"] == "diverged"


def test_wandb_offline_run_holds_the_logged_metrics(make_cfg, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("NETRC", os.devnull)
    cfg = make_cfg(*QUICK, "data.subset=500", "logger=wandb", "trainer.log_every_n_steps=4")
    record = train(cfg)
    runs = list((Path(cfg.paths.output) / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
    wandb = shutil.which("wandb", path=str(Path(sys.executable).parent))
    out = subprocess.run(
        [wandb, "leet", "inspect", "--summary", "--json", str(runs[0])],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    summary = json.loads(out)
    text = json.dumps(summary)
    for name in ("val/acc", "test/acc", "step/loss", "step/lr", "step/grad_norm", "status"):
        assert name in text, name
    assert record["run_key"] in text
    assert summary["project"] == "optfactors" and summary["name"] == record["run_key"]
    assert "quick" in summary["tags"] and "mnist" in summary["tags"]
    assert "'batch_size': 16" in str(summary["config"]) and "'subset': 500" in str(summary["config"])


def test_keskar_c1_runs_on_a_cifar10_subset(make_cfg):
    record = train(
        make_cfg(
            "data=cifar10",
            "model=keskar_c1",
            "data.subset=500",
            "data.val_size=100",
            "trainer.max_epochs=1",
            "optimizer=adam",
            "data.eval_batch_size=500",
            "trainer.limit_test_batches=1",  # 500 of the 10,000 test images: C1 on all of them took ~15 s
        )
    )
    assert record["status"] == "ok" and record["updates"] == 4 and 0 <= record["metrics"]["test_acc"] <= 1


@pytest.mark.slow  # the lines of test_cli.py's `run --help` test, which runs by default (~8 s a start-up)
def test_help_lists_the_config_groups(cli):
    out = cli("run", "--help").stdout
    for line in (
        "optimizer: adagrad, adam, adamw, lamb, lars, momentum, nesterov, rmsprop, sam, sgd",
        "scheduler: constant, cosine, exponential, inverse_sqrt, step, warmup_constant, warmup_cosine",
        "model: keskar_c1, keskar_c2, keskar_f1, lenet5, mlp",
        "data: cifar10, mnist",
        "loss: cross_entropy, mse",
    ):
        assert line in out


def test_cli_bad_value_is_one_line_and_exit_code_2(cli, tmp_path):
    result = cli("data.batch_size=0", f"paths.results={tmp_path}", f"hydra.run.dir={tmp_path}/out")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "optfactors: config error: data.batch_size=0: "
        "an integer from 1 to 55000 (the number of training samples)"
    )
    assert not list(tmp_path.glob("*/runs/*.json"))


def _tiny_conv_run(make_cfg, *switches: str) -> dict:
    """Two epochs of a width-4 ResNet-8 on 256 CIFAR-10 images (BatchNorm, convolutions, residuals)."""
    common = (
        "data=cifar10",
        "model=resnet_cifar",
        "model.depth=8",
        "model.width=4",
        "data.subset=256",
        "data.val_size=64",
        "data.batch_size=64",
        "trainer.max_epochs=2",
        "trainer.limit_test_batches=1",
        "resume=false",
    )
    record = train(make_cfg(*common, *switches))
    assert record["status"] == "ok", record["error"]
    return record["metrics"]


@pytest.mark.parametrize(
    ("switch", "rel"),
    [
        ("channels_last=true", 1e-3),
        # compiling takes ~40 s on 2 CPU cores; test_the_gpu_switches_take_effect checks it is applied
        pytest.param("compile=true", 1e-3, marks=pytest.mark.slow),
        ("trainer.precision=bf16-mixed", 5e-2),
    ],
)
def test_gpu_switches_give_the_same_results_on_the_cpu(make_cfg, switch: str, rel: float):
    """channels_last and torch.compile do the same arithmetic in another order: float rounding, which the 8
    SGD updates at lr 0.1 amplify to ~1e-4 relative (so 1e-3 here); bf16 mixed precision rounds activations
    to 8 bits of mantissa (close, not equal)."""
    base = _tiny_conv_run(make_cfg)
    switched = _tiny_conv_run(make_cfg, switch)
    for name in ("train_loss", "val_loss", "test_loss", "train_eval_loss"):
        assert switched[name] == pytest.approx(base[name], rel=rel), name


def test_an_epoch_cut_by_max_steps_still_records_its_training_metrics(make_cfg):
    """max_steps ends the epoch after 6 of its 8 batches (2 accumulated per update): the epoch's row holds
    the means over exactly those 384 samples, logged once."""
    sizes = ("data.subset=512", "data.batch_size=64", "trainer.max_steps=3")
    record = train(make_cfg(*QUICK, *sizes, "+trainer.accumulate_grad_batches=2"))
    assert record["status"] == "ok" and record["updates"] == 3
    (row,) = record["curve"]
    assert row["updates"] == 3 and math.isfinite(row["train_loss"])
    assert row["train_acc"] * 384 == pytest.approx(round(row["train_acc"] * 384), abs=1e-3)


def test_the_gpu_switches_take_effect(make_cfg):
    cfg = make_cfg("data=cifar10", "model=resnet_cifar", "model.depth=8", "model.width=4")
    assert _build_task(cfg).model._compiled_call_impl is None
    compiled = _build_task(make_cfg("data=cifar10", "model=resnet_cifar", "compile=true"))
    assert compiled.model._compiled_call_impl is not None
    task = _build_task(make_cfg("data=cifar10", "model=resnet_cifar", "channels_last=true"))
    conv = next(m for m in task.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and conv.weight.stride()[1] == 1


def test_c1_trains_channels_last_by_default_the_narrow_c1_and_resnets_do_not(make_cfg):
    """The layout is the setting's choice where it was measured faster on the CPU
    (conf/setting/cifar10_c1.yaml); the command line still overrides it."""
    assert make_cfg("setting=cifar10_c1").channels_last is True
    assert make_cfg("setting=cifar10_c1", "channels_last=false").channels_last is False
    assert make_cfg("setting=cifar10_c1_narrow").channels_last is False
    assert make_cfg("data=cifar10", "model=resnet_cifar").channels_last is False
