"""Faults that must never wedge a run: a full disk during a checkpoint save or a record write, a truncated
checkpoint or record, a checkpoint that would run code, ``kill -9`` mid-save, SIGTERM mid-epoch. Each ends in
one clear line and a rerun with the numbers of an uninterrupted run; no temporary or empty file is left."""

from __future__ import annotations

import errno
import logging
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import lightning.pytorch as pl
import pytest
import torch
from hydra import compose, initialize_config_dir
from matplotlib.figure import Figure

from optfactors import CONF_DIR
from optfactors.report.collect import collect
from optfactors.report.collect import main as collect_main
from optfactors.report.figures import FORMATS
from optfactors.run import record as record_module
from optfactors.run.atomic import atomic_path, atomic_write_text, remove_leftovers
from optfactors.run.checkpoint_io import LAST, load_checkpoint
from optfactors.run.faults import SIGTERM_LINE, one_line_faults, resource_error_line
from optfactors.run.record import checkpoint_dir, read_record, record_path
from optfactors.stages import train as train_module
from optfactors.stages.train import train

#: Two epochs of a 32-unit MLP on 2,000 MNIST images: about a second in-process.
TINY = (
    "data.subset=2000",
    "data.val_size=500",
    "data.batch_size=50",
    "trainer.max_epochs=2",
    "trainer.limit_test_batches=2",
    "model.hidden=[32]",
)
ENOSPC = "raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))"
ONE_LINE = r"optfactors: {path}: no space left on device \(\d+ MB free\); the run was not recorded"


class Reference(NamedTuple):
    """The uninterrupted run: its record, and the size of its (kept) checkpoint."""

    record: dict[str, Any]
    checkpoint_bytes: int


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Reference:
    """The TINY run without faults: every rerun after a fault must give its numbers."""
    where = tmp_path_factory.mktemp("reference")
    with pytest.MonkeyPatch.context() as patch, initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        patch.setenv("DATA_DIR", str(data_dir))
        cfg = compose(
            "config",
            overrides=[
                f"paths.output={where / 'out'}",
                f"paths.results={where / 'results'}",
                "logger=csv",
                "trainer.enable_progress_bar=false",
                "checkpoint.keep=true",  # volatile: the same run key
                *TINY,
            ],
        )
        record = train(cfg)
    ckpt = checkpoint_dir(cfg.paths.results, "adhoc", record["run_key"]) / LAST
    return Reference(record, ckpt.stat().st_size)


def numbers(record: dict[str, Any]) -> tuple[Any, ...]:
    """What a run computes: final metrics, updates and the curve without its timings."""
    curve = [{k: v for k, v in row.items() if k != "epoch_time_s"} for row in record["curve"]]
    return record["status"], record["metrics"], record["updates"], curve


def stray_files(folder: Path) -> list[Path]:
    """Temporary files or folders, and empty files, under ``folder``."""
    return [
        p for p in folder.rglob("*") if p.name.endswith(".tmp") or (p.is_file() and p.stat().st_size == 0)
    ]


def half_save(save: int, then: str) -> str:
    """Code defining ``write_bytes``, a `Path.write_bytes` whose ``save``-th write of a temporary
    ``last.ckpt`` (`AtomicCheckpointIO`) writes half the bytes, then runs ``then`` (a full disk: `ENOSPC`, or
    a hang until killed)."""
    return f"""
import errno, os, pathlib, time
_write, _saves = pathlib.Path.write_bytes, []
def write_bytes(self, data):
    if self.name == "last.ckpt" and self.parent.name.endswith(".tmp"):
        _saves.append(self)
        if len(_saves) == {save}:
            _write(self, bytes(data)[: len(data) // 2])
            {then}
    return _write(self, data)
"""


#: Installs `half_save`'s ``write_bytes`` in the CLI's process.
INSTALL = "pathlib.Path.write_bytes = write_bytes\n"


def patch_save(monkeypatch: pytest.MonkeyPatch, save: int, then: str) -> None:
    """`half_save` in this process."""
    scope: dict[str, Any] = {}
    exec(half_save(save, then), scope)
    monkeypatch.setattr(Path, "write_bytes", scope["write_bytes"])


