"""The five benchmark cases. Each runs the installed `cursor-billing` as a user would, against the
bundled emulator or a generated cache, and returns its figures next to their targets."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench import measure
from bench.fixtures import CacheSpec, ensure_cache, month_files
from cursor_billing.cache import CacheDir
from cursor_billing.emulator import ENDPOINT, Emulator, Fault, RecordedRequest, generate_events
from cursor_billing.months import Month
from cursor_billing.settings import CACHE_SUBDIR

UTC = ZoneInfo("UTC")
DAY_MS = 86_400_000
WINDOW_MS = 30 * DAY_MS  # SPEC §4: at most 30 days per request
MB = 1_000_000
API_KEY = "key_bench_not_a_secret"
# Reads the files given as arguments with the standard library only; prints the seconds spent.
JSON_LOAD = """
import json, sys, time
started = time.perf_counter()
for name in sys.argv[1:]:
    with open(name, "rb") as handle:
        json.load(handle)
print(time.perf_counter() - started)
"""
# Decodes the cached events of the data dir given as the argument exactly as `analyze` does (the
# package's own decoder, a batch at a time) and does nothing else: the floor under a first run.
DECODE_ONLY = """
import sys
from pathlib import Path
from cursor_billing.cache import CacheDir
cache = CacheDir(Path(sys.argv[1]) / "monthly_usage_data")
for month in cache.months():
    for batch in cache.read_for_analysis(month).events.batches():
        pass
