"""Study manifests: what each ``experiments/<name>.yaml`` declares about itself under ``study:``.

The one place that lists studies: the Makefile, collect, the report, verify, dashboards and tests ask this
module. A manifest holds

    study:
      kind: study          # study | search (a log of settings tried, not rerun by `make reproduce`)
                           # | budget (trains a study's setting longer; needs `extends`)
      title: ...           # what the study shows, one line
      extends: optimizers  # budget only: whose tables its claims, tables and figures read as well
      verify: true         # `make verify` reruns it (short quick profiles only)
      headline: true       # part of the headline (batch-size) study `make sweep` runs when EXP is not given
      dashboard: {...}     # optional W&B dashboard: description and panel grids (optfactors.dashboards)

The ``study`` node is part of the composed Hydra config, but never of a run's settings or key
(`optfactors.run.record.resolved_config`).

Usage: ``python -m optfactors.manifest [--kind K ...] [--verify] [--headline]`` prints the names, one a line.
"""

from __future__ import annotations

import argparse
import difflib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from optfactors import CONF_DIR

#: experiments/, linked into the config tree as the `experiment` group.
EXPERIMENTS_DIR = CONF_DIR / "experiment"
KINDS = ("study", "search", "budget")
FIELDS = ("kind", "title", "extends", "verify", "headline", "dashboard")


class ManifestError(ValueError):
    """A study manifest that is missing, malformed or names an unknown study."""


@dataclass(frozen=True)
class Study:
    """One experiment's manifest."""

    name: str
    kind: str
    title: str
    extends: str | None = None
    verify: bool = False
    headline: bool = False
    dashboard: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def reads(self) -> tuple[str, ...]:
        """The experiments whose tables this study's claims, summary tables and figures read."""
        return (self.name,) if self.extends is None else (self.name, self.extends)


def _read(path: Path) -> Study:
    manifest = (yaml.safe_load(path.read_text()) or {}).get("study")
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path}: no `study:` manifest (kind, title; see optfactors.manifest)")
    unknown = sorted(set(manifest) - set(FIELDS))
    if unknown:
        raise ManifestError(f"{path}: study.{unknown[0]}: unknown field; the fields are {', '.join(FIELDS)}")
    study = Study(path.stem, **manifest)
    if study.kind not in KINDS:
        raise ManifestError(f"{path}: study.kind={study.kind!r}: one of {', '.join(KINDS)}")
    if (study.kind == "budget") != (study.extends is not None):
        raise ManifestError(f"{path}: study.extends is set for, and only for, kind: budget")
    return study


@cache
def manifests(folder: Path = EXPERIMENTS_DIR) -> dict[str, Study]:
    """Every study's manifest by name, in name order; an `extends` naming no study is a ManifestError."""
    found = {p.stem: _read(p) for p in sorted(folder.glob("*.yaml"))}
    for study in found.values():
        if study.extends is not None and study.extends not in found:
            raise ManifestError(f"{study.name}: study.extends={study.extends!r}: no such study")
    return found


def studies(
    kinds: tuple[str, ...] = KINDS, verify: bool | None = None, headline: bool | None = None
) -> list[Study]:
    """The manifests of those ``kinds`` with those ``verify`` and ``headline`` flags (None: either)."""
    return [
        s
        for s in manifests().values()
        if s.kind in kinds and verify in (None, s.verify) and headline in (None, s.headline)
    ]


def study(name: str) -> Study:
    """The manifest of ``name``; an unknown name is a ManifestError that suggests the closest ones."""
    found = manifests()
    if name not in found:
        close = difflib.get_close_matches(name, found, n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise ManifestError(f"no study {name!r}: {hint}the studies are {', '.join(found)}")
    return found[name]


def main(argv: list[str] | None = None) -> None:
    """Print the names of the studies asked for, one a line."""
    parser = argparse.ArgumentParser(description="List the studies of experiments/ by their manifests.")
    parser.add_argument(
        "--kind", choices=KINDS, action="append", help="only studies of this kind (repeatable)"
    )
    parser.add_argument("--verify", action="store_true", help="only the studies `make verify` reruns")
    parser.add_argument("--headline", action="store_true", help="only the headline study's experiments")
    args = parser.parse_args(argv)
    chosen = studies(tuple(args.kind or KINDS), args.verify or None, args.headline or None)
    print("\n".join(s.name for s in chosen))


if __name__ == "__main__":
    main()
