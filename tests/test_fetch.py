"""`cursor-billing fetch` against the bundled emulator over real HTTP on loopback (SPEC §4–6)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from cursor_billing.cache import CacheDir
from cursor_billing.client import AdminApiClient, Throttle
from cursor_billing.emulator import Emulator, Fault, generate_events
from cursor_billing.events import is_kept
from cursor_billing.fetcher import Fetcher
from cursor_billing.months import MAX_WINDOW_MS, Month
from tests.helpers import usage_event

KEY = "key_test_5ecret"
UTC = ZoneInfo("UTC")
JAN, FEB = Month(2026, 1), Month(2026, 2)
FAST_CONFIG = """billing:
  request_delay_seconds: 0
  backoff_base_seconds: 0.001
  max_retries: 3
  timeout_seconds: 5
"""


def month_events(month: Month, count: int = 600, seed: int = 3, zone=UTC) -> list[dict]:
    return generate_events(
        seed=seed, start_ms=month.start_ms(zone), end_ms=month.end_ms(zone), count=count, users=12
    )


@pytest.fixture
def emulator_env(isolated, monkeypatch):
    """Start an emulator with the given events and point the CLI's environment at it."""
    started: list[Emulator] = []

    def start(events, **options) -> Emulator:
        emulator = Emulator(events, api_key=KEY, rate_limit=None, **options)
        emulator.start()
        started.append(emulator)
        monkeypatch.setenv("CURSOR_API_KEY", KEY)
        monkeypatch.setenv("CURSOR_API_BASE_URL", emulator.base_url)
        (isolated / "config.yaml").write_text(FAST_CONFIG)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


def endpoint_requests(emulator: Emulator):
    return [r for r in emulator.requests if r.path == "/teams/filtered-usage-events"]


def cached_events(isolated, month: Month) -> list[dict]:
    path = isolated / "data" / "monthly_usage_data" / f"{month.label}-usage-based-data.json"
    document = json.loads(path.read_text())
    assert document["total_events"] == len(document["events"])
    return document["events"]


def expected(emulator: Emulator, month: Month, zone=UTC) -> list[dict]:
    held = emulator.events_between(month.start_ms(zone), month.end_ms(zone))
    return sorted((e for e in held if is_kept(e)), key=lambda e: int(e["timestamp"]), reverse=True)


def canonical(events: list[dict]) -> list[str]:
    return sorted(json.dumps(e, sort_keys=True) for e in events)


def test_fetch_caches_exactly_the_on_demand_events_of_each_month(cli, emulator_env, isolated):
    emulator = emulator_env(month_events(JAN) + month_events(FEB, seed=4))
    result = cli("fetch", "--month", "01-2026", "--month", "02-2026", "--page-size", "50")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    for month in (JAN, FEB):
        events = cached_events(isolated, month)
        assert canonical(events) == canonical(expected(emulator, month))
        assert events == sorted(events, key=lambda e: int(e["timestamp"]), reverse=True)
    document = json.loads(
        (isolated / "data/monthly_usage_data/01-2026-usage-based-data.json").read_text()
    )
    assert document["complete"] is True
    assert document["covered"] == {"start_ms": JAN.start_ms(UTC), "end_ms": JAN.end_ms(UTC)}
    assert document["timezone"] == "UTC" and document["schema_version"] == 1
    assert "Fetching page " in result.stderr and "January 2026" in result.stderr
    bodies = [r.body for r in endpoint_requests(emulator)]
    assert {b["pageSize"] for b in bodies} == {50}


def test_windows_cover_each_month_exactly_once_within_30_days(cli, emulator_env):
    emulator = emulator_env([])
    assert cli("fetch", "--month", "01-2026", "--month", "02-2026").exit_code == 0
    windows = sorted(
        {(r.body["startDate"], r.body["endDate"]) for r in endpoint_requests(emulator)}
    )
    assert all(end - start + 1 <= MAX_WINDOW_MS for start, end in windows)
    january = [w for w in windows if w[0] < FEB.start_ms(UTC)]
    february = [w for w in windows if w[0] >= FEB.start_ms(UTC)]
    assert len(january) == 2 and len(february) == 1
    for month, month_windows in ((JAN, january), (FEB, february)):
        assert month_windows[0][0] == month.start_ms(UTC)
        assert month_windows[-1][1] == month.end_ms(UTC)
        for (_, end), (start, _) in zip(month_windows, month_windows[1:], strict=False):
            assert start == end + 1  # no gap, no overlap