"""
HELP_COMMANDS = (
    ("--help",),
    ("fetch", "--help"),
    ("analyze", "--help"),
    ("report", "--help"),
    ("run", "--help"),
    ("demo", "--help"),
    ("cache", "--help"),
    ("cache", "ls", "--help"),
    ("cache", "purge", "--help"),
)


@dataclass(frozen=True)
class Sizes:
    """How big each case is; `QUICK` keeps the smoke test to seconds."""

    runs: int  # timed repetitions; every timing is the median of them
    pacing_limit: int  # requests the emulator allows per window...
    pacing_window_seconds: float  # ...of this length
    pacing_latency_seconds: float  # added to every answer
    pacing_events: int  # events of the month fetched (all kinds; the fetch keeps on-demand ones)
    economy_events_per_month: int
    economy_late_events: int  # arriving after the first fetch of the current month
    analysis: CacheSpec
    report: CacheSpec
    startup_runs: int
    short_pairs: int  # a round's pairs of a second `analyze` and `report` (under a second each)
    real: CacheSpec  # shaped like the real API's answers
    distinct: CacheSpec  # one month, every event from a user of its own...
    distinct_base: CacheSpec  # ...against the same month from a few hundred users
    page_size: int = 100
    economy_page_size: int = 1000  # the default page size (SPEC §3)


FULL = Sizes(
    runs=5,
    pacing_limit=10,
    pacing_window_seconds=2.0,
    pacing_latency_seconds=0.1,
    pacing_events=3000,
    economy_events_per_month=10_500,
    economy_late_events=150,
    analysis=CacheSpec("analysis-1m", events=1_000_000),
    report=CacheSpec("report-5000x40", events=480_000, users=5000, models=40),
    startup_runs=11,
    short_pairs=3,
    real=CacheSpec("real-300k", events=300_000, months=6, users=400, shape="real"),
    distinct=CacheSpec("distinct-1m", events=1_000_000, months=1, shape="distinct"),
    distinct_base=CacheSpec("users-500", events=1_000_000, months=1, users=500),
)
QUICK = Sizes(
    runs=1,
    pacing_limit=10,
    pacing_window_seconds=0.5,
    pacing_latency_seconds=0.02,
    pacing_events=400,
    economy_events_per_month=300,
    economy_late_events=40,
    analysis=CacheSpec("analysis-quick", events=3000, months=2),
    report=CacheSpec("report-quick", events=3000, months=2, users=60, models=16),
    startup_runs=1,
    short_pairs=1,
    real=CacheSpec("real-quick", events=3000, months=2, users=400, shape="real"),
    distinct=CacheSpec("distinct-quick", events=3000, months=1, shape="distinct"),
    distinct_base=CacheSpec("users-quick", events=3000, months=1, users=500),
)


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    shown: str
    target: str
    passed: bool | None  # None: shown for comparison only, no target


@dataclass
class CaseResult:
    key: str
    title: str
    figures: list[Figure]
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Bench:
    """What every case needs: sizes, a scratch folder, where generated caches live, the CLI."""

    sizes: Sizes
    work: Path
    data: Path
    cli: str
    log: Callable[[str], None]

    def folder(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def env(self, emulator: Emulator | None = None) -> dict[str, str]:
        extra = {}
        if emulator is not None:
            extra = {"CURSOR_API_KEY": API_KEY, "CURSOR_API_BASE_URL": emulator.base_url}
        return measure.clean_env(self.work, **extra)

    def config(self, name: str, **billing: object) -> Path:
        path = self.folder("config") / f"{name}.yaml"
        lines = ["billing:", "  timezone: UTC"]
        lines += [f"  {key}: {json.dumps(value)}" for key, value in billing.items()]
        path.write_text("\n".join(lines) + "\n")
        return path


# -- 1. Pacing ---------------------------------------------------------------------------------


def pacing(bench: Bench) -> CaseResult:
    """Fetch a month from an emulator that allows N requests per window and answers after L."""
    sizes = bench.sizes
    limit, window = sizes.pacing_limit, sizes.pacing_window_seconds
    delay = window / limit
    month = _months_ago(3)
    events = generate_events(
        seed=11,
        start_ms=month.start_ms(UTC),
        end_ms=month.end_ms(UTC),
        count=sizes.pacing_events,
        users=40,
    )
    config = bench.config("pacing", request_delay_seconds=delay, page_size=sizes.page_size)
    tool: list[Pace] = []
    naive: list[Pace] = []
    for run in range(sizes.runs):
        with _paced_emulator(events, sizes) as emulator:
            data_dir = bench.folder(f"pacing-{run}")
            args = ["fetch", "--month", month.label, "--data-dir", str(data_dir)]
            args += ["--config", str(config)]
            measure.run([bench.cli, *args], cwd=bench.work, env=bench.env(emulator))
            tool.append(Pace.of(emulator.requests, limit, window))
        with _paced_emulator(events, sizes) as emulator:
            _naive_fetch(emulator.base_url, month, sizes.page_size, delay)
            naive.append(Pace.of(emulator.requests, limit, window))
    rate = measure.median([p.rate_share for p in tool])
    naive_rate = measure.median([p.rate_share for p in naive])
    rejected = sum(p.rejected for p in tool)
    naive_rejected = sum(p.rejected for p in naive)
    return CaseResult(
        "pacing",
        "1. Pacing",
        [
            Figure(
                "fetch: achieved request rate ÷ limit", rate, f"{rate:.3f}", "≥ 0.95", rate >= 0.95
            ),
            Figure("fetch: 429 answers", rejected, str(rejected), "0", rejected == 0),
            Figure(
                "naive loop (sleep after each answer): rate ÷ limit",
                naive_rate,
                f"{naive_rate:.3f}",
                "for comparison",
                None,
            ),
            Figure(
                "naive loop: 429 answers",
                naive_rejected,
                str(naive_rejected),
                "for comparison",
                None,
            ),
        ],
        [
            f"Emulator: {limit} requests per fixed {window:g} s window, "
            f"{sizes.pacing_latency_seconds:g} s latency on every answer; "
            f"`request_delay_seconds: {delay:g}`, page size {sizes.page_size}; "
            f"{tool[0].requests} requests per fetch of {month.label}; {sizes.runs} run(s), "
            "429s summed over all runs.",
            "Rate = (requests − 1) ÷ (last arrival − first arrival), as the emulator saw them.",
            f"fetch rate ÷ limit per run: {_listed([p.rate_share for p in tool])}; naive: "
            f"{_listed([p.rate_share for p in naive])}.",
            f"Closest {limit + 1} consecutive requests of the fetch, as the emulator saw them: "
            f"{_seconds(min(p.tightest_span for p in tool))} apart (a window is {window:g} s: "
            "closer than that, they could fall in one window and the last would get a 429).",
        ],
    )


@dataclass(frozen=True)
class Pace:
    """How one fetch paced its requests, from the emulator's record of them."""

    requests: int
    rejected: int  # 429 answers
    rate_share: float  # achieved requests per second ÷ the limit's
    tightest_span: float  # shortest time between request k and request k + limit

    @classmethod
    def of(cls, recorded: list[RecordedRequest], limit: int, window: float) -> Pace:
        arrivals = [r.at for r in recorded if r.path == ENDPOINT]
        rejected = sum(r.status == 429 for r in recorded if r.path == ENDPOINT)
        if len(arrivals) < 2:
            return cls(len(arrivals), rejected, math.nan, math.nan)
        rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        spans = [b - a for a, b in zip(arrivals, arrivals[limit:], strict=False)]
        return cls(len(arrivals), rejected, rate / (limit / window), min(spans, default=math.inf))


