"""`python -m bench`: run the cases side by side, print each figure beside its target and write
them, with a description of the machine, to BENCHMARKS.md."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import measure
from bench.cases import CASES, FULL, QUICK, Bench, CaseResult

DEFAULT_DATA = measure.REPO / "bench" / ".data"
DEFAULT_OUTPUT = measure.REPO / "BENCHMARKS.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the installed cursor-billing: pacing, request economy, "
        "analysis throughput, report, start-up and export.",
        epilog="Example: python -m bench --case analysis",
    )
    parser.add_argument(
        "--case",
        action="append",
        choices=list(CASES),
        help="run only this case (repeatable); default: all",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and one run: checks the harness, not the speed",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA,
        help="where generated caches are kept between runs (default: bench/.data)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="write the results here (default: BENCHMARKS.md when every case "
        "runs at full size; otherwise nothing is written)",
    )
    args = parser.parse_args(argv)

    keys = args.case or list(CASES)
    output = args.output
    if output is None and not args.quick and keys == list(CASES):
        output = DEFAULT_OUTPUT
    results = run_cases(keys, quick=args.quick, data=args.data_dir)
    print(table(results, args.quick))
    if output is not None:
        output.write_text(markdown(results, args.quick))
        print(f"\nWritten to {output}")
    return 0 if all(f.passed is not False for r in results for f in r.figures) else 1


def run_cases(keys: list[str], quick: bool, data: Path) -> list[CaseResult]:
    sizes = QUICK if quick else FULL
    results = []
    measure.byte_compile()
    with tempfile.TemporaryDirectory(prefix="cursor-billing-bench-") as work:
        bench = Bench(sizes, Path(work), data, measure.cli_path(), log=_log)
        for key in keys:
            _log(f"{key}...")
            started = time.perf_counter()
            result = CASES[key](bench)
            for figure in result.figures:
                _log(
                    f"  {figure.name}: {figure.shown} (target {figure.target}) "
                    f"{_verdict(figure.passed)}"
                )
            _log(f"  ({time.perf_counter() - started:.0f} s)")
            results.append(result)
    return results


def command(key: str, quick: bool) -> str:
    return f"python -m bench --case {key}" + (" --quick" if quick else "")


def table(results: list[CaseResult], quick: bool) -> str:
    rows = [("case", "figure", "measured", "target", "", "reproduce")]
    for result in results:
        for figure in result.figures:
            rows.append(
                (
                    result.title,
                    figure.name,
                    figure.shown,
                    figure.target,
                    _verdict(figure.passed),
                    command(result.key, quick),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def markdown(results: list[CaseResult], quick: bool) -> str:
    machine = measure.machine()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        "How fast `cursor-billing` is, measured by `python -m bench` (the harness in `bench/`).",
        "Each case runs the installed `cursor-billing` as a user would, against the bundled",
        "emulator of the Admin API or a generated cache; timings are medians of several runs,",
        "and a ratio of two commands run in turn is the median of the ratios of each round's pair.",
        "Run all of it with `.venv/bin/python -m bench` (a few minutes; the generated caches are",
        "kept in `bench/.data/`), one case with `--case NAME`.",
        "",
    ]
    if quick:
        lines += [
            "**Quick run: tiny sizes, one run each. These figures say nothing about speed.**",
            "",
        ]
    lines += [
        "## Machine",
        "",
        f"- {machine['cores']} cores: {machine['cpu']}, {machine['memory']} of memory",
        f"- {machine['os']}, {machine['python']}",
        f"- measured {when} at commit {machine['commit']}; load average afterwards "
        f"{machine['load']}",
        "",
        "## Results",
        "",
        "| case | figure | measured | target | met | reproduce |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        for figure in result.figures:
            lines.append(
                f"| {result.title} | {figure.name} | {figure.shown} | {figure.target} | "
                f"{_verdict(figure.passed)} | `{command(result.key, quick)}` |"
            )
    lines += ["", "## How each case is measured", ""]
    for result in results:
        lines += [f"### {result.title}", ""]
        lines += [f"- {detail}" for detail in result.details]
        lines.append("")
    return "\n".join(lines)


def _verdict(passed: bool | None) -> str:
    return {True: "yes", False: "NO", None: "–"}[passed]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