@pytest.mark.parametrize("zone_name", ["UTC", "America/Los_Angeles"])
def test_events_on_month_edges_land_in_the_right_month(cli, emulator_env, isolated, zone_name):
    zone = ZoneInfo(zone_name)
    edges = [JAN.start_ms(zone), JAN.end_ms(zone), FEB.start_ms(zone), FEB.end_ms(zone)]
    outside = [JAN.start_ms(zone) - 1, FEB.end_ms(zone) + 1]
    emulator_env([usage_event(ms, email=f"u{ms}@example.com") for ms in edges + outside])
    with (isolated / "config.yaml").open("a") as config:
        config.write(f"  timezone: {zone_name}\n")
    assert cli("fetch", "--month", "01-2026", "--month", "02-2026").exit_code == 0
    assert [int(e["timestamp"]) for e in cached_events(isolated, JAN)] == edges[1::-1]
    assert [int(e["timestamp"]) for e in cached_events(isolated, FEB)] == edges[3:1:-1]


def test_a_second_fetch_makes_no_request_for_complete_months(cli, emulator_env):
    emulator = emulator_env(month_events(JAN, count=100))
    assert cli("fetch", "--month", "01-2026").exit_code == 0
    first = len(endpoint_requests(emulator))
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 0
    assert len(endpoint_requests(emulator)) == first
    assert "skipped" in result.stderr
    assert cli("fetch", "--month", "01-2026", "--refresh").exit_code == 0
    assert len(endpoint_requests(emulator)) == 2 * first


OPEN_CLIENTS: list[AdminApiClient] = []


@pytest.fixture(autouse=True)
def close_clients():
    yield
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().__exit__(None, None, None)


def new_client(emulator: Emulator, throttle: Throttle, **options) -> AdminApiClient:
    client = AdminApiClient(emulator.base_url, KEY, throttle=throttle, **options)
    OPEN_CLIENTS.append(client)
    return client


def fetcher_at(
    emulator: Emulator,
    isolated,
    now: datetime,
    page_size: int = 100,
    sleep=lambda seconds: None,
    clock=time.monotonic,
    **client_options,
) -> Fetcher:
    options = {"max_retries": 3, "backoff_base_seconds": 1.0} | client_options
    client = new_client(emulator, Throttle(0, clock, sleep), sleep=sleep, **options)
    return fetcher_for(client, isolated, now, page_size)


def fetcher_for(
    client, isolated, now: datetime = datetime(2026, 3, 1, tzinfo=timezone.utc), page_size=100
) -> Fetcher:
    cache_dir = CacheDir(isolated / "data" / "monthly_usage_data")
    return Fetcher(client, cache_dir, "UTC", page_size, now, _SilentObserver())


class _SilentObserver:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def month_started(self, *args) -> None: ...
    def page_fetched(self, *args) -> None: ...
    def retrying(self, *args) -> None: ...
    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def month_finished(self, *args) -> None: ...


def test_raising_months_back_fetches_only_the_new_months(emulator_env, isolated):
    emulator = emulator_env(month_events(JAN, 200) + month_events(FEB, 200, seed=9))
    now = datetime(2026, 3, 10, tzinfo=timezone.utc)
    results = fetcher_at(emulator, isolated, now).fetch([FEB, Month(2026, 3)])
    assert [r.action for r in results] == ["fetched", "fetched"]
    before = len(endpoint_requests(emulator))
    results = fetcher_at(emulator, isolated, now).fetch([JAN, FEB])
    assert [r.action for r in results] == ["fetched", "skipped"]
    assert all(r.body["endDate"] < FEB.start_ms(UTC) for r in endpoint_requests(emulator)[before:])