def _paced_emulator(events: list[dict], sizes: Sizes) -> Emulator:
    emulator = Emulator(
        events,
        api_key=API_KEY,
        rate_limit=sizes.pacing_limit,
        rate_window_seconds=sizes.pacing_window_seconds,
    )
    # Each request takes the next fault: one latency fault per page, with room for retries.
    pages = math.ceil(len(events) / sizes.page_size) + 2
    emulator.inject(*[Fault.latency(sizes.pacing_latency_seconds)] * (4 * pages))
    return emulator


def _naive_fetch(base_url: str, month: Month, page_size: int, delay: float) -> None:
    """The loop a script would write: ask, read the answer, sleep the delay, ask again."""
    with httpx.Client(base_url=base_url, auth=(API_KEY, ""), timeout=30) as http:
        for start_ms, end_ms in _windows(month.start_ms(UTC), month.end_ms(UTC)):
            page = 1
            while True:
                response = http.post(
                    ENDPOINT,
                    json={
                        "startDate": start_ms,
                        "endDate": end_ms,
                        "page": page,
                        "pageSize": page_size,
                    },
                )
                time.sleep(delay)
                if response.status_code == 429:
                    continue
                response.raise_for_status()
                if not response.json()["pagination"]["hasNextPage"]:
                    break
                page += 1


# -- 2. Request economy ------------------------------------------------------------------------


def economy(bench: Bench) -> CaseResult:
    """Requests made ÷ the fewest that can fetch the same events, page by page, per window."""
    sizes = bench.sizes
    page_size = sizes.economy_page_size
    now = datetime.now(timezone.utc)
    now_ms = int(now.timestamp() * 1000)
    current = Month.containing(now)
    past = [_months_ago(4), _months_ago(3), _months_ago(2)]  # all ended more than a day ago
    events = []
    for seed, month in enumerate(past):
        events += generate_events(
            seed=20 + seed,
            start_ms=month.start_ms(UTC),
            end_ms=month.end_ms(UTC),
            count=sizes.economy_events_per_month,
            users=40,
        )
    current_start = current.start_ms(UTC)
    elapsed = max(0, now_ms - 60_000 - current_start)
    share = elapsed / (current.end_ms(UTC) - current_start)
    events += generate_events(
        seed=30,
        start_ms=current_start,
        end_ms=current_start + elapsed,
        count=max(50, int(sizes.economy_events_per_month * share)),
        users=40,
    )
    data_dir = bench.folder("economy")
    config = bench.config("economy", request_delay_seconds=0, page_size=page_size)

    with Emulator(events, api_key=API_KEY, rate_limit=None) as emulator:

        def fetch(*months: Month) -> list[RecordedRequest]:
            before = len(emulator.requests)
            args = [bench.cli, "fetch", "--data-dir", str(data_dir), "--config", str(config)]
            for month in months:
                args += ["--month", month.label]
            measure.run(args, cwd=bench.work, env=bench.env(emulator))
            return [r for r in emulator.requests[before:] if r.path == ENDPOINT]

        def fewest(start_ms: int, end_ms: int) -> int:
            return sum(
                max(1, math.ceil(len(emulator.events_between(lo, hi)) / page_size))
                for lo, hi in _windows(start_ms, end_ms)
            )

        cold = fetch(*past)
        cold_fewest = sum(fewest(m.start_ms(UTC), m.end_ms(UTC)) for m in past)
        again = fetch(*past)
        current_cold = fetch(current)
        current_end = max(r.body["endDate"] for r in current_cold)
        current_fewest = fewest(current_start, current_end)

        covered_end = _covered_end(data_dir, current)
        tail_start = max(current_start, covered_end - DAY_MS)
        late_from = max(current_start, covered_end - 3 * 3_600_000)
        emulator.add_events(
            generate_events(
                seed=31,
                start_ms=late_from,
                end_ms=covered_end,
                count=sizes.economy_late_events,
                users=40,
            )
        )
        tail = fetch(current)
        tail_end = max(r.body["endDate"] for r in tail)
        tail_fewest = fewest(tail_start, tail_end)

    cold_ratio = (len(cold) + len(current_cold)) / (cold_fewest + current_fewest)
    tail_ratio = len(tail) / tail_fewest
    current_events = len([e for e in events if int(e["timestamp"]) >= current_start])
    return CaseResult(
        "economy",
        "2. Request economy",
        [
            Figure(
                "cold fetch: requests ÷ fewest possible",
                cold_ratio,
                f"{cold_ratio:.3f}",
                "≤ 1.05",
                cold_ratio <= 1.05,
            ),
            Figure(
                "fetch when every month is complete: requests",
                len(again),
                str(len(again)),
                "0",
                len(again) == 0,
            ),
            Figure(
                "refresh of the current month: requests ÷ fewest for its tail",
                tail_ratio,
                f"{tail_ratio:.3f}",
                "≤ 1.05",
                tail_ratio <= 1.05,
            ),
        ],
        [
            f"Page size {page_size}; {sizes.economy_events_per_month:,} events per past month "
            f"(all kinds), {current_events:,} so far in {current.label}, "
            f"{sizes.economy_late_events} late ones added before the refresh.",
            f"Cold fetch of {', '.join(m.label for m in past)} and {current.label}: "
            f"{len(cold) + len(current_cold)} requests, fewest possible "
            f"{cold_fewest + current_fewest}.",
            f"Second fetch of the complete months: {len(again)} requests.",
            f"Refresh of {current.label}: {len(tail)} requests for its tail (fewest "
            f"{tail_fewest}) where a whole re-fetch takes {len(current_cold)}+.",
            "Fewest possible = Σ over the ≤ 30-day windows of max(1, ⌈events ÷ page size⌉).",
        ],
    )


