"""W&B, read back from the ``.wandb`` files of real offline runs: a run's timing and outcome in its summary
and history, each study's report run (tables, figures, claims), and the dashboards, whose every panel reads
a key that real runs of its study log."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from optfactors.dashboards import __main__ as dashboards_cli
from optfactors.dashboards.build import report
from optfactors.dashboards.spec import dashboard_specs, spec_keys
from optfactors.dashboards.wandb_report import log_reports
from optfactors.report.claims import CLAIMS
from optfactors.report.figures import FIGURES
from optfactors.stages.train import train

ROOT = Path(__file__).resolve().parents[1]
WANDB = shutil.which("wandb", path=str(Path(sys.executable).parent))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """W&B offline, as for a user who is not logged in."""
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def read_run(run_dir: Path) -> dict[str, Any]:
    """What an offline run's ``.wandb`` file holds, by W&B's own reader (``wandb leet inspect --json``): its
    run fields, flattened config, final summary (nulls included) and history rows."""
    command = [WANDB, "leet", "inspect", "--json", str(run_dir)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout
    run: dict[str, Any] = {"config": {}, "summary": {}, "history": []}
    for record in map(json.loads, out.splitlines()):
        if record["type"] == "run":
            run.update({k: v for k, v in record["run"].items() if k != "config"})
            run["config"].update(_flatten(record["run"]["config"]["update"]))
        elif record["type"] == "summary":
            run["summary"].update(_flatten(record["summary"].get("update", {})))
        elif record["type"] == "history":
            run["history"].append(_flatten(record["history"]["item"]))
    return run


def logged(run: dict[str, Any], key: str) -> bool:
    """Whether a dashboard key (``config.``, ``summary.`` or ``history.`` + name) is in ``run``; a nested
    value (an image, a table) counts by its prefix."""
    section, name = key.split(".", 1)
    names = run[section].keys() if section != "history" else {k for row in run["history"] for k in row}
    return any(k == name or k.startswith(f"{name}.") for k in names)


def offline_runs(folder: Path) -> list[dict[str, Any]]:
    return [read_run(d) for d in sorted(folder.rglob("offline-run-*")) if list(d.glob("*.wandb"))]


def test_an_offline_runs_summary_holds_its_timing_and_outcome(make_cfg, offline, tmp_path):
    tiny = ("data.subset=512", "data.val_size=0", "logger=wandb")
    ok = train(make_cfg(*tiny, "trainer.max_epochs=2"))
    diverged = train(make_cfg(*tiny, "optimizer.lr=1e6", f"paths.output={tmp_path / 'diverged'}"))
    runs = {run["display_name"]: run for run in offline_runs(tmp_path)}
    run, summary = runs[ok["run_key"]], runs[ok["run_key"]]["summary"]
    assert summary["time/per_update_s"] == ok["time_per_update_s"] > 0
    assert summary["time/epoch_s"] == statistics.median(ok["time_per_epoch_s"])
    assert summary["time/wall_s"] == ok["wall_time_s"] and summary["updates"] == ok["updates"] == 8
    assert summary["epochs"] == 2 and summary["status"] == "ok" and summary["stop_reason"] == "cap"
    assert "diverged_at" in summary and summary["diverged_at"] is None and summary["error"] is None
    epochs = [row for row in run["history"] if "time/epoch_s" in row]  # one row per epoch
    assert [row["time/epoch_s"] for row in epochs] == ok["time_per_epoch_s"]
    assert [row["updates"] for row in epochs] == [4, 8]
    assert all(0 < row["time/per_update_s"] < row["time/epoch_s"] < row["time/wall_s"] for row in epochs)
    assert run["config"]["method.optimizer"] == "sgd" and run["config"]["data.batch_size"] == 128

    bad = runs[diverged["run_key"]]["summary"]
    assert bad["status"] == "diverged" and bad["error"] == diverged["error"]
    assert (bad["diverged_at.epoch"], bad["diverged_at.update"]) == (0, diverged["diverged_at"]["update"])


def _committed(study: str, results: Path) -> bool:
    """Copy the committed tables and figures of ``study`` into ``results``; False if there are none."""
    source = ROOT / "results" / study
    if not (source / "runs.csv").is_file():
        return False
    shutil.copytree(source, results / study, ignore=shutil.ignore_patterns("runs", "checkpoints"))
    (results / "figures").mkdir(parents=True, exist_ok=True)
    for name, spec in FIGURES.items():
        png = ROOT / "results" / "figures" / f"{name}.png"
        if spec.experiment == study and png.is_file():
            shutil.copy(png, results / "figures")
    return True


def test_report_runs_log_each_studys_tables_figures_and_claims_offline(offline, tmp_path, capsys):
    specs = dashboard_specs("optfactors", "quick")
    studies = [s for s in specs if _committed(s, tmp_path)]
    if not studies:
        pytest.skip("no committed results of the dashboard studies: run `make sweep` first")
    lines = log_reports(tmp_path)
    assert len(lines) == len(studies) and all("(offline): " in line for line in lines), lines
    runs = {run["run_group"]: run for run in offline_runs(tmp_path / "wandb")}
    assert set(runs) == set(studies)
    for study in studies:
        run = runs[study]
        assert run["job_type"] == "report" and run["run_id"] == f"report-{study}-quick"
        assert run["tags"] == ["report", "quick"]
        missing = [key for key in spec_keys(specs[study], "report") if not logged(run, key)]
        assert not missing, f"{study}: the dashboard's report grid reads keys its report run lacks: {missing}"
        claims = [c.claim_id for c in CLAIMS.values() if c.experiment == study]
        assert all(run["summary"][f"claims/{c}"] in (True, False, None) for c in claims)


def test_a_failing_or_disabled_wandb_never_fails_the_report(offline, tmp_path, monkeypatch):
    if not all(_committed(study, tmp_path) for study in ("batch_timing", "batch_accuracy")):
        pytest.skip("no committed results of the batch-size study: run `make sweep` first")
    import wandb

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("no W&B today")

    monkeypatch.setattr(wandb, "init", broken)
    failed = "not logged: RuntimeError: no W&B today"
    offline_lines = log_reports(tmp_path)  # offline, every study is tried
    assert len(offline_lines) == 2 and all(line.endswith(failed) for line in offline_lines)
    monkeypatch.setenv("WANDB_MODE", "online")  # online, the first failure stops the others' timeouts
    first, rest = log_reports(tmp_path)
    assert first.endswith(failed) and rest == "W&B report runs of the 1 other studies not tried"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert log_reports(tmp_path) == ["W&B is disabled (WANDB_MODE=disabled): no report runs logged"]


#: A tiny real run of each training study (keskar_gap's come from sharp_flat's sources, below).
TINY = {
    "batch_timing": ["experiment=batch_timing", "setting=mnist_mlp", "data.subset=512"],
    "batch_accuracy": [
        "experiment=batch_accuracy",
        "setting=mnist_mlp",
        "sizes.mnist.subset=512",
        "sizes.mnist.val_size=128",
        "sizes.mnist.max_epochs=1",
        "data.batch_size=128",
    ],
    "optimizers": [
        "experiment=optimizers",
        "setting=mnist_mlp",
        "optimizer=momentum",
        "scheduler=cosine",
        "sizes.mnist.subset=512",
        "sizes.mnist.val_size=128",
        "sizes.mnist.max_epochs=1",
        "sizes.mnist.test_batches=1",
    ],
}
#: sharp_flat on keskar_gap source runs shrunk further than in test_sharp_flat: one epoch, one ε, no adaptive
#: (and the same narrow F1, 5 x 32).
SHARP_FLAT = [
    "experiment=sharp_flat",
    "setting=mnist_f1",
    "seed=0",
    "logger=wandb",
    'sharp_flat.source.overrides=["model.width=32","sizes.mnist.subset=200","sizes.mnist.val_size=0",'
    '"sizes.mnist.max_epochs=1","sizes.mnist.sb=20","sizes.mnist.lb=100","trainer.limit_test_batches=1"]',
    "sizes.mnist.train=100",
    "sizes.mnist.test=100",
    "sizes.mnist.lanczos_iter=3",
    "sizes.mnist.trace_samples=1",
    "sizes.mnist.directions=1",
    "sizes.mnist.plane_points=3",
    "sharp_flat.sharpness.epsilons=[1.0e-3]",
    "sharp_flat.sharpness.subspace_dim=2",
    "sharp_flat.sharpness.max_iter=1",
    "sharp_flat.sharpness.adaptive=false",
    "sharp_flat.interpolation.alphas=[0.0,1.0,2]",
    "sharp_flat.perturbation.radii=[0.0,1.0,2]",
]


def test_every_dashboard_panel_reads_keys_that_real_offline_runs_of_its_study_log(
    make_cfg, cli, offline, tmp_path
):
    for study, overrides in TINY.items():
        train(make_cfg(*overrides, "logger=wandb", f"paths.output={tmp_path / study}"))
    paths = [f"paths.results={tmp_path / 'results'}", f"hydra.run.dir={tmp_path / 'sharp_flat'}"]
    done = cli(*SHARP_FLAT, *paths, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    runs: dict[str, list[dict[str, Any]]] = {}
    for run in offline_runs(tmp_path):
        runs.setdefault(run["run_group"], []).append(run)
    specs = dashboard_specs("optfactors", "quick")
    assert set(specs) <= set(runs) and len(runs["keskar_gap"]) == 2  # its SB and LB source runs
    for study, spec in specs.items():
        for run in runs[study]:
            assert "quick" in run["tags"]
            missing = [key for key in spec_keys(spec, "study") if not logged(run, key)]
            assert not missing, f"{study}: its dashboard reads keys its runs do not log: {missing}"


def test_make_dashboard_offline_writes_the_committed_specs_in_one_line(offline, tmp_path, capsys):
    out = tmp_path / "dashboards"
    out.mkdir()
    (out / "gone.json").write_text("{}")  # a study no longer registered
    dashboards_cli.main(["--out", str(out)])
    lines = capsys.readouterr().out.splitlines()
    specs = dashboard_specs("optfactors", "quick")
    assert len(lines) == 1 and f"wrote {len(specs)} dashboard specs" in lines[0]
    assert lines[0].startswith("W&B is offline (not logged in")
    written = {p.name: p.read_text() for p in sorted(out.glob("*.json"))}
    assert list(written) == sorted(f"{s}.json" for s in specs)
    committed = {p.name: p.read_text() for p in sorted((ROOT / "results" / "dashboards").glob("*.json"))}
    assert written == committed, "results/dashboards/ is stale: run `make dashboard` offline and commit it"
    for spec in specs.values():  # every panel converts to what Report.save() uploads, with no network
        assert report(spec, "")._to_model().display_name == spec["title"]