def test_a_partial_month_refresh_requests_only_its_tail(emulator_env, isolated):
    month = Month(2026, 10)
    events = month_events(month, 400)
    day = 24 * 3600 * 1000
    first_now = datetime(2026, 10, 20, tzinfo=timezone.utc)
    cut = int(first_now.timestamp() * 1000)
    emulator = emulator_env([e for e in events if int(e["timestamp"]) <= cut])
    result = fetcher_at(emulator, isolated, first_now).fetch_month(month, refresh=False)
    assert result.complete is False
    # Late events land for the hours before the first fetch, and new days go by.
    emulator.add_events(
        [e for e in events if int(e["timestamp"]) > cut]
        + [usage_event(cut - 3600_000, email="late@example.com")]
    )
    before = len(endpoint_requests(emulator))
    second_now = datetime(2026, 10, 25, tzinfo=timezone.utc)
    result = fetcher_at(emulator, isolated, second_now).fetch_month(month, refresh=False)
    assert result.action == "refreshed"
    tail = endpoint_requests(emulator)[before:]
    assert {r.body["startDate"] for r in tail} == {cut - day}
    assert {r.body["endDate"] for r in tail} == {int(second_now.timestamp() * 1000)}
    refreshed = cached_events(isolated, month)
    # Equal to a fresh fetch at the same moment, into another folder.
    fresh_dir = isolated / "fresh"
    fresh = fetcher_at(emulator, fresh_dir, second_now)
    fresh.fetch_month(month, refresh=False)
    assert refreshed == cached_events(fresh_dir, month)
    assert any(e["userEmail"] == "late@example.com" for e in refreshed)


def test_a_month_fetched_a_day_after_it_ended_is_complete(emulator_env, isolated):
    emulator = emulator_env(month_events(JAN, 50))
    soon = datetime(2026, 2, 1, 12, tzinfo=timezone.utc)
    assert fetcher_at(emulator, isolated, soon).fetch_month(JAN, False).complete is False
    later = datetime(2026, 2, 2, 0, 0, 1, tzinfo=timezone.utc)
    result = fetcher_at(emulator, isolated, later).fetch_month(JAN, False)
    assert (result.action, result.complete) == ("refreshed", True)
    assert fetcher_at(emulator, isolated, later).fetch_month(JAN, False).action == "skipped"


def test_retries_follow_the_backoff_rule_and_the_result_stays_exact(emulator_env, isolated):
    emulator = emulator_env(month_events(JAN, 300))
    emulator.inject(
        Fault.server_error(500),
        Fault.rate_limited(retry_after=7),
        Fault.server_error(503),
        Fault.rate_limited(),
        Fault.drop_connection(),
        Fault.not_json(),
    )
    waits: list[float] = []
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    fetcher = fetcher_at(
        emulator, isolated, now, sleep=waits.append, max_retries=6, backoff_base_seconds=1.0
    )
    result = fetcher.fetch_month(JAN, refresh=False)
    # base × 2^attempt, or the server's Retry-After when it is longer (7 > 2).
    assert waits == [1.0, 7.0, 4.0, 8.0, 16.0, 32.0]
    assert result.retries == 6
    assert canonical(cached_events(isolated, JAN)) == canonical(expected(emulator, JAN))


def test_the_throttle_spaces_request_starts(emulator_env, isolated):
    emulator = emulator_env(month_events(JAN, 300))
    clock = FakeClock()
    throttle = RecordingThrottle(3.0, clock, clock.sleep)
    client = new_client(
        emulator, throttle, sleep=clock.sleep, max_retries=2, backoff_base_seconds=1.0
    )
    emulator.inject(Fault.server_error(500))
    fetcher = fetcher_for(client, isolated)
    fetcher.fetch_month(JAN, refresh=False)
    starts = throttle.starts
    assert len(starts) == len(endpoint_requests(emulator))
    assert all(later - earlier >= 3.0 for earlier, later in zip(starts, starts[1:], strict=False))
    # The retry waited its backoff (1 s), then the throttle made up the rest of the 3 s.
    assert clock.sleeps[:2] == [1.0, 2.0]


