"""``make verify``'s comparison: a rerun equal to the committed tables passes; any moved number fails."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optfactors import verify
from optfactors.report.markdown import verdict_rows


def _runs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_key": ["b", "a"],
            "status": ["ok", "ok"],
            "test_acc": [0.9812, 0.9750],
            "wall_time_s": [10.0, 12.0],
            "git_commit": ["abc", "abc"],
        }
    )


def test_same_tables_in_another_row_order_and_other_timings_pass() -> None:
    rerun = _runs().iloc[::-1].assign(wall_time_s=[99.0, 1.0], git_commit="def")
    assert verify.compare_tables(_runs(), rerun, "runs.csv") is None


def test_a_moved_number_is_named_with_both_values() -> None:
    rerun = _runs()
    rerun.loc[rerun.run_key == "a", "test_acc"] = 0.9751
    drift = verify.compare_tables(_runs(), rerun, "runs.csv")
    assert drift is not None
    assert str(drift) == "runs.csv: test_acc 0.975 committed, 0.9751 rerun (run a; 1 of 2 rows differ)"
    assert verify.compare_tables(_runs(), rerun, "runs.csv", rtol=1e-3) is None


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda df: df.assign(status=["ok", "diverged"]), "status 'ok' committed, 'diverged' rerun"),
        (lambda df: df.iloc[:1], "2 rows committed, 1 rerun"),
        (lambda df: df.assign(run_key=["b", "c"]), "only committed ['a'], only rerun ['c']"),
        (lambda df: df.drop(columns="test_acc"), "columns missing in the rerun: test_acc"),
        (lambda df: df.assign(train_acc=1.0), "new columns in the rerun: train_acc"),
        (lambda df: df.assign(test_acc=[0.9812, float("nan")]), "test_acc 0.975 committed, nan rerun"),
    ],
)
def test_every_kind_of_drift_is_caught(edit, expected: str) -> None:
    drift = verify.compare_tables(_runs(), edit(_runs()), "runs.csv")
    assert drift is not None and expected in str(drift)


def test_compare_study_reads_both_tables(tmp_path: Path) -> None:
    for side in ("committed", "rerun"):
        (tmp_path / side).mkdir()
        _runs().to_csv(tmp_path / side / "runs.csv", index=False)
        pd.DataFrame({"run_key": ["a", "a"], "epoch": [1, 2], "train_loss": [0.5, 0.25]}).to_csv(
            tmp_path / side / "curves.csv", index=False
        )
    assert verify.compare_study(tmp_path / "committed", tmp_path / "rerun") is None
    (tmp_path / "rerun" / "curves.csv").write_text("run_key,epoch,train_loss\na,1,0.5\na,2,0.26\n")
    drift = verify.compare_study(tmp_path / "committed", tmp_path / "rerun")
    assert str(drift).startswith("curves.csv: train_loss 0.25 committed, 0.26 rerun")
    (tmp_path / "rerun" / "curves.csv").unlink()
    assert "wrote no table" in str(verify.compare_study(tmp_path / "committed", tmp_path / "rerun"))


def test_verify_fails_when_a_committed_number_is_edited(tmp_path: Path, monkeypatch) -> None:
    """The whole command (its rerun stood in by a copy): same, then a number edited by hand fails."""
    committed = tmp_path / "results"
    monkeypatch.setattr(verify, "rerun", _copy_of(Path("results")))
    args = ["--studies", "saddle_escape", "--results", str(committed), "--scratch", str(tmp_path / "scratch")]
    (committed / "saddle_escape").mkdir(parents=True)
    for table in ("runs.csv", "curves.csv"):
        (committed / "saddle_escape" / table).write_bytes(
            (Path("results/saddle_escape") / table).read_bytes()
        )
    assert verify.main(args) == 0
    runs = pd.read_csv(committed / "saddle_escape" / "runs.csv")
    runs.loc[0, "loss"] = runs.loc[0, "loss"] * (1 + 1e-6)
    runs.to_csv(committed / "saddle_escape" / "runs.csv", index=False)
    assert verify.main(args) == 1


def _copy_of(source: Path):
    """A stand-in for ``verify.rerun`` that 'reruns' a study by copying its tables from ``source``."""

    def rerun(study: str, scratch: Path) -> int:
        (scratch / study).mkdir(parents=True)
        for table in ("runs.csv", "curves.csv"):
            (scratch / study / table).write_bytes((source / study / table).read_bytes())
        return 0

    return rerun


def test_a_rerun_on_another_cpu_kind_is_held_to_the_committed_verdicts_and_intervals(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """Another instruction set moves float32 sums: verify then decides the study's claims on the rerun and
    requires the committed verdicts (results/verdicts.csv), each effect inside its committed interval."""
    results = tmp_path / "results"
    (results / "quickstart").mkdir(parents=True)
    runs = pd.read_csv("results/quickstart/runs.csv")
    runs.assign(device="AMD EPYC, AVX2 (2 threads)").to_csv(results / "quickstart" / "runs.csv", index=False)
    (results / "quickstart" / "curves.csv").write_bytes(Path("results/quickstart/curves.csv").read_bytes())
    verdicts = verdict_rows(results)
    monkeypatch.setattr(verify, "rerun", _copy_of(Path("results")))
    args = ["--studies", "quickstart", "--results", str(results), "--scratch", str(tmp_path / "s")]

    def check(table: pd.DataFrame) -> tuple[int, str]:
        table.to_csv(results / "verdicts.csv", index=False)
        status = verify.main(args)
        return status, capsys.readouterr().out

    status, out = check(verdicts)
    assert status == 0
    assert (
        "quickstart: same verdicts, effects within intervals (committed on AMD EPYC, AVX2 (2 threads)" in out
    )
    claim = verdicts["claim"].iloc[0]
    flipped = verdicts.assign(claim_verdict=verdicts["claim_verdict"].map({"✓": "✗", "✗": "✓", "—": "✓"}))
    status, out = check(flipped)
    assert status == 1 and f"quickstart: differs: verdicts: {claim}: " in out
    if (
        verdicts["high"].gt(verdicts["low"]).any()
    ):  # a claim decided on an interval (not an exact computation)
        shifted = verdicts.assign(low=verdicts["high"] + 1, high=verdicts["high"] + 2)
        status, out = check(shifted)
        assert status == 1 and "outside the committed interval" in out
    assert verify.other_device(Path("results/quickstart"), Path("results/quickstart")) is None
