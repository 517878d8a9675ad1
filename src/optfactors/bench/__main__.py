"""``python -m optfactors.bench [--tiny] [--results DIR]`` (``make bench``): every benchmark in one process,
written to ``<results>/bench/bench.csv`` and printed as a table with the machine it ran on; the table is
also added to ``bench_history.csv``, and each target is judged on the median ratio of the last three
invocations."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

import torch

from optfactors.bench import analysis_cost, compute, data_path, end_to_end, framework, history, suite
from optfactors.bench.core import as_markdown, write
from optfactors.bench.figure import save_bench_figure
from optfactors.device import cpu_model
from optfactors.run.provenance import git_commit


def machine() -> str:
    """CPU model, its kernels' instruction set, cores, threads and versions: what the numbers belong to."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    cpu = f"{cpu_model()}, {torch.backends.cpu.get_cpu_capability()}"
    threads = torch.get_num_threads()
    return f"{cpu}, {os.cpu_count()} cores, {threads} torch threads, {gpu}, torch {torch.__version__}"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks, write bench.csv, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="results directory (default: results)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes, 2 repeats: checks the code runs")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per measurement (median)")
    args = parser.parse_args(argv)
    root = os.environ.get("DATA_DIR", "data")
    repeats = 2 if args.tiny else args.repeats
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    measurements = []
    for family in (framework, data_path, compute, analysis_cost):
        print(f"bench: {family.__name__.rsplit('.', 1)[-1]} ...", flush=True)
        measurements += family.run(root, args.tiny, repeats)
    print("bench: end_to_end ...", flush=True)
    measurements += end_to_end.run(Path(args.results), args.tiny)
    print("bench: suite ...", flush=True)
    measurements += suite.run(args.tiny)
    out = Path(args.results) / "bench" / "bench.csv"
    table = write(measurements, out)
    block = history.stamped(table, started, git_commit(), machine())
    # a tiny check that the code runs is not an invocation: it stays out of the history
    kept = block if args.tiny else history.append(block, out.with_name("bench_history.csv"))
    judged = history.spread(kept)
    figures = save_bench_figure(judged, Path(args.results))
    print(f"machine: {machine()}")
    print(as_markdown(table))
    print(f"\ntargets over the last {judged['n'].max()} invocation(s), judged on the median ratio:")
    print(as_markdown(judged))
    print(
        f"-> {out}, {'' if args.tiny else f'{out.parent}/bench_history.csv, '}{', '.join(map(str, figures))}"
    )


if __name__ == "__main__":
    main()
