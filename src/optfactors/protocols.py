"""The paper profiles against the papers: the tables and GPU-time estimates of docs/paper_protocols.md.

docs/paper_protocols.yaml names, per study with a published protocol, jobs of its paper sweep and rows: a
value the paper gives (with the section, table or line of the authors' code it comes from) beside a key of a
job's resolved config (``key``), a sweep parameter (``sweep``) or a quantity derived from the config
(``derived``, one of `DERIVED`). Each job is composed with Hydra (no training) and each row gets a status:
``match``, ``deviation:`` with its stated reason, ``not stated:`` with why the value was chosen, or the
study's ``pending`` note. Values that differ without a reason, or agree beside a stale one, are a
`ProtocolError`. The tables and the GPU-time estimates (optfactors.gpu_estimate) replace the blocks between
their markers in the page: ``python -m optfactors.protocols`` rewrites it; tests/test_paper_protocols.py
fails when it is not current.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.utils import instantiate
from omegaconf import OmegaConf, open_dict
from torch import nn

from optfactors import CONF_DIR
from optfactors.gpu_estimate import Assumptions, describe, makespan, run_cost
from optfactors.run.config import train_size
from optfactors.run.record import resolved_config

PROFILE = "paper"
#: GPUs of the estimate's parallel column (one run per GPU at a time).
GPUS = 8
ABSENT = "(not set)"


class ProtocolError(ValueError):
    """A protocol row that cannot be rendered as it stands."""


def load_spec(path: Path) -> dict[str, Any]:
    """docs/paper_protocols.yaml as plain containers."""
    return OmegaConf.to_container(OmegaConf.load(path))


@cache
def composed(study: str, job: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """The resolved config of a job (overrides) of ``study``'s paper profile, and the profile's sweep."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "config",
            overrides=[f"experiment={study}", f"profile={PROFILE}", *job, "paths.output=-"],
            return_hydra_config=True,
        )
    params = cfg.hydra.sweeper.get("params")
    sweep = {str(k): str(v) for k, v in (OmegaConf.to_container(params) if params else {}).items()}
    with open_dict(cfg):
        del cfg["hydra"]
    return resolved_config(cfg), sweep


def _network(config: dict[str, Any]) -> nn.Module:
    with torch.device("meta"):
        return instantiate(OmegaConf.create(config["model"]))


def _parameters(config: dict[str, Any]) -> int:
    return sum(p.numel() for p in _network(config).parameters())


#: Quantities a row may read besides config keys.
DERIVED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "training images": lambda config: train_size(config["data"]),
    "parameters": _parameters,
    "parameters (millions)": lambda config: round(_parameters(config) / 1e6, 2),
}


def value(row: dict[str, Any], config: dict[str, Any], sweep: dict[str, str]) -> Any:
    """The paper profile's value for ``row``: a dotted config key, a sweep parameter or a derived quantity."""
    if "derived" in row:
        return DERIVED[row["derived"]](config)
    if "sweep" in row:
        return sweep.get(row["sweep"], ABSENT)
    node: Any = config
    for part in row["key"].split("."):
        if not isinstance(node, dict) or part not in node:
            return ABSENT
        node = node[part]
    return node


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def status(row: dict[str, Any], composed_value: Any, pending: str | None) -> str:
    """``match``, ``deviation: ...``, ``not stated: ...`` or ``pending: ...`` for a row."""
    if pending:
        return f"pending: {pending}"
    note = row.get("note")
    if "paper" not in row:
        if not note:
            raise ProtocolError(f"{row['what']}: a value the paper does not state needs a note on the choice")
        return f"not stated: {note}"
    same = _same(row["paper"], composed_value)
    if same and "deviation" in row:
        raise ProtocolError(f"{row['what']}: the paper profile matches the paper; drop the stale deviation")
    if not same and "deviation" not in row:
        raise ProtocolError(
            f"{row['what']}: paper {row['paper']!r}, paper profile {composed_value!r}: state the deviation"
        )
    if not same:
        return f"deviation: {row['deviation']}"
    return f"match; {note}" if note else "match"


def show(item: Any, top: bool = True) -> str:
    """A value in a table cell: strings as code, integers with thousands separators (outside lists)."""
    if isinstance(item, str):
        return item if item == ABSENT or not top else f"`{item}`"
    if isinstance(item, bool) or item is None:
        return json.dumps(item) if not top else f"`{json.dumps(item)}`"
    if isinstance(item, int):
        return f"{item:,}" if top else str(item)
    if isinstance(item, float):
        return repr(item)
    if isinstance(item, list):
        return "[" + ", ".join(show(i, top=False) for i in item) + "]"
    return "{" + ", ".join(f"{k}: {show(v, top=False)}" for k, v in item.items()) + "}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _config_cell(row: dict[str, Any]) -> str:
    """Where the paper profile's value comes from: a config key, a sweep parameter or a derived quantity."""
    if "derived" in row:
        return f"*{row['derived']}*"
    return f"`{row['key']}`" if "key" in row else f"sweep `{row['sweep']}`"