def _covered_end(data_dir: Path, month: Month) -> int:
    """`covered.end_ms` of the month's cache file (SPEC §6), read plainly."""
    path = data_dir / "monthly_usage_data" / f"{month.label}-usage-based-data.json"
    return json.loads(path.read_bytes())["covered"]["end_ms"]


# -- 3. Analysis throughput --------------------------------------------------------------------


def analysis(bench: Bench) -> CaseResult:
    """`analyze --json` over a big cache, against `json.load` of the same files."""
    spec = bench.sizes.analysis
    bench.log(f"  cache of {spec.events:,} events (generated once, then kept in {bench.data})")
    data_dir = ensure_cache(spec, bench.data)
    files = month_files(data_dir)
    largest = max(path.stat().st_size for path in files)
    total = sum(path.stat().st_size for path in files)
    for path in files:  # the first timed run should not pay for reading the disk
        path.read_bytes()
    loads, analyses, peaks = [], [], []
    for _ in range(bench.sizes.runs):
        loaded = measure.run(
            [sys.executable, "-c", JSON_LOAD, *map(str, files)],
            cwd=bench.work,
            env=bench.env(),
            capture=True,
        )
        loads.append(float(loaded.stdout))
        _remove_derived(data_dir)  # the fold of every month file, as before ledger files
        analyzed = measure.run(
            [bench.cli, "analyze", "--json", "--data-dir", str(data_dir)],
            cwd=bench.work,
            env=bench.env(),
        )
        analyses.append(analyzed.seconds)
        peaks.append(analyzed.peak_rss_bytes)
    ratio = measure.paired(analyses, loads)
    peak = max(peaks)
    budget = 2 * largest + 150 * MB
    return CaseResult(
        "analysis",
        "3. Analysis throughput",
        [
            Figure(
                "`analyze --json` time ÷ `json.load` time",
                ratio,
                f"{ratio:.3f}",
                "≤ 0.5",
                ratio <= 0.5,
            ),
            Figure(
                "`analyze --json` peak memory",
                peak,
                f"{peak / MB:.0f} MB",
                f"≤ {budget / MB:.0f} MB (2 × largest month + 150 MB)",
                peak <= budget,
            ),
        ],
        [
            f"{spec.events:,} cached events over {len(files)} months, {spec.users} users, "
            f"{spec.models} models; {total / MB:.0f} MB of cache files, the largest "
            f"{largest / MB:.1f} MB.",
            f"`analyze --json` end to end, its {analyzed.stdout_bytes / MB:.1f} MB of JSON "
            f"written to a file: median {measure.median(analyses):.2f} s "
            f"({_listed(analyses, 's')}); peak RSS per run: "
            f"{', '.join(f'{p / MB:.0f} MB' for p in peaks)}.",
            f"`json.load` of the same files (timed inside its process): median "
            f"{measure.median(loads):.2f} s ({_listed(loads, 's')}).",
        ],
    )


# -- 4. Report ---------------------------------------------------------------------------------


