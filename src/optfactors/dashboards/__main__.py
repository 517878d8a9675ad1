"""``python -m optfactors.dashboards [--profile P] [--out DIR]`` (``make dashboard``): per registered study, a
W&B report of the lecture's figures from its runs. Logged in, it saves them to the W&B project (the
library's ``Report.save()``) and prints their URLs; offline or without a key it says so in one line and
writes the specs to DIR (``results/dashboards``) as JSON instead."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from optfactors.dashboards.build import report
from optfactors.dashboards.spec import Spec, dashboard_specs
from optfactors.run.wandb_target import wandb_project


def write_specs(specs: dict[str, Spec], out_dir: Path) -> list[Path]:
    """Write ``<out_dir>/<study>.json`` for every spec (stable order and format, so committed files only
    change when the registry does); remove the specs of studies no longer registered."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in set(out_dir.glob("*.json")) - {out_dir / f"{study}.json" for study in specs}:
        stale.unlink()
    paths = []
    for study, spec in specs.items():
        path = out_dir / f"{study}.json"
        path.write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def save_reports(specs: dict[str, Spec], entity: str | None) -> list[str]:
    """Save every spec as a W&B report (online) and return the reports' URLs."""
    import wandb

    entity = entity or wandb.Api().default_entity
    urls = []
    for spec in specs.values():
        saved = report(spec, entity)
        saved.save()
        urls.append(saved.url)
    return urls


def main(argv: list[str] | None = None) -> None:
    """Save the dashboards when logged in, else write their specs; exit 1 if saving failed."""
    parser = argparse.ArgumentParser(description="Per study, a W&B report of the lecture's figures.")
    parser.add_argument("--profile", default="quick", help="the profile whose runs to show (default: quick)")
    parser.add_argument("--out", default="results/dashboards", help="where specs go offline")
    args = parser.parse_args(argv)
    project, entity, mode = wandb_project()
    specs = dashboard_specs(project, args.profile)
    for spec in specs.values():
        report(spec, entity or "")  # checks every panel against the library, online or not
    if mode == "online":
        try:
            for url in save_reports(specs, entity):
                print(url)
            return
        except Exception as err:
            print(f"W&B: could not save the dashboards ({type(err).__name__}: {err})", file=sys.stderr)
            write_specs(specs, Path(args.out))
            sys.exit(1)
    paths = write_specs(specs, Path(args.out))
    print(
        f"W&B is {mode} (not logged in, or WANDB_MODE set): wrote {len(paths)} dashboard specs to "
        f"{args.out}/ instead; `wandb login`, then `make dashboard` saves them as reports"
    )


if __name__ == "__main__":
    main()
