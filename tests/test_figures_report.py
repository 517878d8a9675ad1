"""Figures, colours, claims and REPORT.md, on small synthetic tables (no training, no real results)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optfactors.report.claims import CLAIMS, Claim, ClaimResult
from optfactors.report.figures import FIGURES, FigureSpec, draw_all
from optfactors.report.load import load_tables
from optfactors.report.markdown import provenance_line, search_provenance_line, write_report
from optfactors.report.style import FALLBACK_COLOR, OPTIMIZER_COLORS, batch_size_color, optimizer_color

CLAIM = CLAIMS["quickstart_small_batch_better"].fn
FIGURE = FIGURES["quickstart_batch_size"].fn


def tables(
    test_acc: dict[int, list[float]], statuses: dict[tuple[int, int], str] | None = None, epochs: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables of a batch-size study: ``test_acc[batch][seed]``; ``statuses[(batch, seed)]`` overrides ok."""
    statuses = statuses or {}
    runs, curves = [], []
    for batch, accs in test_acc.items():
        for seed, acc in enumerate(accs):
            key = f"b{batch}s{seed}"
            runs.append(
                {
                    "run_key": key,
                    "experiment": "quickstart",
                    "status": statuses.get((batch, seed), "ok"),
                    "data.batch_size": batch,
                    "seed": seed,
                    "test_acc": acc,
                    "train_eval_acc": acc + 0.01,
                    "updates": epochs * 60000 // batch,
                    "time_per_epoch_s": 1.5,
                    "trainer.max_epochs": epochs,
                    "choice.data": "mnist",
                    "choice.model": "mlp",
                    "choice.optimizer": "sgd",
                }
            )
            curves += [
                {
                    "run_key": key,
                    "epoch": e,
                    "updates": (e + 1) * 60000 // batch,
                    "val_acc": acc * (e + 1) / epochs,
                    "train_acc": acc,
                }
                for e in range(epochs)
            ]
    return pd.DataFrame(runs), pd.DataFrame(curves)


def write_tables(results_dir: Path, experiment: str, runs: pd.DataFrame, curves: pd.DataFrame) -> None:
    (results_dir / experiment).mkdir(parents=True)
    runs.to_csv(results_dir / experiment / "runs.csv", index=False)
    curves.to_csv(results_dir / experiment / "curves.csv", index=False)


SMALL_BETTER = {32: [0.980, 0.978], 4096: [0.910, 0.915]}
SMALL_WORSE = {32: [0.900, 0.905], 4096: [0.950, 0.948]}


def test_draw_all_writes_png_and_pdf_and_skips_experiments_without_tables(tmp_path, monkeypatch, capsys):
    write_tables(tmp_path, "quickstart", *tables(SMALL_BETTER))
    monkeypatch.setitem(FIGURES, "not_run_figure", FigureSpec("not_run_figure", "not_run", FIGURE))
    written = draw_all(tmp_path)
    figures = tmp_path / "figures"
    assert set(written) == {figures / "quickstart_batch_size.png", figures / "quickstart_batch_size.pdf"}
    assert (figures / "quickstart_batch_size.png").read_bytes().startswith(b"\x89PNG")
    assert (figures / "quickstart_batch_size.pdf").read_bytes().startswith(b"%PDF")
    assert not list(figures.glob("not_run_figure.*"))
    assert "skip not_run_figure" in capsys.readouterr().out


def test_figure_title_comes_from_the_data():
    fig = FIGURE(*tables(SMALL_BETTER))
    title = "Same 3 epochs: batch 32 beats batch 4,096 on test accuracy (MNIST, MLP, SGD)"
    assert fig._suptitle.get_text() == title
    fig = FIGURE(*tables(SMALL_WORSE))
    assert "batch 32 does not beat batch 4,096" in fig._suptitle.get_text()


def test_figure_excludes_non_ok_runs_and_says_so():
    runs, curves = tables(
        {32: [0.98, 0.98, 0.10], 4096: [0.91, 0.91, 0.91]}, {(32, 2): "diverged", (4096, 2): "failed"}
    )
    fig = FIGURE(runs, curves)
    bar_labels = {t.get_text() for t in fig.axes[1].texts}
    assert {"98.0", "91.0"} <= bar_labels  # test-accuracy means without the diverged run's 10 %
    footnote = " ".join(t.get_text() for t in fig.texts)
    assert "1 diverged" in footnote and "1 failed" in footnote


def test_figure_without_ok_runs_still_draws(tmp_path):
    runs, _ = tables(SMALL_BETTER, {(b, s): "failed" for b in SMALL_BETTER for s in (0, 1)})
    (tmp_path / "quickstart").mkdir()
    runs.to_csv(tmp_path / "quickstart" / "runs.csv", index=False)
    pd.DataFrame().to_csv(tmp_path / "quickstart" / "curves.csv", index=False)  # what collect writes: no rows
    loaded = load_tables(tmp_path, "quickstart")
    assert loaded is not None and loaded[1].empty
    assert "4 failed" in " ".join(t.get_text() for t in FIGURE(*loaded).texts)