def report(bench: Bench) -> CaseResult:
    """`report` over a wide cache (many users and models), against `analyze --json`."""
    spec = bench.sizes.report
    bench.log(f"  cache of {spec.users:,} users × {spec.models} models × {spec.months} months")
    data_dir = ensure_cache(spec, bench.data)
    for path in month_files(data_dir):
        path.read_bytes()
    html = bench.folder("report") / "dashboard.html"
    reports, analyses = [], []
    document = {}
    for _ in range(bench.sizes.runs):
        analyzed = measure.run(
            [bench.cli, "analyze", "--json", "--data-dir", str(data_dir)],
            cwd=bench.work,
            env=bench.env(),
            capture=not document,
        )
        analyses.append(analyzed.seconds)
        document = document or json.loads(analyzed.stdout)
        reported = measure.run(
            [bench.cli, "report", "--data-dir", str(data_dir), "--output", str(html)],
            cwd=bench.work,
            env=bench.env(),
        )
        reports.append(reported.seconds)
    ratio = measure.paired(reports, analyses)
    size = html.stat().st_size
    return CaseResult(
        "report",
        "4. Report",
        [
            Figure("dashboard HTML size", size, f"{size / MB:.3f} MB", "< 1.5 MB", size < 1.5 * MB),
            Figure(
                "`report` time ÷ `analyze --json` time",
                ratio,
                f"{ratio:.3f}",
                "≤ 1.3",
                ratio <= 1.3,
            ),
        ],
        [
            f"{spec.events:,} cached events; the analysis found {len(document['users']):,} "
            f"users, {len(document['models'])} models, {len(document['months'])} months.",
            f"`report`: median {measure.median(reports):.2f} s ({_listed(reports, 's')}); "
            f"`analyze --json` ({analyzed.stdout_bytes / MB:.1f} MB of JSON written to a file): "
            f"median {measure.median(analyses):.2f} s ({_listed(analyses, 's')}).",
        ],
    )


# -- 8. Export --------------------------------------------------------------------------------


def export(bench: Bench) -> CaseResult:
    """`export` (CSV by day and FOCUS) of the analysis cache, against `analyze --json` of it."""
    spec = bench.sizes.analysis
    data_dir = ensure_cache(spec, bench.data)
    files = month_files(data_dir)
    largest = max(path.stat().st_size for path in files)
    for path in files:
        path.read_bytes()
    folder = bench.folder("export")
    timings: dict[str, list[float]] = {"analyze": [], "csv": [], "focus": []}
    peaks: dict[str, list[int]] = {"analyze": [], "csv": [], "focus": []}
    sizes: dict[str, int] = {}
    analyze = [bench.cli, "analyze", "--json", "--data-dir", str(data_dir)]
    measure.run(analyze, cwd=bench.work, env=bench.env())  # untimed: the ledger files made
    for _ in range(bench.sizes.runs):
        analyzed = measure.run(analyze, cwd=bench.work, env=bench.env())
        timings["analyze"].append(analyzed.seconds)
        peaks["analyze"].append(analyzed.peak_rss_bytes)
        for export_format in ("csv", "focus"):
            output = folder / f"{export_format}.csv"
            exported = measure.run(
                [
                    bench.cli,
                    "export",
                    "--format",
                    export_format,
                    "--data-dir",
                    str(data_dir),
                    "--output",
                    str(output),
                ],
                cwd=bench.work,
                env=bench.env(),
            )
            timings[export_format].append(exported.seconds)
            peaks[export_format].append(exported.peak_rss_bytes)
            sizes[export_format] = output.stat().st_size
    analyze_time = measure.median(timings["analyze"])
    ratios = {name: measure.paired(timings[name], timings["analyze"]) for name in ("csv", "focus")}
    slowest = max(ratios, key=ratios.__getitem__)
    # Exports hold one month of lines at a time: beyond what the analysis needs (the ledger,
    # one month of events at a time) they should add next to nothing.
    peak = max(max(peaks["csv"]), max(peaks["focus"]))
    analysis_peak = max(peaks["analyze"])
    budget = analysis_peak + 20 * MB
    return CaseResult(
        "export",
        "8. Export",
        [
            Figure(
                f"slowest export (`--format {slowest}`) time ÷ `analyze --json` time",
                ratios[slowest],
                f"{ratios[slowest]:.3f}",
                "≤ 2",
                ratios[slowest] <= 2,
            ),
            Figure(
                "`export` peak memory",
                peak,
                f"{peak / MB:.0f} MB",
                f"≤ {budget / MB:.0f} MB (`analyze --json` peak + 20 MB)",
                peak <= budget,
            ),
        ],
        [
            f"The cache of case 3: {spec.events:,} cached events over {len(files)} months; "
            f"the largest month file {largest / MB:.1f} MB; derived ledger files present (one "
            "untimed `analyze` first), as for a user who has run `analyze` before.",
            f"`export --format csv` (by day, {sizes['csv'] / MB:.1f} MB written): median "
            f"{measure.median(timings['csv']):.2f} s ({_listed(timings['csv'], 's')}); "
            f"`export --format focus` ({sizes['focus'] / MB:.1f} MB): median "
            f"{measure.median(timings['focus']):.2f} s ({_listed(timings['focus'], 's')}); "
            f"`analyze --json`: median {analyze_time:.2f} s "
            f"({_listed(timings['analyze'], 's')}).",
            "Peak RSS per export: "
            + ", ".join(f"{p / MB:.0f} MB" for name in ("csv", "focus") for p in peaks[name])
            + f"; `analyze --json`: {analysis_peak / MB:.0f} MB.",
        ],
    )