class RecordingThrottle(Throttle):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.starts: list[float] = []

    def wait(self) -> None:
        super().wait()
        self.starts.append(self.clock())


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_giving_up_after_retries_exits_1_and_keeps_finished_months(cli, emulator_env, isolated):
    emulator = emulator_env(month_events(JAN, 50) + month_events(FEB, 50, seed=5))
    assert cli("fetch", "--month", "01-2026").exit_code == 0
    emulator.inject(*[Fault.server_error(502)] * 4)
    result = cli("fetch", "--month", "01-2026", "--month", "02-2026")
    assert result.exit_code == 1
    assert result.stderr.count("Error:") == 1
    assert "still failed after 3 retries: HTTP 502" in result.stderr
    assert cached_events(isolated, JAN)
    assert not (isolated / "data/monthly_usage_data/02-2026-usage-based-data.json").exists()
    assert cli("fetch", "--month", "02-2026").exit_code == 0
    assert canonical(cached_events(isolated, FEB)) == canonical(expected(emulator, FEB))


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_exits_3_and_writes_nothing(cli, emulator_env, isolated, status):
    emulator = emulator_env(month_events(JAN, 20))
    if status == 401:
        os.environ["CURSOR_API_KEY"] = "key_wrong"
    else:
        emulator.inject(Fault.status(403, "Enterprise access required"))
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 3
    assert (
        "Invalid Team API Key" if status == 401 else "Enterprise access required"
    ) in result.stderr
    assert len(endpoint_requests(emulator)) == 1  # never retried
    assert not (isolated / "data" / "monthly_usage_data" / "01-2026-usage-based-data.json").exists()