def start_cli(code: str, *args: str, data_dir: Path) -> subprocess.Popen:
    """``optfactors *args`` in a process that first runs ``code`` (a fault to inject)."""
    main = "\nfrom optfactors.cli import main\nmain()\n"
    env = {**os.environ, "OPTFACTORS_PROGRESS_BAR": "false", "DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-c", code + main, "logger=csv", *TINY, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until ``condition()`` holds while ``proc`` runs."""
    deadline = time.time() + timeout
    while not condition():
        assert proc.poll() is None, f"exited early: {proc.communicate()[1][-2000:]}"
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


# --- atomic writes and one-line errors ---------------------------------------------------------------------


def test_an_atomic_write_lands_whole_or_not_at_all(tmp_path):
    target = tmp_path / "runs.csv"
    atomic_write_text(target, "old\n")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    with pytest.raises(OSError) as err, atomic_path(target) as tmp:
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert err.value.filename == str(target)  # the file the user knows, not the temporary one
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["runs.csv"]
    atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["runs.csv"]
    (tmp_path / ".runs.csv.x1y2.tmp").mkdir()  # a writer killed mid-write
    remove_leftovers(target)
    assert os.listdir(tmp_path) == ["runs.csv"]


def test_a_figure_saved_atomically_has_the_same_bytes(tmp_path):
    fig = Figure()
    fig.add_subplot().plot([0, 1, 4])
    for fmt, metadata in FORMATS.items():
        fig.savefig(tmp_path / f"direct.{fmt}", dpi=150, metadata=metadata)
        with atomic_path(tmp_path / f"atomic.{fmt}") as tmp:
            fig.savefig(tmp, dpi=150, metadata=metadata)
        assert (tmp_path / f"atomic.{fmt}").read_bytes() == (tmp_path / f"direct.{fmt}").read_bytes()
    assert not stray_files(tmp_path)


def test_resource_errors_are_one_line_with_exit_code_1(tmp_path, capsys):
    path = tmp_path / "runs" / "abc.json"
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    assert re.fullmatch(ONE_LINE.format(path=re.escape(str(path))), resource_error_line(full))
    denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    assert resource_error_line(denied) == f"optfactors: {path}: permission denied; the run was not recorded"
    read_only = OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))
    assert resource_error_line(read_only).endswith(": read-only file system; the run was not recorded")
    unnamed = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # e.g. a logger's flush
    assert resource_error_line(unnamed) == "optfactors: no space left on device; the run was not recorded"

    @one_line_faults
    def fails(err: OSError) -> None:
        raise err

    with pytest.raises(SystemExit) as exit_:
        fails(full)
    assert exit_.value.code == 1 and capsys.readouterr().err == resource_error_line(full) + "\n"
    with pytest.raises(FileNotFoundError):  # not a resource error: raised as it is
        fails(FileNotFoundError(errno.ENOENT, "No such file or directory", "x"))


# --- faults in a run, each followed by a rerun -------------------------------------------------------------


def test_disk_full_during_a_checkpoint_save_leaves_no_trace_and_the_rerun_finishes(
    make_cfg, monkeypatch, reference
):
    cfg = make_cfg(*TINY)
    results, key = Path(cfg.paths.results), reference.record["run_key"]
    with monkeypatch.context() as patch, pytest.raises(OSError) as err:
        patch_save(patch, 1, ENOSPC)  # the first save: nothing to resume from
        train(cfg)
    ckpt = checkpoint_dir(results, "adhoc", key) / LAST
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(ckpt)
    assert re.fullmatch(ONE_LINE.format(path=re.escape(str(ckpt))), resource_error_line(err.value))
    assert not ckpt.exists() and not list(results.rglob("*.json")) and not list(results.rglob("*.txt"))
    assert not stray_files(results)
    rerun = train(cfg)
    assert rerun["resumed_from"] is None and numbers(rerun) == numbers(reference.record)


def test_disk_full_during_a_record_write_leaves_no_trace_and_the_rerun_finishes(
    make_cfg, monkeypatch, reference
):
    cfg = make_cfg(*TINY)
    path = record_path(cfg.paths.results, "adhoc", reference.record["run_key"])

    def half_dump(data: Any, file: Any, **kwargs: Any) -> None:
        text = record_module.json.dumps(data, **kwargs)
        file.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch, pytest.raises(OSError) as err:
        patch.setattr(record_module.json, "dump", half_dump)
        train(cfg)
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(path)
    assert not path.exists() and not stray_files(Path(cfg.paths.results))
    rerun = train(cfg)  # continues from the checkpoint of the last epoch: nothing left to train
    assert rerun["resumed_from"] and numbers(rerun) == numbers(reference.record)
    assert read_record(path)["metrics"] == reference.record["metrics"]


class _CrashAtEpoch1(pl.Callback):
    """Raises at the start of epoch 1: a failed run with the checkpoint of epoch 0."""

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == 1:
            raise RuntimeError("simulated crash")


def _crash_after_epoch_0(make_cfg: Callable, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run TINY until it crashes in epoch 1; return its ``last.ckpt`` (epoch 0's)."""
    cfg = make_cfg(*TINY)
    make_callbacks = train_module._callbacks
    with monkeypatch.context() as patch:
        patch.setattr(train_module, "_callbacks", lambda *a: [*make_callbacks(*a), _CrashAtEpoch1()])
        with pytest.raises(RuntimeError, match="simulated crash"):
            train(cfg)
    return checkpoint_dir(cfg.paths.results, "adhoc", train.key(cfg)) / LAST


def test_a_truncated_checkpoint_is_set_aside_and_the_run_starts_again(
    make_cfg, monkeypatch, caplog, reference
):
    ckpt = _crash_after_epoch_0(make_cfg, monkeypatch)
    size = ckpt.stat().st_size
    # A save cut short (kill -9, power loss, a full disk) before saves were atomic.
    os.truncate(ckpt, size // 2)
    with caplog.at_level(logging.WARNING, logger="optfactors"):
        rerun = train(make_cfg(*TINY))
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "optfactors" and r.levelno >= 30]
    assert re.fullmatch(  # e.g. RuntimeError: PytorchStreamReader failed reading zip archive: ...
        rf"{re.escape(str(ckpt))} cannot be read \(\w+: .+\): moved to last.ckpt.corrupt; the run starts "
        "from scratch",
        warning,
    )
    assert (ckpt.parent / "last.ckpt.corrupt").stat().st_size == size // 2
    assert rerun["resumed_from"] is None and numbers(rerun) == numbers(reference.record)


def test_a_checkpoint_that_would_run_code_is_refused(make_cfg, tmp_path, caplog, reference):
    cfg = make_cfg(*TINY)
    ckpt = checkpoint_dir(cfg.paths.results, "adhoc", reference.record["run_key"]) / LAST
    ckpt.parent.mkdir(parents=True)
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self) -> tuple:
            return os.mkdir, (str(marker),)

    torch.save({"state_dict": {}, "payload": Payload()}, ckpt)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load_checkpoint(ckpt)
    with caplog.at_level(logging.WARNING, logger="optfactors"):
        rerun = train(cfg)
    assert not marker.exists() and (ckpt.parent / "last.ckpt.corrupt").is_file()
    assert "cannot be read (UnpicklingError: Weights only load failed)" in caplog.text
    assert rerun["resumed_from"] is None and numbers(rerun) == numbers(reference.record)


