"""Figure registry: every figure is a function of a study's tables, drawn in the shared style.

A study's ``figures.py`` (``optfactors.studies.<study>.figures``, found by discovery) registers its functions
with :func:`register_figure`; :func:`draw_all` draws each one whose study has tables under the results
directory into ``<results>/figures/<name>.png|pdf``. Figure functions build a ``matplotlib.figure.Figure``
directly (no pyplot), so they need no backend.

Usage: ``python -m optfactors.report.figures [--results DIR]`` (``make figures``): every summary table, then
every figure.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.load import study_tables
from optfactors.report.style import use_style
from optfactors.report.tables import write_tables
from optfactors.run.atomic import atomic_path
from optfactors.studies import discover, study_of

FigureFn = Callable[[pd.DataFrame, pd.DataFrame], Figure]

#: Output formats with their save metadata: no creation date in PDFs, so redrawing unchanged tables
#: leaves the committed files unchanged.
FORMATS = {"png": None, "pdf": {"CreationDate": None}}


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: its file name, the experiment whose tables it reads, and its function."""

    name: str
    experiment: str
    fn: FigureFn


#: Every registered figure by name, in registration order.
FIGURES: dict[str, FigureSpec] = {}


def register_figure(name: str) -> Callable[[FigureFn], FigureFn]:
    """Decorator registering ``fn(runs, curves) -> Figure`` as figure ``name`` of the study whose package
    defines it."""

    def decorator(fn: FigureFn) -> FigureFn:
        if name in FIGURES:
            raise ValueError(f"figure {name!r} is already registered")
        FIGURES[name] = FigureSpec(name, study_of(fn.__module__), fn)
        return fn

    return decorator


def draw_all(results_dir: str | Path) -> list[Path]:
    """Draw every registered figure whose experiment has tables; return the files written."""
    out_dir = Path(results_dir) / "figures"
    written: list[Path] = []
    for spec in FIGURES.values():
        tables = study_tables(results_dir, spec.experiment)
        if tables is None:
            print(
                f"skip {spec.name}: no tables for experiment {spec.experiment!r} in {results_dir} "
                f"(make sweep EXP={spec.experiment})"
            )
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        with use_style():
            fig = spec.fn(*tables)  # a bare Figure, not registered with pyplot: freed when dropped
            for fmt, metadata in FORMATS.items():
                path = out_dir / f"{spec.name}.{fmt}"
                with atomic_path(path) as tmp:
                    fig.savefig(tmp, dpi=150, metadata=metadata)
                written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Write every registered summary table, draw every registered figure, print the files written."""
    parser = argparse.ArgumentParser(description="Draw every registered figure whose study has tables.")
    parser.add_argument("--results", default="results", help="results directory (default: results)")
    args = parser.parse_args(argv)
    written = draw_all(args.results) + write_tables(args.results)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"no figures drawn: no study tables under {args.results}")


discover("figures")  # every study's figures.py registers its figures

if __name__ == "__main__":
    from optfactors.report.figures import main as run  # the registry's module, not this __main__ copy

    run()
