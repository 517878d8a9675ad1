"""Re-key committed tables to the current run-key definition, without re-running anything.

Usage: ``python -m optfactors.run.rekey [--results results]``.

Run keys once hashed ``_target_`` import paths, so moving a module changed every key; they now hash each
target's alias (`optfactors.run.record.run_key`). The committed tables hold no records, only ``runs.csv``
with each run's flattened config, so each row's config is rebuilt from its cells, typed and shaped by the
config its choices compose today, and accepted only if it gives the row's committed key under the old
definition (`legacy_run_key`): a rebuilt config is the config the run had, or the row is refused. The new
keys then replace the old ones, as text, in every file of the results folder (tables, summaries, REPORT.md):
no number is read or written. Records and checkpoints on disk (not committed) are re-keyed from their
exact configs.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from optfactors import CONF_DIR
from optfactors.run.record import digest, read_record, run_key, stable_settings, write_json_atomic

#: The settings of the analysis stages, by experiment (`optfactors.run.lifecycle.subtrees`); a training
#: run's settings are its whole config.
ANALYSIS_ROOTS = {
    "toy": ("toy",),
    "critical_points": ("problem", "critical", "seed"),
    "saddle_escape": ("problem", "saddle", "seed"),
    "sharp_flat": ("data", "model", "seed", "sharp_flat", "source_run_keys"),
}
#: The experiments whose settings hold other experiments' run keys: re-keyed after those.
LATER = ("sharp_flat",)
#: Ambiguous cells tried both ways at most (2^12 configs a row).
MAX_AMBIGUOUS = 12
KEY = re.compile(r"\b[0-9a-f]{12}\b")
ABSENT = object()


class RekeyError(RuntimeError):
    """A committed row whose config cannot be rebuilt exactly: nothing is rewritten."""


def legacy_run_key(config: dict[str, Any]) -> str:
    """The run key as defined until the study-layout change: ``_target_`` import paths hashed whole."""
    return digest(stable_settings(config))


def _primary_groups() -> set[str]:
    """The config groups conf/config.yaml's defaults list names (others are added with ``+``)."""
    entries = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "config.yaml"))["defaults"]
    names = (next(iter(e)) if isinstance(e, dict) else e for e in entries)
    return {name.split()[-1].split("/")[-1].split("@")[0] for name in names}