def study_block(name: str, spec: dict[str, Any]) -> str:
    """The section of one study: its sources, the jobs read and the table."""
    jobs = {job: tuple(overrides) for job, overrides in spec["jobs"].items()}
    lines = [
        f"### `{name}`: {spec['title']}",
        "",
        "Sources: " + "; ".join(spec["sources"]) + ".",
        "",
        f"Composed as `experiment={name} profile={PROFILE}` plus, per job: "
        + ", ".join(f"{job} `{' '.join(o)}`" for job, o in jobs.items())
        + ".",
        "",
        "| what | job | config | paper | paper profile | status | source |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in spec["rows"]:
        job = row.get("job", next(iter(jobs)))
        config, sweep = composed(name, jobs[job])
        got = value(row, config, sweep)
        cells = [
            row["what"],
            job,
            _config_cell(row),
            show(row["paper"]) if "paper" in row else "—",
            show(got),
            status(row, got, spec.get("pending")),
            row["source"],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def sweep_jobs(sweep: dict[str, str], leave_out: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every job of a sweep (the basic sweeper's cartesian product), without the parameters ``leave_out``."""
    parsed = OverridesParser.create().parse_overrides(
        [f"{k}={v}" for k, v in sweep.items() if k not in leave_out]
    )
    axes = [
        [
            f"{o.get_key_element()}={v}"
            for v in (o.sweep_string_iterator() if o.is_sweep_override() else [o.value()])
        ]
        for o in parsed
    ]
    return list(itertools.product(*axes))


def estimate_block(spec: dict[str, Any]) -> str:
    """The GPU-time estimate of each study's paper sweep, with its assumptions (seeds cost alike: one config
    per choice of the other sweep parameters)."""
    assume = Assumptions(**spec["assumptions"])
    lines = [
        f"Assumed: {assume.gpu}, {assume.peak_tflops} TFLOP/s peak at {assume.utilisation:.0%} utilisation, "
        f"{assume.batch_overhead_ms} ms per batch; {assume.unbounded_epochs} epochs for a run that only its "
        f"stopping rule ends; a Hessian-vector product costs {assume.hvp_gradients:g} gradients.",
        "",
        f"| study | runs | per run | all runs, 1 GPU | {GPUS} GPUs, one run each | FLOPs |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for study in spec["studies"]:
        sweep = composed(study, ())[1]
        seeds = len(sweep_jobs({"seed": sweep["seed"]}))
        costs = [run_cost(composed(study, job)[0], assume) for job in sweep_jobs(sweep, ("seed",))] * seeds
        hours = [cost.hours(assume) for cost in costs]
        flops = sum(cost.flops for cost in costs)
        lines.append(
            f"| `{study}` | {len(hours)} | {describe(min(hours))} to {describe(max(hours))} | "
            f"{describe(sum(hours))} | {describe(makespan(hours, GPUS))} | {flops / 1e15:,.0f} PFLOP |"
        )
    return "\n".join(lines)


def _replace_block(page: str, marker: str, content: str) -> str:
    pattern = re.compile(rf"(<!-- {re.escape(marker)} -->\n).*?(<!-- /{re.escape(marker)} -->)", re.DOTALL)
    if not pattern.search(page):
        raise ProtocolError(f"the page has no <!-- {marker} --> ... <!-- /{marker} --> block")
    return pattern.sub(lambda m: m.group(1) + content + "\n" + m.group(2), page)


def render(spec: dict[str, Any], page: str) -> str:
    """``page`` with every study's table and the GPU-time estimates as the configs compose today."""
    for name, study in spec["studies"].items():
        page = _replace_block(page, f"protocol: {name}", study_block(name, study))
    return _replace_block(page, "gpu-estimate", estimate_block(spec["gpu_estimate"]))


def main(argv: list[str] | None = None) -> None:
    """Rewrite docs/paper_protocols.md's tables from docs/paper_protocols.yaml and the paper profiles."""
    parser = argparse.ArgumentParser(prog="python -m optfactors.protocols", description=main.__doc__)
    parser.add_argument("--docs", type=Path, default=Path("docs"), help="the folder with both files")
    docs = parser.parse_args(argv).docs
    page = docs / "paper_protocols.md"
    page.write_text(render(load_spec(docs / "paper_protocols.yaml"), page.read_text()))


if __name__ == "__main__":
    main()