def test_a_truncated_record_is_skipped_by_collect_and_redone_by_the_rerun(
    make_cfg, caplog, capsys, reference
):
    cfg = make_cfg(*TINY)
    first = train(cfg)
    path = record_path(cfg.paths.results, "adhoc", first["run_key"])
    shutil.copy(path, path.with_name("0other.json"))  # another run's record, readable
    os.truncate(path, 100)
    capsys.readouterr()
    runs, _ = collect(cfg.paths.results, "adhoc")
    err = capsys.readouterr().err
    assert len(runs) == 1 and "Traceback" not in err
    assert re.fullmatch(
        rf"skipped {re.escape(str(path))}: not a readable run record \(JSONDecodeError: .+\)\n", err
    )
    with caplog.at_level(logging.WARNING, logger="optfactors"):
        rerun = train(cfg)
    assert f"{path} cannot be read (JSONDecodeError" in caplog.text
    assert f"moved to {path.name}.corrupt; the run will be done again" in caplog.text
    assert path.with_name(path.name + ".corrupt").stat().st_size == 100
    assert not rerun.get("skipped") and numbers(rerun) == numbers(reference.record)
    capsys.readouterr()
    assert len(collect(cfg.paths.results, "adhoc")[0]) == 2 and not capsys.readouterr().err
    path.with_name("0other.json").write_text("{")
    os.truncate(path, 10)
    with pytest.raises(SystemExit, match="no run records in"):  # nothing readable: one line, no traceback
        collect_main(["adhoc", "--results", str(cfg.paths.results)])


def test_kill_9_while_a_checkpoint_is_written_keeps_the_last_one(make_cfg, tmp_path, data_dir, reference):
    cfg = make_cfg(*TINY)
    ckpt = checkpoint_dir(cfg.paths.results, "adhoc", reference.record["run_key"]) / LAST
    proc = start_cli(
        half_save(2, "time.sleep(600)") + INSTALL,  # the second save hangs half-written until killed
        f"paths.results={cfg.paths.results}",
        f"hydra.run.dir={tmp_path / 'run'}",
        data_dir=data_dir,
    )
    try:
        wait_for(lambda: ckpt.exists() and any(ckpt.parent.glob(".last.ckpt.*.tmp/last.ckpt")), proc)
    finally:
        proc.kill()
        proc.wait()
    assert load_checkpoint(ckpt)["epoch"] == 0  # epoch 0's, whole
    rerun = train(cfg)
    assert rerun["resumed_from"] == str(ckpt) and numbers(rerun) == numbers(reference.record)
    assert not stray_files(Path(cfg.paths.results))  # the rerun removed the killed save's temporary folder


