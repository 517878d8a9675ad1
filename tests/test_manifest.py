"""Study manifests: every experiment declares what it is, one module reads them, and no other list of
studies is kept anywhere in the code or the Makefile."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from optfactors.manifest import EXPERIMENTS_DIR, ManifestError, manifests, studies, study

ROOT = Path(__file__).resolve().parents[1]


def test_every_experiment_declares_a_valid_manifest():
    found = manifests()
    assert set(found) == {p.stem for p in EXPERIMENTS_DIR.glob("*.yaml")}
    assert {s.name for s in studies(("search",))} == {"keskar_gap_search"}
    assert {s.name: s.extends for s in studies(("budget",))} == {
        "optimizers_budget": "optimizers",
        "depth_budget": "depth",
    }
    assert study("depth_budget").reads == ("depth_budget", "depth")
    assert all(s.title for s in found.values())


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("experiment_name: x\n", "no `study:` manifest"),
        ("study: {kind: study, title: t, verfy: true}\n", "study.verfy: unknown field"),
        ("study: {kind: sweep, title: t}\n", "study.kind='sweep'"),
        ("study: {kind: budget, title: t}\n", "study.extends is set for, and only for, kind: budget"),
        ("study: {kind: budget, title: t, extends: nowhere}\n", "study.extends='nowhere': no such study"),
    ],
)
def test_a_bad_manifest_is_refused_with_the_field_it_gets_wrong(tmp_path, manifest, message):
    (tmp_path / "mine.yaml").write_text(manifest)
    with pytest.raises(ManifestError, match=re.escape(message)):
        manifests(tmp_path)


def test_an_unknown_study_suggests_the_closest_names():
    with pytest.raises(ManifestError, match="did you mean keskar_gap"):
        study("keskar")


def test_make_reproduce_runs_every_study_but_the_searches():
    listed = subprocess.run(
        [sys.executable, "-m", "optfactors.manifest", "--kind", "study", "--kind", "budget"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(listed) == set(manifests()) - {"keskar_gap_search"}
    assert "$(MANIFEST) --kind study --kind budget" in (ROOT / "Makefile").read_text()


def test_the_manifest_is_never_part_of_a_run(make_cfg):
    from optfactors.stages.train import train

    cfg = make_cfg("experiment=batch_timing")
    assert cfg.study.kind == "study" and "dashboard" in cfg.study
    assert "study" not in train.settings(cfg)


def test_no_hand_kept_list_of_studies_remains():
    """No line of the code or the Makefile names three studies or more: lists of studies come from the
    manifests (a study's own package may name the studies it reads)."""
    names = set(manifests())
    files = [ROOT / "Makefile", *sorted((ROOT / "src" / "optfactors").rglob("*.py"))]
    offenders = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            named = {w for w in re.findall(r"[a-z_]+", line) if w in names}
            if len(named) >= 3:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {sorted(named)}")
    assert not offenders, "\n".join(offenders)


def test_every_study_has_a_package_with_a_claim_or_a_figure_and_every_package_a_study(tmp_path, monkeypatch):
    from optfactors import studies
    from optfactors.report.claims import CLAIMS
    from optfactors.report.figures import FIGURES

    assert studies.packages() == sorted(manifests())
    shown = {c.experiment for c in CLAIMS.values()} | {f.experiment for f in FIGURES.values()}
    assert shown == set(manifests())
    (tmp_path / "nowhere").mkdir()
    (tmp_path / "nowhere" / "__init__.py").write_text("")
    monkeypatch.setattr(studies, "__path__", [*studies.__path__, str(tmp_path)])
    with pytest.raises(ManifestError, match="optfactors.studies.nowhere names no experiment"):
        studies.packages()