# -- 5. Start-up -------------------------------------------------------------------------------


def startup(bench: Bench) -> CaseResult:
    """`--version` and every `--help`, against an interpreter that only imports Typer."""
    commands = [("--version",), *HELP_COMMANDS]
    baseline: list[float] = []
    timings: dict[tuple[str, ...], list[float]] = {command: [] for command in commands}
    for _ in range(bench.sizes.startup_runs):
        baseline.append(
            measure.run(
                [sys.executable, "-c", "import typer"], cwd=bench.work, env=bench.env()
            ).seconds
        )
        for command in commands:
            timings[command].append(
                measure.run([bench.cli, *command], cwd=bench.work, env=bench.env()).seconds
            )
    base = measure.median(baseline)
    extra_ms = {command: (measure.median(t) - base) * 1000 for command, t in timings.items()}
    version = extra_ms[("--version",)]
    slowest = max(HELP_COMMANDS, key=extra_ms.__getitem__)
    return CaseResult(
        "startup",
        "5. Start-up",
        [
            Figure(
                '`--version`: extra time over `python -c "import typer"`',
                version,
                f"{version:+.0f} ms",
                "≤ 60 ms",
                version <= 60,
            ),
            Figure(
                f"slowest `--help` (`{' '.join(slowest)}`): extra time",
                extra_ms[slowest],
                f"{extra_ms[slowest]:+.0f} ms",
                "≤ 60 ms",
                extra_ms[slowest] <= 60,
            ),
        ],
        [
            f'`python -c "import typer"`: median {base * 1000:.0f} ms over '
            f"{bench.sizes.startup_runs} run(s). Extra time of each command (median):",
            ", ".join(f"`{' '.join(c)}` {ms:+.0f} ms" for c, ms in extra_ms.items()) + ".",
        ],
    )


# -- 6. Real-shaped cache ----------------------------------------------------------------------


def real(bench: Bench) -> CaseResult:
    """`analyze --json` and `report` over a cache shaped like the real API's answers, against
    `json.load` of the same files: a first run (no derived files beside the months) and a
    second one with nothing changed."""
    spec = bench.sizes.real
    bench.log(f"  real-shaped cache of {spec.events:,} events, {spec.users} users")
    data_dir = ensure_cache(spec, bench.data)
    files = month_files(data_dir)
    total = sum(path.stat().st_size for path in files)
    for path in files:
        path.read_bytes()
    analyze = [bench.cli, "analyze", "--json", "--data-dir", str(data_dir)]
    html = bench.folder("real") / "dashboard.html"
    loads, inner_loads, decodes, firsts, seconds, reports = [], [], [], [], [], []
    round_seconds = []  # each round's median second run, to pair with its `json.load`
    report = [bench.cli, "report", "--data-dir", str(data_dir), "--output", str(html)]
    for _ in range(bench.sizes.runs):
        whole, inner = _json_load_process(bench, files)
        loads.append(whole)
        inner_loads.append(inner)
        decode_only = [sys.executable, "-c", DECODE_ONLY, str(data_dir)]
        decodes.append(measure.run(decode_only, cwd=bench.work, env=bench.env()).seconds)
        _remove_derived(data_dir)
        firsts.append(measure.run(analyze, cwd=bench.work, env=bench.env()).seconds)
        this_round = []
        for _ in range(bench.sizes.short_pairs):
            this_round.append(measure.run(analyze, cwd=bench.work, env=bench.env()).seconds)
            reports.append(measure.run(report, cwd=bench.work, env=bench.env()).seconds)
        seconds += this_round
        round_seconds.append(measure.median(this_round))
    load = measure.median(loads)
    first = measure.paired(firsts, loads)
    second = measure.paired(round_seconds, loads)
    report_ratio = measure.paired(reports, seconds)
    decode = measure.paired(decodes, loads)
    return CaseResult(
        "real",
        "6. Real-shaped cache",
        [
            Figure(
                "`analyze --json`, first run ÷ `json.load`",
                first,
                f"{first:.3f}",
                "≤ 0.35",
                first <= 0.35,
            ),
            Figure(
                "the events decoded alone (the first run's decode, no fold) ÷ `json.load`",
                decode,
                f"{decode:.3f}",
                "for comparison",
                None,
            ),
            Figure(
                "`analyze --json`, second run (nothing changed) ÷ `json.load`",
                second,
                f"{second:.3f}",
                "≤ 0.10",
                second <= 0.10,
            ),
            Figure(
                "`report` ÷ `analyze --json`",
                report_ratio,
                f"{report_ratio:.3f}",
                "≤ 1.3",
                report_ratio <= 1.3,
            ),
        ],
        [
            f"{spec.events:,} cached events over {len(files)} months, {spec.users} users; "
            f"{total / MB:.0f} MB of cache files; every money field present as a decimal with "
            "2–4 places, every token bucket, `requestsCosts` and `serviceAccountId` on every "
            "event.",
            f"`json.load` of the same files, a whole process like `analyze`: median "
            f"{load:.2f} s ({_listed(loads, 's')}); its loop alone: median "
            f"{measure.median(inner_loads):.2f} s.",
            f"The events decoded as `analyze` decodes them, and nothing else (a whole "
            f"process): median {measure.median(decodes):.2f} s ({_listed(decodes, 's')}).",
            f"`analyze --json` first run: median {measure.median(firsts):.2f} s "
            f"({_listed(firsts, 's')}); second run: median {measure.median(seconds):.2f} s "
            f"({_listed(seconds, 's')}); `report`: median {measure.median(reports):.2f} s "
            f"({_listed(reports, 's')}).",
        ],
    )


