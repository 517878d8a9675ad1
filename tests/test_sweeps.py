"""Sweeps you can trust: resume after SIGKILL, checkpoint resume, failure isolation, validation, determinism,
DDP, and the joblib / submitit launchers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning.pytorch as pl
import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException, MissingConfigException

from optfactors import CONF_DIR
from optfactors.data import DataError
from optfactors.report.collect import collect
from optfactors.run.config import ConfigError
from optfactors.run.record import read_record
from optfactors.run.sweep import count_jobs, progress_line
from optfactors.stages import train as train_module
from optfactors.stages.train import train

TINY = ("logger=csv", "data.subset=600", "data.val_size=200", "data.batch_size=20", "trainer.max_epochs=2")


def _records(results: Path, experiment: str = "adhoc") -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (results / experiment / "runs").glob("*.json")}


def test_a_sweep_killed_mid_run_finishes_only_the_missing_runs(cli, tmp_path, data_dir):
    results = tmp_path / "results"
    args = [
        "-m",
        "logger=csv",
        "data.subset=5000",
        "data.val_size=500",
        "data.batch_size=10",
        "trainer.max_epochs=3",
        "seed=0,1,2",
        f"paths.results={results}",
        f"hydra.sweep.dir={tmp_path}/sweep",
    ]
    exe = Path(sys.executable).parent / "optfactors"
    env = {**os.environ, "OPTFACTORS_PROGRESS_BAR": "false", "DATA_DIR": str(data_dir)}
    proc = subprocess.Popen([str(exe), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    try:  # wait until one run is recorded and another one has checkpointed but not finished
        while time.time() < deadline:
            done = set(_records(results))
            ckpts = {p.parent.name for p in (results / "adhoc" / "checkpoints").glob("*/last.ckpt")}
            if done and ckpts - done:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the sweep did not reach the middle of its second run in time")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    first = _records(results)
    assert len(first) == 1 and not list((results / "adhoc" / "runs").glob("*.tmp"))  # no half-written record

    rerun = cli(*args)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    records = _records(results)
    assert len(records) == 3 and all(r["status"] == "ok" for r in records.values())
    (done_key,) = first
    assert records[done_key] == first[done_key]  # the finished run was skipped, not redone
    resumed = [r for r in records.values() if r["resumed_from"]]
    assert len(resumed) == 1 and resumed[0]["epochs"] == 3 and len(resumed[0]["curve"]) == 3
    assert "sweep finished: 3 runs: 2 ok, 0 diverged, 1 skipped, 0 failed, 0 invalid" in rerun.stderr
    runs, curves = collect(results, "adhoc")
    assert sorted(runs["run_key"]) == sorted(records) and sorted(runs["seed"]) == [0, 1, 2]
    assert len(curves) == 9


class _CrashOnce(pl.Callback):
    """Raises at the start of epoch 2 the first time: a crash after two checkpoints were written."""

    def __init__(self) -> None:
        self.crashed = False

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == 2 and not self.crashed:
            self.crashed = True
            raise RuntimeError("simulated crash")


def test_a_crashed_run_resumes_from_its_checkpoint_to_the_same_metrics(make_cfg, monkeypatch):
    # keskar_c1 has dropout and the data are augmented: the resumed run must draw the same masks and crops;
    # the per-epoch step schedule must continue at the same learning rate.
    overrides = (
        "data=cifar10",
        "model=keskar_c1",
        "data.subset=200",
        "data.val_size=100",
        "data.batch_size=50",
        "data.eval_batch_size=100",
        "data.augment=true",
        "trainer.max_epochs=4",
        "trainer.limit_test_batches=1",
        "optimizer=adam",
        "scheduler=step",
        "scheduler.schedule.step_size=1",
        "scheduler.schedule.gamma=0.5",
    )
    reference = train(make_cfg(*overrides, "experiment_name=reference"))
    make_callbacks, crash = train_module._callbacks, _CrashOnce()
    monkeypatch.setattr(train_module, "_callbacks", lambda *a: [*make_callbacks(*a), crash])
    cfg = make_cfg(*overrides, "experiment_name=crashed")
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(cfg)
    (path,) = (Path(cfg.paths.results) / "crashed" / "runs").glob("*.json")
    crashed = read_record(path)
    assert crashed["status"] == "failed" and crashed["epochs"] == 2 and "simulated crash" in crashed["error"]
    assert "RuntimeError: simulated crash" in path.with_suffix(".traceback.txt").read_text()
    resumed = train(cfg)
    assert resumed["resumed_from"] and resumed["status"] == "ok"
    assert (
        [r["lr"] for r in resumed["curve"]]
        == [r["lr"] for r in reference["curve"]]
        == [1e-3 * 0.5**k for k in range(1, 5)]
    )
    assert resumed["metrics"] == reference["metrics"]
    assert [r["train_loss"] for r in resumed["curve"]] == [r["train_loss"] for r in reference["curve"]]
    assert not (
        Path(cfg.paths.results) / "crashed" / "checkpoints" / resumed["run_key"]
    ).exists()  # keep=false


def test_one_failing_run_does_not_stop_the_sweep(cli, tmp_path):
    results = tmp_path / "results"
    # keskar_c2 (VGG) cannot take 28x28 MNIST images: that run fails when the model is built.
    out = cli(
        "-m", *TINY, "model=mlp,keskar_c2", f"paths.results={results}", f"hydra.sweep.dir={tmp_path}/sweep"
    )
    assert out.returncode == 1
    records = _records(results)
    statuses = sorted(r["status"] for r in records.values())
    assert statuses == ["failed", "ok"]
    failed = next(r for r in records.values() if r["status"] == "failed")
    assert "H and W >= 32" in failed["error"]
    assert (results / "adhoc" / "runs" / f"{failed['run_key']}.traceback.txt").exists()
    summary = out.stderr[out.stderr.index("sweep finished") :]
    assert summary.startswith("sweep finished: 2 runs: 1 ok, 0 diverged, 0 skipped, 1 failed, 0 invalid")
    assert f"failed: {failed['run_key']}: InstantiationException" in summary


BAD_VALUES = [  # (overrides, exception, message)
    (("data.batch_size=0",), ConfigError, "data.batch_size=0: an integer from 1 to 600"),
    (("data.batch_size=-3",), ConfigError, "data.batch_size=-3: an integer from 1 to 600"),
    (("data.batch_size=2.5",), ConfigError, "data.batch_size=2.5: an integer from 1 to 600"),
    (("data.batch_size=601",), ConfigError, "data.batch_size=601: an integer from 1 to 600"),
    (("optimizer.lr=0",), ConfigError, "optimizer.lr=0: a positive number"),
    (("optimizer.lr=-0.1",), ConfigError, "optimizer.lr=-0.1: a positive number"),
    (("optimizer.lr=fast",), ConfigError, "optimizer.lr='fast': a positive number"),
    (
        ("optimizer=momentum", "optimizer.momentum=1.0"),
        ConfigError,
        r"optimizer.momentum=1.0: a number in \[0, 1\)",
    ),
    (
        ("optimizer=momentum", "optimizer.momentum=-0.5"),
        ConfigError,
        r"optimizer.momentum=-0.5: a number in \[0, 1\)",
    ),
    (
        ("scheduler=warmup_cosine", "scheduler.schedule.warmup_steps=61"),
        ConfigError,
        "scheduler.schedule.warmup_steps=61: an integer from 1 to 60, the steps of the whole run",
    ),
    (("data.subset=59801",), ConfigError, "data.subset=59801: null or an integer from 1 to 59800"),
    (("data.name=fashion",), ConfigError, "data.name='fashion': one of mnist, cifar10"),
    (
        ("data.batch_size=21", "trainer.devices=2"),
        ConfigError,
        "data.batch_size=21: the global batch must be divisible by the 2 training processes",
    ),
    (("trainer.max_epochs=0",), ConfigError, "trainer.max_epochs=0: a positive integer"),
    (
        ("scheduler=step", "trainer.max_epochs=-1", "trainer.max_steps=100"),
        ConfigError,
        "trainer.max_epochs=-1: a positive integer with a per-epoch schedule",
    ),
    (
        ("data.input_shape=[3,28,28]",),
        ConfigError,
        r"data.input_shape=\[3, 28, 28\]: \[1, 28, 28\], the \(C, H, W\)",
    ),
    (
        ("optimizer=nesterov", "optimizer.momentum=0"),
        ConfigError,
        "optimizer.momentum=0: > 0 with nesterov: true",
    ),
    (("scheduler.interval=sometimes",), ConfigError, "scheduler.interval='sometimes': 'step' or 'epoch'"),
    (("optimizer=adamm",), MissingConfigException, "Could not find 'optimizer/adamm'"),
    (("model=resnet",), MissingConfigException, "Could not find 'model/resnet'"),
    (("data=imagenet",), MissingConfigException, "Could not find 'data/imagenet'"),
    (("scheduler=linear",), MissingConfigException, "Could not find 'scheduler/linear'"),
    (("loss=hinge",), MissingConfigException, "Could not find 'loss/hinge'"),
    (("data.batchsize=32",), ConfigCompositionException, "Could not override 'data.batchsize'"),
]


@pytest.mark.parametrize(("overrides", "error", "message"), BAD_VALUES, ids=lambda v: str(v))
def test_every_bad_value_is_one_clear_error_and_no_record(make_cfg, overrides, error, message):
    with pytest.raises(error, match=message):
        train(make_cfg(*TINY, *overrides))
    assert not Path(make_cfg().paths.results).exists()


def test_a_typo_in_a_key_names_the_key(make_cfg):
    with pytest.raises(ConfigCompositionException) as err:
        make_cfg("optimizer.learning_rate=0.1")
    assert "Key 'learning_rate' is not in struct" in str(err.value.__cause__)


def test_missing_and_corrupt_data_files_are_data_errors_before_any_work(make_cfg, tmp_path, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(DataError, match=r"mnist: no file .*mnist.npz"):
        train(make_cfg(*TINY, f"data.root={tmp_path}/empty"))
    (tmp_path / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="is not a valid mnist archive"):
        train(make_cfg(*TINY, f"data.root={tmp_path}"))
    assert not Path(make_cfg().paths.results).exists()


def test_bad_values_in_a_sweep_are_reported_without_stopping_it(cli, tmp_path):
    out = cli(
        "-m", *TINY, "data.batch_size=20,601", f"paths.results={tmp_path}/r", f"hydra.sweep.dir={tmp_path}/s"
    )
    assert out.returncode == 1 and len(_records(tmp_path / "r")) == 1
    assert "invalid: (no run key): config error: data.batch_size=601: an integer from 1 to 600" in out.stderr


def test_ddp_inside_a_local_sweep_is_refused(cli, tmp_path):
    out = cli(
        "-m", *TINY, "trainer=ddp", "seed=0,1", f"paths.results={tmp_path}/r", f"hydra.sweep.dir={tmp_path}/s"
    )
    assert out.returncode == 1 and not (tmp_path / "r").exists()
    assert "invalid: (no run key): config error: trainer.strategy='ddp': multi-process DDP" in out.stderr


def test_same_seed_same_curves_other_seed_other_run(make_cfg):
    overrides = (
        "data=cifar10",
        "model=keskar_c1",
        "data.subset=100",
        "data.val_size=100",
        "data.batch_size=50",
        "data.augment=true",
        "trainer.max_epochs=2",
        "trainer.limit_test_batches=1",
        "resume=false",
        "data.eval_batch_size=100",
    )
    a, b = train(make_cfg(*overrides)), train(make_cfg(*overrides))
    c = train(make_cfg(*overrides, "seed=1"))
    assert a["curve"] == [
        {**row, "epoch_time_s": r["epoch_time_s"]} for row, r in zip(b["curve"], a["curve"], strict=True)
    ]
    assert a["metrics"] == b["metrics"] and c["metrics"] != a["metrics"]


def test_sweep_size_and_progress_line():
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(
        {
            "hydra": {
                "overrides": {"task": ["seed=0,1,2", "experiment=quickstart"]},
                "sweeper": {"params": {"data.batch_size": "32,4096", "seed": "0,1"}},
            }
        }
    )
    assert count_jobs(cfg) == 6  # the command line's seeds replace the experiment's
    outcomes = [{"status": "ok", "wall_time_s": 60.0}, {"status": "skipped"}, {"status": "failed"}]
    line = progress_line(outcomes, total=7, elapsed=75, parallel=2)
    assert line == "sweep: 3/7 runs done (1 failed, 1 ok, 1 skipped), 1m15s elapsed, about 2m00s left"


def test_ddp_on_two_cpu_processes_matches_one_process(cli, tmp_path):
    common = ("data.subset=2000", "data.val_size=1000", "data.batch_size=16", "trainer.max_epochs=1")
    single = cli(*common, "logger=csv", f"paths.results={tmp_path}/one", f"hydra.run.dir={tmp_path}/one_out")
    ddp = cli(
        *common,
        "trainer=ddp",
        "logger=wandb",
        "logger.wandb.mode=offline",
        f"paths.results={tmp_path}/two",
        f"hydra.run.dir={tmp_path}/two_out",
    )
    assert single.returncode == 0 and ddp.returncode == 0, ddp.stderr[-3000:]
    (one,) = _records(tmp_path / "one").values()
    (two,) = _records(tmp_path / "two").values()  # exactly one record from two processes
    assert two["processes"] == 2 and one["processes"] == 1
    assert two["updates"] == one["updates"] == 125  # global batch 16 = 2 x 8: same updates per epoch
    # The same global batches and averaged gradients: the same model up to float rounding (1 vs 2 threads
    # sum in another order), so losses agree closely and accuracies to within a prediction or two.
    for name, value in one["metrics"].items():
        assert two["metrics"][name] == pytest.approx(value, rel=1e-3, abs=2e-3), name
    for row_one, row_two in zip(one["curve"], two["curve"], strict=True):
        assert row_two["train_loss"] == pytest.approx(row_one["train_loss"], rel=1e-3)
    assert len(list((tmp_path / "two_out" / "wandb").glob("offline-run-*"))) == 1


def test_joblib_runs_two_jobs_in_parallel_with_a_thread_each(cli, tmp_path):
    out = cli(
        "-m",
        *TINY,
        "seed=0,1",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"paths.results={tmp_path}/r",
        f"hydra.sweep.dir={tmp_path}/s",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    records = _records(tmp_path / "r").values()
    assert len(records) == 2 and all(
        r["status"] == "ok" and r["device"].endswith("(1 threads)") for r in records
    )
    assert "sweep: 2/2 runs done (2 ok)" in out.stdout  # Hydra's job log goes to stdout


def test_submitit_local_launcher_runs_the_sweep(cli, tmp_path):
    out = cli(
        "-m",
        *TINY,
        "seed=0,1",
        "hydra/launcher=submitit_local",
        "hydra.launcher.cpus_per_task=1",
        "hydra.launcher.timeout_min=10",
        f"paths.results={tmp_path}/r",
        f"hydra.sweep.dir={tmp_path}/s",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    records = _records(tmp_path / "r").values()
    assert len(records) == 2 and all(
        r["status"] == "ok" and r["device"].endswith("(1 threads)") for r in records
    )


def test_slurm_launcher_preset_composes(make_cfg):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/launcher=slurm"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher") and launcher.max_num_timeout == 3
    assert launcher.cpus_per_task == 8 and launcher.array_parallelism == 64


def test_two_sweeps_started_in_the_same_second_get_their_own_folders() -> None:
    """Each composition resolves its own time; the folders differ below the second, so the job folders (CSV
    logs, outcomes) of two sweeps started together never mix."""
    folders = []
    for _ in range(2):
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            cfg = compose("config", overrides=["experiment=toy"], return_hydra_config=True)
        folders.append((cfg.hydra.sweep.dir, cfg.hydra.run.dir))
    (sweep_a, run_a), (sweep_b, run_b) = folders
    assert sweep_a != sweep_b and run_a != run_b
    assert sweep_a.startswith("multirun/toy/") and run_a.startswith("outputs/toy/")