def test_batch_size_colors_are_stable_and_distinct():
    sizes = [2**k for k in range(17)] + [100, 250, 500, 1000]
    colors = [batch_size_color(b) for b in sizes]
    assert colors == [batch_size_color(b) for b in sizes]
    assert len(set(colors)) == len(sizes)
    with pytest.raises(ValueError):
        batch_size_color(0)


def test_optimizer_colors_are_fixed_and_distinct():
    names = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
    colors = [optimizer_color(n) for n in names]
    assert len(set(colors)) == len(names) and FALLBACK_COLOR not in colors
    assert colors == [OPTIMIZER_COLORS[n] for n in names]
    assert optimizer_color("Adam") == optimizer_color("adam")
    assert optimizer_color("lion") == FALLBACK_COLOR


def test_claim_reproduced_when_small_batch_is_clearly_better():
    result = CLAIM(*tables(SMALL_BETTER))
    assert result.reproduced is True
    assert "97.90" in result.measured and "91.25" in result.measured and "+6.65 points" in result.measured
    assert "Welch t-interval" in result.detail
    (effect,) = result.effects
    assert effect.decision.ns == (2, 2) and effect.decision.low > 0 and effect.decision.method == "Welch t"


def test_claim_contradicted_when_small_batch_is_worse_undecided_within_noise():
    assert CLAIM(*tables(SMALL_WORSE)).reproduced is False
    within = CLAIM(*tables({32: [0.95, 0.97], 4096: [0.94, 0.96]}))  # 1 point, seeds 1.4 points apart
    assert within.reproduced is None and within.effects[0].decision.low < 0 < within.effects[0].decision.high


def test_claim_undecided_with_one_batch_size():
    assert CLAIM(*tables({32: [0.98, 0.97]})).reproduced is None
    only_one_ok = tables(SMALL_BETTER, {(4096, 0): "diverged", (4096, 1): "failed"})
    assert CLAIM(*only_one_ok).reproduced is None


def test_claim_excludes_non_ok_runs():
    runs, curves = tables({32: [0.98, 0.98, 0.10], 4096: [0.91, 0.91]}, {(32, 2): "diverged"})
    result = CLAIM(runs, curves)
    assert result.reproduced is True and "98.00 ± 0.00 % (n=2)" in result.measured


def test_report_marks_claims_links_figures_and_lists_experiments_not_run(tmp_path, monkeypatch):
    write_tables(tmp_path, "quickstart", *tables(SMALL_BETTER))
    draw_all(tmp_path)
    monkeypatch.setitem(
        CLAIMS,
        "later_claim",
        Claim("later", "later_claim", "Something.", lambda r, c: ClaimResult("-", None)),
    )
    text = write_report(tmp_path).read_text()
    assert "| `quickstart_small_batch_better` |" in text and "| ✓ |" in text
    assert "`make sweep EXP=quickstart`" in text
    assert "](figures/quickstart_batch_size.png)" in text
    assert "## later\n\nNot run yet: `make sweep EXP=later`" in text


def test_report_marks_a_claim_not_reproduced(tmp_path):
    write_tables(tmp_path, "quickstart", *tables(SMALL_WORSE))
    text = write_report(tmp_path).read_text()
    assert "| ✗ |" in text and "](figures/" not in text  # figures not drawn: not linked


def _provenance_runs(commits: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "git_commit": commits,
            "device": "AMD EPYC (2 threads)",
            "torch_version": "2.14.1",
            "finished_at": [f"2026-12-0{1 + i % 2}T10:00:00+00:00" for i in range(len(commits))],
        }
    )


def test_the_report_names_each_studys_commit_and_flags_mixed_or_dirty_code() -> None:
    clean = "a" * 40
    assert provenance_line(_provenance_runs([clean, clean])) == (
        "Provenance: commit `aaaaaaa` · AMD EPYC (2 threads) · torch 2.14.1 · 2026-12-01 to 2026-12-02."
    )
    assert provenance_line(_provenance_runs([clean])).endswith("torch 2.14.1 · 2026-12-01.")
    dirty = provenance_line(_provenance_runs([clean + "-dirty"]))
    assert dirty.startswith("Provenance: ⚠ commit `aaaaaaa` with uncommitted changes")
    mixed = provenance_line(_provenance_runs([clean, "b" * 40 + "-dirty", clean]))
    assert mixed.startswith("Provenance: ⚠ mixes 2 commits (aaaaaaa, bbbbbbb-dirty)")
    old = provenance_line(pd.DataFrame({"git_commit": [clean]}))
    assert old == (
        "Provenance: commit `aaaaaaa` · machine not recorded · torch version not recorded · "
        "date not recorded."
    )


def test_a_search_log_keeps_its_rounds_commits_without_a_warning() -> None:
    line = search_provenance_line(_provenance_runs(["a" * 40, "b" * 40 + "-dirty", "a" * 40]))
    assert line == (
        "Provenance: a search log, not regenerated by `make reproduce`: each row keeps the commit its round "
        "ran at (2: aaaaaaa, bbbbbbb-dirty) · AMD EPYC (2 threads)."
    )