# -- 7. Distinct users -------------------------------------------------------------------------


def distinct(bench: Bench) -> CaseResult:
    """One month whose every event comes from a user of its own, against the same month from
    500 users: the cost per event, and the peak memory against the month file."""
    sizes = bench.sizes
    timings: dict[str, list[float]] = {}
    peaks: dict[str, int] = {}
    events: dict[str, int] = {}
    file_size: dict[str, int] = {}
    for key, spec in (("base", sizes.distinct_base), ("distinct", sizes.distinct)):
        bench.log(f"  one month of {spec.events:,} events ({spec.name})")
        data_dir = ensure_cache(spec, bench.data)
        (path,) = month_files(data_dir)
        path.read_bytes()
        file_size[key], events[key] = path.stat().st_size, spec.events
        runs = []
        for _ in range(sizes.runs):
            _remove_derived(data_dir)  # a first run: the month file decoded and folded
            runs.append(
                measure.run(
                    [bench.cli, "analyze", "--json", "--data-dir", str(data_dir)],
                    cwd=bench.work,
                    env=bench.env(),
                )
            )
        timings[key] = [run.seconds for run in runs]
        peaks[key] = max(run.peak_rss_bytes for run in runs)
    per_event = {key: measure.median(t) / events[key] for key, t in timings.items()}
    ratio = per_event["distinct"] / per_event["base"]
    budget = 2 * file_size["distinct"] + 150 * MB
    return CaseResult(
        "distinct",
        "7. Distinct users",
        [
            Figure(
                "time per event, every user distinct ÷ 500 users",
                ratio,
                f"{ratio:.2f}",
                "≤ 2",
                ratio <= 2,
            ),
            Figure(
                "peak memory, every user distinct",
                peaks["distinct"],
                f"{peaks['distinct'] / MB:.0f} MB",
                f"≤ {budget / MB:.0f} MB (2 × the month file + 150 MB)",
                peaks["distinct"] <= budget,
            ),
        ],
        [
            f"One month of {events['distinct']:,} events: from {events['distinct']:,} distinct "
            f"users ({file_size['distinct'] / MB:.0f} MB), and from 500 users "
            f"({file_size['base'] / MB:.0f} MB).",
            "`analyze --json`: every user distinct median "
            f"{measure.median(timings['distinct']):.2f} s "
            f"({_listed(timings['distinct'], 's')}), peak {peaks['distinct'] / MB:.0f} MB; "
            f"500 users median {measure.median(timings['base']):.2f} s "
            f"({_listed(timings['base'], 's')}), peak {peaks['base'] / MB:.0f} MB.",
        ],
    )


def _last_month_in_progress(bench: Bench, data_dir: Path, now: datetime) -> Path:
    """A data dir with the cache of `data_dir` as a fetch at `now` leaves it: its last month in
    progress (`complete: false`, covered up to `now`, the events after it not there yet); the
    other month files linked (copied where the folders are on different file systems)."""
    source = CacheDir(data_dir / CACHE_SUBDIR)
    target = CacheDir(bench.folder("in-progress") / CACHE_SUBDIR)
    target.root.mkdir(mode=0o700, exist_ok=True)
    *complete, last = source.months()
    for month in complete:
        linked = target.path_for(month)
        if not linked.exists():
            try:
                os.link(source.path_for(month), linked)
            except OSError:
                shutil.copyfile(source.path_for(month), linked)
    cut = int(now.timestamp() * 1000)
    month = source.read(last)
    month.complete, month.covered_end_ms = False, cut
    month.events = [event for event in month.events if int(event["timestamp"]) <= cut]
    target.write(month)
    return target.root.parent