@cache
def template(choices: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The resolved config the row's group choices compose today (types and shape; values may differ)."""
    primary = _primary_groups()
    overrides = [f"{'' if group in primary else '+'}{group}={choice}" for group, choice in choices]
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    OmegaConf.set_struct(cfg, False)
    cfg.pop("paths")  # interpolates Hydra's runtime; volatile anyway
    config = OmegaConf.to_container(cfg, resolve=True)
    config.pop("study", None)
    return config


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for dotted, value in flat.items():
        *parents, leaf = dotted.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def _parse(cell: str, like: Any) -> list[Any]:
    """The values a non-empty CSV cell may have stood for, the one typed like ``like`` first."""
    if cell in ("True", "False"):
        return [cell == "True"]
    if cell[:1] in "[{":
        try:
            return [json.loads(cell)]
        except json.JSONDecodeError:
            return [cell]
    try:
        number = float(cell)
    except ValueError:
        return [cell]
    if not number.is_integer():
        return [number]
    return [number, int(number)] if isinstance(like, float) else [int(number), number]


def candidates(row: dict[str, str], roots: set[str], shape: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Configs ``row`` may have come from, the likeliest first: each cell typed like ``shape``'s value at its
    path, an empty cell None where ``shape`` has the key (or an ancestor that is None) and absent elsewhere;
    cells that stay ambiguous are tried both ways."""
    known = _flatten(shape)
    nulls = {k for k, v in known.items() if v is None}
    columns = [
        c
        for c in row
        if c.split(".")[0] in roots and not any(k.startswith(c + ".") for k in row)  # a dict's builder name
    ]
    fixed: dict[str, Any] = {k: v for k, v in known.items() if v == {}}  # empty dicts have no column
    options: list[tuple[str, list[Any]]] = []
    for column in columns:
        cell, like = row[column], known.get(column)
        if cell:
            values = _parse(cell, like)
        else:
            ancestor = next((p for p in nulls if column.startswith(p + ".")), None)
            if ancestor is not None:
                fixed[ancestor] = None
                continue
            values = [None, ABSENT] if column in known else [ABSENT, None]
        if len(values) == 1:
            fixed[column] = values[0]
        else:
            options.append((column, values))
    if len(options) > MAX_AMBIGUOUS:
        options = [(c, v[:1]) for c, v in options[:-MAX_AMBIGUOUS]] + options[-MAX_AMBIGUOUS:]
    for combo in itertools.product(*(values for _, values in options)):
        flat = dict(fixed)
        flat.update({c: v for (c, _), v in zip(options, combo, strict=True) if v is not ABSENT})
        yield _unflatten(flat)


def rebuild(row: dict[str, str], experiment: str) -> dict[str, Any]:
    """The config of a committed ``row`` of ``experiment``: the candidate that gives the row's key, under the
    old definition or (a row re-keyed already) the current one."""
    choices = tuple(sorted((c[7:], v) for c, v in row.items() if c.startswith("choice.") and v))
    shape = template(choices)
    roots = set(ANALYSIS_ROOTS.get(experiment, shape))
    for config in candidates(row, roots, shape):
        if row["run_key"] in (legacy_run_key(config), run_key(config)):
            return config
    raise RekeyError(f"{experiment}: run {row['run_key']}: no config rebuilt from its row gives its key")


def table_keys(runs_csv: Path, keys: dict[str, str]) -> dict[str, str]:
    """old -> new run key of every row of a committed ``runs.csv``; source run keys in a rebuilt config are
    translated with ``keys`` (old -> new) first."""
    with runs_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    mapping: dict[str, str] = {}
    for row in rows:
        config = rebuild(row, runs_csv.parent.name)
        for regime, key in (config.get("source_run_keys") or {}).items():
            config["source_run_keys"][regime] = keys.get(key, key)
        mapping[row["run_key"]] = run_key(config)
    return mapping


def replace_keys(folder: Path, keys: dict[str, str]) -> list[Path]:
    """Replace every old key by its new one in the text files under ``folder``; return the files changed."""
    changed = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".csv", ".md", ".json") and p.is_file()):
        text = path.read_text()
        new = KEY.sub(lambda m: keys.get(m.group(0), m.group(0)), text)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def rekey_records(results: Path) -> dict[str, str]:
    """Re-key the run records and checkpoints on disk from their exact configs; return old -> new."""
    keys: dict[str, str] = {}
    records = sorted(results.glob("*/runs/*.json"), key=lambda p: p.parts[-3] in LATER)
    for path in records:
        record = read_record(path)  # an unreadable one is set aside: its run is done again anyway
        if record is None:
            continue
        config = record["config"]
        for regime, key in (config.get("source_run_keys") or {}).items():
            config["source_run_keys"][regime] = keys.get(key, key)
        new = keys[record["run_key"]] = run_key(config)
        if new == path.stem:
            continue
        write_json_atomic(path.with_name(f"{new}.json"), {**record, "run_key": new})
        path.unlink()
        for old in (path.with_suffix(".traceback.txt"), path.parents[1] / "checkpoints" / path.stem):
            if old.exists():
                old.rename(old.with_name(new + old.name[len(path.stem) :]))
    return keys


def rekey(results: str | Path) -> dict[str, str]:
    """Re-key every record and committed table under ``results``; return old -> new for the keys changed."""
    results = Path(results)
    keys = rekey_records(results)
    tables = sorted(results.glob("*/runs.csv"), key=lambda p: p.parent.name in LATER)
    for runs_csv in tables:
        keys.update(table_keys(runs_csv, keys))
    changed = {old: new for old, new in keys.items() if old != new}
    replace_keys(results, changed)
    return changed


def main(argv: list[str] | None = None) -> None:
    """Re-key a results folder and say how many keys changed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="results folder (default: results)")
    args = parser.parse_args(argv)
    changed = rekey(args.results)
    print(f"{len(changed)} run keys re-keyed under {args.results}")


if __name__ == "__main__":
    main()