def test_a_bad_request_is_not_retried(cli, emulator_env):
    emulator = emulator_env([])
    emulator.inject(Fault.status(400, "Date range too large"))
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 1
    assert "HTTP 400" in result.stderr and "Date range too large" in result.stderr
    assert len(endpoint_requests(emulator)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "13-2026"], "'13-2026' is not a month"),
        (["--month", "1-2026"], "'1-2026' is not a month"),
        (["--months-back", "0"], "--months-back must be an integer from 1 to 60, not 0"),
        (["--months-back", "1000"], "--months-back must be an integer from 1 to 60, not 1000"),
        (["--month", "01-2999"], "01-2999 is in the future"),
        (["--month", "2999-01"], "01-2999 is in the future"),
        (["--month", "12-2022"], "12-2022 is before 01-2023"),
        (["--month", "02-1944"], "02-1944 is before 01-2023"),
        (["--month", "01-2026", "--months-back", "2"], "either --month or --months-back"),
        (["--page-size", "1001"], "--page-size must be an integer from 1 to 1000"),
    ],
)
def test_bad_input_is_a_usage_error(cli, emulator_env, args, message):
    emulator = emulator_env([])
    result = cli("fetch", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert endpoint_requests(emulator) == []


def test_no_key_says_where_to_put_it(cli, monkeypatch):
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 2
    assert "CURSOR_API_KEY" in result.stderr and ".env" in result.stderr


def test_a_plain_http_base_url_is_refused_before_the_key_is_sent(cli, monkeypatch):
    monkeypatch.setenv("CURSOR_API_KEY", KEY)
    monkeypatch.setenv("CURSOR_API_BASE_URL", "http://api.example.com")
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 2
    assert "refusing to send the API key" in result.stderr


def test_the_key_never_appears_in_output_cache_or_errors(cli, emulator_env, isolated):
    emulator = emulator_env(month_events(JAN, 50))
    emulator.inject(Fault.server_error(500))
    outputs = [cli("--debug", "fetch", "--month", "01-2026")]
    emulator.inject(*[Fault.server_error(500)] * 4)
    outputs.append(cli("fetch", "--month", "02-2026", "--debug"))
    assert outputs[1].exit_code == 1
    texts = [o.stdout + o.stderr for o in outputs]
    # Every file, the binary derived ledger files included (read as bytes).
    files = [p.read_bytes() for p in (isolated / "data").rglob("*") if p.is_file()]
    texts += [content.decode("utf-8", "replace") for content in files]
    assert all(KEY not in text for text in texts)
    assert "Traceback" in outputs[1].stderr  # --debug shows it, without the key


def test_a_fetch_killed_mid_month_resumes_to_the_same_events(emulator_env, isolated, tmp_path):
    events = month_events(JAN, 3000, seed=11)
    emulator = emulator_env(events)
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    command = [
        sys.executable,
        "-m",
        "cursor_billing",
        "fetch",
        "--month",
        "01-2026",
        "--page-size",
        "100",
    ]
    emulator.inject(*[Fault.latency(0.05)] * 1000)
    process = subprocess.Popen(
        command, env=env, cwd=isolated, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while len(endpoint_requests(emulator)) < 12 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = len(endpoint_requests(emulator))
    assert not (isolated / "data/monthly_usage_data/01-2026-usage-based-data.json").exists()
    subprocess.run(command, env=env, cwd=isolated, check=True, capture_output=True)
    resumed_requests = len(endpoint_requests(emulator)) - killed_at

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "config.yaml").write_text(FAST_CONFIG)
    before = len(endpoint_requests(emulator))
    subprocess.run(command, env=env, cwd=fresh, check=True, capture_output=True)
    full_requests = len(endpoint_requests(emulator)) - before

    assert cached_events(isolated, JAN) == cached_events(fresh, JAN)
    assert resumed_requests < full_requests
    # Only the page in flight when it was killed is asked for again.
    assert killed_at + resumed_requests <= full_requests + 1


def test_a_journal_line_cut_short_is_dropped_and_the_fetch_resumes(emulator_env, isolated):
    from cursor_billing.errors import ApiError

    emulator = emulator_env(month_events(JAN, 1000, seed=8))
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    fetcher = fetcher_at(emulator, isolated, now)
    pages_before_failure = 4
    emulator.inject(*[Fault.latency(0)] * pages_before_failure, *[Fault.server_error(500)] * 4)
    with pytest.raises(ApiError):
        fetcher.fetch_month(JAN, refresh=False)
    journal = isolated / "data" / "monthly_usage_data" / ".01-2026-usage-based-data.json.journal"
    assert len(journal.read_bytes().splitlines()) == 1 + pages_before_failure
    with journal.open("ab") as handle:
        handle.write(b'{"window":0,"page":5,"total":')  # a kill in the middle of a write
    before = len(endpoint_requests(emulator))
    result = fetcher_at(emulator, isolated, now).fetch_month(JAN, refresh=False)
    assert result.action == "resumed"
    assert canonical(cached_events(isolated, JAN)) == canonical(expected(emulator, JAN))
    first_resumed = endpoint_requests(emulator)[before].body
    assert first_resumed["page"] == pages_before_failure + 1
    assert not journal.exists()


class _LandingObserver(_SilentObserver):
    """Adds an event to the emulator after the first page of each of the first `times` passes."""

    def __init__(self, emulator: Emulator, times: int) -> None:
        super().__init__()
        self.emulator, self.times, self.landed = emulator, times, 0

    def page_fetched(self, month, pages_done, pages_total) -> None:
        if self.landed < self.times and pages_done in (1, 1 + 5 * self.landed):
            self.landed += 1
            late = JAN.start_ms(UTC) + 3600_000 * (100 + self.landed)
            self.emulator.add_events([usage_event(late, email=f"late{self.landed}@example.com")])


@pytest.mark.parametrize("changes", [1, 2])
def test_data_changing_while_paging_is_fetched_again_then_reported(emulator_env, isolated, changes):
    emulator = emulator_env(month_events(JAN, 450, seed=12))
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    fetcher = fetcher_at(emulator, isolated, now)
    fetcher.observer = observer = _LandingObserver(emulator, changes)
    result = fetcher.fetch_month(JAN, refresh=False)
    assert "fetching that window once more" in observer.warnings[0]
    assert "the announced total changed while paging" in observer.warnings[0]
    if changes == 1:
        assert result.warnings == []
        assert canonical(cached_events(isolated, JAN)) == canonical(expected(emulator, JAN))
    else:
        assert len(result.warnings) == 1 and "twice" in result.warnings[0]
        assert len(result.unreliable) == 1
        # Saved as unreliable, with why: the next fetch reads the whole month again.
        document = json.loads(
            (isolated / "data/monthly_usage_data/01-2026-usage-based-data.json").read_text()
        )
        assert document["complete"] is False
        assert document["warnings"] == result.unreliable
        assert "the announced total changed while paging" in document["warnings"][0]
        before = len(endpoint_requests(emulator))
        again = fetcher_at(emulator, isolated, now).fetch_month(JAN, refresh=False)
        assert (again.action, again.complete, again.unreliable) == ("fetched", True, [])
        first = endpoint_requests(emulator)[before].body
        assert (first["startDate"], first["page"]) == (JAN.start_ms(UTC), 1)
        assert canonical(cached_events(isolated, JAN)) == canonical(expected(emulator, JAN))
        assert "warnings" in json.loads(
            (isolated / "data/monthly_usage_data/01-2026-usage-based-data.json").read_text()
        )


def test_an_interrupted_refresh_resumes_with_refresh_again(emulator_env, isolated):
    from cursor_billing.errors import ApiError

    emulator = emulator_env(month_events(JAN, 1000, seed=8))
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    fetcher_at(emulator, isolated, now).fetch_month(JAN, refresh=False)
    emulator.inject(*[Fault.latency(0)] * 3, *[Fault.server_error(500)] * 4)
    with pytest.raises(ApiError):
        fetcher_at(emulator, isolated, now).fetch_month(JAN, refresh=True)
    before = len(endpoint_requests(emulator))
    result = fetcher_at(emulator, isolated, now).fetch_month(JAN, refresh=True)
    assert result.action == "resumed"
    assert endpoint_requests(emulator)[before].body["page"] == 4
    assert canonical(cached_events(isolated, JAN)) == canonical(expected(emulator, JAN))


def test_a_429_slows_the_pace_for_the_rest_of_the_run(emulator_env, isolated):
    emulator = emulator_env(month_events(JAN, 300))
    clock = FakeClock()
    throttle = RecordingThrottle(3.0, clock, clock.sleep)
    client = new_client(emulator, throttle, sleep=clock.sleep, max_retries=5)
    emulator.inject(Fault.rate_limited(), Fault.rate_limited())
    fetcher = fetcher_for(client, isolated)
    fetcher.fetch_month(JAN, refresh=False)
    gaps = [
        later - earlier
        for earlier, later in zip(throttle.starts, throttle.starts[1:], strict=False)
    ]
    # Halved once for the request that met two 429s: the backoff waits (1, 2 s) were shorter.
    assert gaps[:2] == [6.0, 6.0]
    assert set(gaps[2:]) == {6.0}
    assert throttle.interval == 6.0


def test_the_summary_shows_finished_months_when_a_later_one_fails(cli, emulator_env):
    emulator = emulator_env(month_events(JAN, 50) + month_events(FEB, 50, seed=5))
    emulator.inject(*[Fault.latency(0)] * 2, *[Fault.server_error(500)] * 4)  # January: 2 pages
    result = cli("fetch", "--month", "01-2026", "--month", "02-2026")
    assert result.exit_code == 1
    assert "Fetch summary" in result.stderr and "01-2026" in result.stderr


def test_an_unreachable_api_names_the_host(cli, isolated, monkeypatch):
    import socket

    with socket.socket() as probe:  # a free port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CURSOR_API_KEY", KEY)
    monkeypatch.setenv("CURSOR_API_BASE_URL", f"http://127.0.0.1:{port}")
    (isolated / "config.yaml").write_text(FAST_CONFIG)
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 1
    assert f"cannot reach 127.0.0.1:{port}" in result.stderr


def test_a_clock_behind_the_last_fetch_keeps_the_cached_events(emulator_env, isolated):
    month = Month(2026, 10)
    emulator = emulator_env(month_events(month, 300))
    fetcher_at(emulator, isolated, datetime(2026, 10, 20, tzinfo=timezone.utc)).fetch_month(
        month, refresh=False
    )
    before = cached_events(isolated, month)
    earlier = datetime(2026, 10, 10, tzinfo=timezone.utc)
    result = fetcher_at(emulator, isolated, earlier).fetch_month(month, refresh=False)
    assert (result.action, result.complete) == ("skipped", False)
    assert cached_events(isolated, month) == before


class _StubClient:
    """Answers every page with the same scripted page: servers the emulator does not imitate."""

    def __init__(self, page) -> None:
        from cursor_billing.client import RequestStats

        self.page, self.stats, self.on_retry = page, RequestStats(), None

    def usage_page(self, start_ms, end_ms, page, page_size):
        self.stats.requests += 1
        return self.page


def stub_fetcher(isolated, page) -> Fetcher:
    return fetcher_for(_StubClient(page), isolated)


def test_a_server_that_always_says_there_is_a_next_page_is_stopped(isolated):
    from cursor_billing.client import UsagePage

    event = usage_event(JAN.start_ms(UTC) + 5)
    fetcher = stub_fetcher(
        isolated, UsagePage([event], total_events=1, num_pages=0, has_next_page=True)
    )
    result = fetcher.fetch_month(JAN, refresh=False)
    assert fetcher.client.stats.requests == 2  # one page for each of January's two windows
    assert any("more pages than its own counts allow" in w for w in fetcher.observer.warnings)
    assert result.events == 1  # the second window's copy lies outside it: left out, and said


def test_events_with_unreadable_timestamps_are_left_out_and_said(isolated):
    from cursor_billing.client import UsagePage

    good = usage_event(JAN.start_ms(UTC) + 5)
    decimal_text = dict(good, timestamp=f"{JAN.start_ms(UTC) + 6}.0")
    missing = {k: v for k, v in good.items() if k != "timestamp"}
    page = UsagePage(
        [good, decimal_text, missing], total_events=3, num_pages=1, has_next_page=False
    )
    result = stub_fetcher(isolated, page).fetch_month(JAN, refresh=False)
    assert result.events == 2  # "….0" is read as a timestamp
    assert any("left out 1 event(s)" in w for w in result.warnings)


@pytest.mark.parametrize("retry_after", ["inf", "86400"])
def test_an_unreasonable_retry_after_ends_the_run_clearly(cli, emulator_env, retry_after):
    emulator = emulator_env([])
    emulator.inject(Fault.rate_limited(retry_after=float(retry_after)))
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 1
    assert "the API asks to wait" in result.stderr
    assert len(endpoint_requests(emulator)) == 1


def test_two_fetches_of_one_cache_do_not_run_at_once(cli, emulator_env, isolated):
    from cursor_billing.errors import CacheError

    emulator_env([])
    with CacheDir(isolated / "data" / "monthly_usage_data").fetch_lock():
        with pytest.raises(CacheError, match="a fetch is updating"):
            with CacheDir(isolated / "data" / "monthly_usage_data").fetch_lock():
                pass
        result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 1 and "a fetch is updating" in result.stderr
    assert cli("fetch", "--month", "01-2026").exit_code == 0  # released on exit


def test_on_a_terminal_progress_bars_show_month_and_page(emulator_env, isolated):
    import io

    from rich.console import Console

    from cursor_billing.render.progress import FetchProgress

    emulator = emulator_env(month_events(JAN, 300))
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    progress = FetchProgress(console)
    assert progress.live
    client = new_client(emulator, Throttle(0), sleep=lambda seconds: None)
    fetcher = Fetcher(
        client,
        CacheDir(isolated / "data" / "monthly_usage_data"),
        "UTC",
        100,
        datetime(2026, 3, 1, tzinfo=timezone.utc),
        progress,
    )
    with progress:
        fetcher.fetch([JAN])
        progress._progress.refresh()
        drawn = screen.getvalue()
    assert "January 2026 · page" in drawn and "Months" in drawn