def _json_load_process(bench: Bench, files: list[Path]) -> tuple[float, float]:
    """`json.load` of the files timed as a whole process, as `analyze` is (#9), and the part
    of it spent inside the loop."""
    loaded = measure.run(
        [sys.executable, "-c", JSON_LOAD, *map(str, files)],
        cwd=bench.work,
        env=bench.env(),
        capture=True,
    )
    return loaded.seconds, float(loaded.stdout)


# -- 9. Time-aware commands --------------------------------------------------------------------


def time_aware(bench: Bench) -> CaseResult:
    """`daily` and `check` (budgets, anomalies) against `analyze --json` (which holds the
    forecast) on the cache of case 3 as it looks mid-month: its last month still in progress
    (`complete: false`), the clock on that month's last day."""
    spec = bench.sizes.analysis
    complete = ensure_cache(spec, bench.data)
    last = max(CacheDir(complete / CACHE_SUBDIR).months())
    now = datetime.fromtimestamp(last.end_ms(UTC) // 1000 - 12 * 3600, timezone.utc)
    data_dir = _last_month_in_progress(bench, complete, now)
    files = month_files(data_dir)
    env = {**bench.env(), "CURSOR_BILLING_NOW": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    config = bench.config("time-aware", budgets={"total_monthly_usd": 1000, "user_monthly_usd": 50})
    common = ["--data-dir", str(data_dir), "--config", str(config)]
    commands = {
        "analyze": [bench.cli, "analyze", "--json", *common],
        "daily": [bench.cli, "daily", "--json", *common],
        "check": [bench.cli, "check", "--json", "--month", last.label, *common],
    }
    timings: dict[str, list[float]] = {name: [] for name in commands}
    measure.run(commands["analyze"], cwd=bench.work, env=env)  # derived files as a user has
    for _ in range(bench.sizes.runs):
        for name, args in commands.items():
            timings[name].append(measure.run(args, cwd=bench.work, env=env, accept=(0, 4)).seconds)
    analyses = timings["analyze"]
    ratios = {name: measure.paired(timings[name], analyses) for name in ("daily", "check")}
    return CaseResult(
        "time-aware",
        "9. Time-aware commands",
        [
            Figure(
                f"`{name}` time ÷ `analyze --json` time",
                ratios[name],
                f"{ratios[name]:.3f}",
                "≤ 1.2",
                ratios[name] <= 1.2,
            )
            for name in ("daily", "check")
        ],
        [
            f"The cache of case 3: {spec.events:,} cached events over {len(files)} months, "
            f"the last one in progress (fetched at the clock); derived ledger files present "
            f"(one untimed `analyze` first); the clock at {now:%Y-%m-%d %H:%M} UTC; a total "
            "and a per-user monthly budget set.",
            *(
                f"`{name}`: median {measure.median(timings[name]):.2f} s "
                f"({_listed(timings[name], 's')})"
                for name in commands
            ),
        ],
    )


def _remove_derived(data_dir: Path) -> None:
    """Every file beside the month files that the tool derived from them (the ledger files):
    this keeps a first run honest."""
    for path in (data_dir / "monthly_usage_data").glob(".*.ledger*"):
        path.unlink()


CASES: dict[str, Callable[[Bench], CaseResult]] = {
    "pacing": pacing,
    "economy": economy,
    "analysis": analysis,
    "report": report,
    "startup": startup,
    "real": real,
    "distinct": distinct,
    "export": export,
    "time-aware": time_aware,
}


# -- helpers -----------------------------------------------------------------------------------


def _months_ago(count: int) -> Month:
    month = Month.containing(datetime.now(timezone.utc))
    for _ in range(count):
        month = month.previous()
    return month


def _windows(start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """SPEC §4: consecutive windows of at most 30 days, no gap, no overlap."""
    windows = []
    while start_ms <= end_ms:
        windows.append((start_ms, min(start_ms + WINDOW_MS - 1, end_ms)))
        start_ms = windows[-1][1] + 1
    return windows


def _seconds(value: float) -> str:
    return f"{value:.4f} s" if math.isfinite(value) else "n/a (fewer requests)"


def _listed(values: list[float], unit: str = "") -> str:
    return ", ".join(
        f"{value:.3f}{unit}" if unit == "" else f"{value:.2f} {unit}" for value in values
    )
