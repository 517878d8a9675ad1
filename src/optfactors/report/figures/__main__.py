"""``python -m optfactors.report.figures [--results DIR]``: draw every figure whose tables exist."""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")

from optfactors.report.figures import draw_all, write_tables  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Draw all registered figures, write all registered tables, and print the files written."""
    parser = argparse.ArgumentParser(description="Draw every registered figure whose experiment has tables.")
    parser.add_argument("--results", default="results", help="results directory (default: results)")
    args = parser.parse_args(argv)
    written = draw_all(args.results) + write_tables(args.results)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"no figures drawn: no experiment tables under {args.results}")


if __name__ == "__main__":
    main()