SLOW_UPDATES = """
import time
from optfactors.callbacks import UpdateTimer
_end = UpdateTimer.on_train_batch_end
def on_train_batch_end(self, *args):
    time.sleep(0.05)
    _end(self, *args)
UpdateTimer.on_train_batch_end = on_train_batch_end
"""


def test_sigterm_mid_epoch_is_recorded_and_the_rerun_finishes(make_cfg, tmp_path, data_dir, reference):
    cfg = make_cfg(*TINY)
    key = reference.record["run_key"]
    proc = start_cli(  # 40 updates an epoch, 50 ms each
        SLOW_UPDATES,
        f"paths.results={cfg.paths.results}",
        f"hydra.run.dir={tmp_path / 'run'}",
        data_dir=data_dir,
    )
    wait_for((checkpoint_dir(cfg.paths.results, "adhoc", key) / LAST).exists, proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 143 and err.splitlines()[-1] == SIGTERM_LINE, err[-3000:]
    failed = read_record(record_path(cfg.paths.results, "adhoc", key))
    assert failed["status"] == "failed" and failed["epochs"] == 1 and "SIGTERMException" in failed["error"]
    rerun = train(cfg)
    assert rerun["resumed_from"] and numbers(rerun) == numbers(reference.record)
    assert not stray_files(Path(cfg.paths.results))


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[int], bool]]:
    """``mount(size)``: (re)mount a tmpfs of ``size`` bytes at ``tmp_path/disk``; False if this process may
    not (not root, no mount). Unmounted afterwards."""
    where = tmp_path / "disk"
    where.mkdir()

    def mount(size: int) -> bool:
        options = f"remount,size={size}" if os.path.ismount(where) else f"size={size}"
        if os.geteuid() != 0 or not shutil.which("mount"):
            return False
        mounting = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)]
        return subprocess.run(mounting, capture_output=True).returncode == 0

    yield mount
    if os.path.ismount(where):
        subprocess.run(["umount", str(where)], check=True)


def test_a_full_disk_is_one_line_and_the_rerun_continues(make_cfg, tmp_path, tmpfs, data_dir, reference):
    """On a tmpfs with room for one checkpoint but not for its next save (else, where no tmpfs can be mounted,
    with ENOSPC injected at that save): one line, nothing stray, and the rerun continues from epoch 0."""
    disk = tmp_path / "disk"
    mounted = tmpfs(reference.checkpoint_bytes * 3 // 2 + 32_768)
    cfg = make_cfg(*TINY, f"paths.results={disk / 'results'}")
    ckpt = checkpoint_dir(cfg.paths.results, "adhoc", reference.record["run_key"]) / LAST
    proc = start_cli(
        "" if mounted else half_save(2, ENOSPC) + INSTALL,
        f"paths.results={cfg.paths.results}",
        f"hydra.run.dir={tmp_path / 'run'}",
        data_dir=data_dir,
    )
    err = proc.communicate(timeout=300)[1]
    assert proc.returncode == 1 and "Traceback" not in err, err[-3000:]
    assert re.fullmatch(ONE_LINE.format(path=re.escape(str(ckpt))), err.splitlines()[-1])
    assert not stray_files(disk) and not list(disk.rglob("*.json")) and not list(disk.rglob("*.txt"))
    assert load_checkpoint(ckpt)["epoch"] == 0
    if mounted:
        assert tmpfs(64 * 2**20)  # space freed
    rerun = train(cfg)
    assert rerun["resumed_from"] == str(ckpt) and numbers(rerun) == numbers(reference.record)


def test_the_projects_checkpoints_load_with_weights_only(make_cfg):
    cfg = make_cfg(
        *TINY,
        "trainer.max_epochs=3",
        "optimizer=sam",
        "checkpoint.keep=true",
        "early_stopping={monitor: train/loss, patience: 3, min_delta: 0.001}",
        "+callbacks.swa._target_=lightning.pytorch.callbacks.StochasticWeightAveraging",
        "+callbacks.swa.swa_lrs=0.1",
        "+callbacks.swa.swa_epoch_start=1",
    )
    record = train(cfg)
    ckpt = checkpoint_dir(cfg.paths.results, "adhoc", record["run_key"]) / LAST
    assert record["status"] == "ok" and torch.serialization.get_unsafe_globals_in_checkpoint(ckpt) == []
    assert set(load_checkpoint(ckpt)["callbacks"]) >= {"StochasticWeightAveraging", "RandomState"}
