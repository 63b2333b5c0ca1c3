"""The client under hostile answers and faults (issue 14, SPEC §5, §14), over real HTTP on
loopback: the bundled emulator, or a tiny scripted server for answers the emulator cannot give."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec
import pytest

from cursor_billing.client import AdminApiClient, Throttle, environment_proxy
from cursor_billing.emulator import Emulator, Fault, generate_events
from cursor_billing.errors import ApiError
from cursor_billing.months import Month
from cursor_billing.text import printable
from tests import test_fetch
from tests.helpers import usage_event
from tests.test_fetch import (
    FAST_CONFIG,
    JAN,
    KEY,
    UTC,
    FakeClock,
    RecordingThrottle,
    cached_events,
    canonical,
    endpoint_requests,
    expected,
    fetcher_for,
    month_events,
)

emulator_env = test_fetch.emulator_env  # the fixture: an emulator the CLI is pointed at

GOOD_EMPTY_PAGE = {
    "totalUsageEventsCount": 0,
    "pagination": {"numPages": 0, "currentPage": 1, "pageSize": 100, "hasNextPage": False},
    "usageEvents": [],
}


class ScriptedServer:
    """Answers each request with the next scripted answer (the last one repeats): a status and
    body, optionally trickled a few bytes at a time."""

    def __init__(self, *answers: tuple[int, bytes]) -> None:
        self.answers = list(answers)
        self.requests = 0
        self.trickle_delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests += 1
                status, body = server.answers[min(server.requests, len(server.answers)) - 1]
                head = (
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                try:
                    if not server.trickle_delay:
                        self.wfile.write(head + body)
                        return
                    for index in range(len(head + body)):
                        self.wfile.write((head + body)[index : index + 1])
                        self.wfile.flush()
                        time.sleep(server.trickle_delay)
                except OSError:
                    pass  # the client hung up: what the deadline is for

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, args=(0.02,), daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture
def scripted(isolated, monkeypatch):
    servers: list[ScriptedServer] = []

    def start(*answers: tuple[int, bytes]) -> ScriptedServer:
        server = ScriptedServer(*answers)
        servers.append(server)
        monkeypatch.setenv("CURSOR_API_KEY", KEY)
        monkeypatch.setenv("CURSOR_API_BASE_URL", server.base_url)
        (isolated / "config.yaml").write_text(FAST_CONFIG)
        return server

    yield start
    for server in servers:
        server.stop()


def client_for(base_url: str, sleeps: list[float] | None = None, **options) -> AdminApiClient:
    record = sleeps.append if sleeps is not None else (lambda seconds: None)
    return AdminApiClient(base_url, KEY, throttle=Throttle(0), sleep=record, **options)


# -- 1. malformed answers --------------------------------------------------------------------


def page(**fields) -> bytes:
    return json.dumps({**GOOD_EMPTY_PAGE, **fields}).encode()


def without(key: str) -> bytes:
    return json.dumps({k: v for k, v in GOOD_EMPTY_PAGE.items() if k != key}).encode()


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{}", "$.usageEvents is missing"),
        (
            json.dumps(
                {"events": [usage_event(1767225600001)], "totalUsageEventsCount": 1}
            ).encode(),
            "$.usageEvents is missing",
        ),
        (page(usageEvents={}), "$.usageEvents is an object, not a list"),
        (page(usageEvents=[1]), "$.usageEvents[0] is a number, not an object"),
        (without("totalUsageEventsCount"), "$.totalUsageEventsCount is missing"),
        (page(totalUsageEventsCount="3"), "$.totalUsageEventsCount is a string"),
        (without("pagination"), "$.pagination is missing"),
        (page(pagination={"hasNextPage": "no"}), "$.pagination.hasNextPage is a string"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"<html><body>Sign in to the hotel Wi-Fi</body></html>", "not JSON"),
    ],
)
def test_a_200_that_is_not_a_page_is_retried_then_names_the_field(
    cli, scripted, isolated, body, named
):
    server = scripted((200, body))
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 1
    assert "still failed after 3 retries" in result.stderr and named in result.stderr
    assert result.stderr.count("Error:") == 1 and "Traceback" not in result.stderr
    assert server.requests == 4  # retried like a 5xx
    assert not (isolated / "data/monthly_usage_data/01-2026-usage-based-data.json").exists()


def test_a_malformed_answer_then_a_good_one_ends_exact(cli, scripted, isolated):
    event = usage_event(JAN.start_ms(UTC) + 5)
    good = page(
        usageEvents=[event],
        totalUsageEventsCount=1,
        pagination={"numPages": 1, "hasNextPage": False},
    )
    server = scripted((200, b"{}"), (200, good), (200, page()))
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 0, result.stderr
    assert cached_events(isolated, JAN) == [event]
    assert server.requests == 3  # {} again, then the first window, then the second


def test_a_page_above_64_mb_is_refused(scripted):
    big = page(usageEvents=[{"pad": "x" * (65 * 1024 * 1024)}])
    server = scripted((200, big))
    with client_for(server.base_url, max_retries=1) as client:
        with pytest.raises(ApiError, match="larger than 64 MB"):
            client.usage_page(0, 1, 1, 100)
    assert server.requests == 2


def test_a_page_without_a_length_is_cut_off_at_the_cap(isolated):
    """A chunked answer that never ends: reading stops at the cap, memory stays bounded."""
    sent = []

    class Endless(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"[" * 65536
            try:
                for _ in range(10_000):  # 640 MB if nobody stopped reading
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent.append(len(chunk))
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with client_for(url, max_retries=0, max_page_bytes=1024 * 1024) as client:
            with pytest.raises(ApiError, match="larger than 1 MB"):
                client.usage_page(0, 1, 1, 100)
    finally:
        server.shutdown()
        server.server_close()
    assert sum(sent) < 100 * 1024 * 1024


# -- 2. proxies -------------------------------------------------------------------------------


def test_no_proxy_is_used_for_a_loopback_base_url(cli, emulator_env, isolated, monkeypatch):
    connections: list[object] = []
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen()

    def accept() -> None:
        while True:
            try:
                connection, _ = proxy.accept()
            except OSError:
                return
            connections.append(connection)
            connection.close()

    threading.Thread(target=accept, daemon=True).start()
    proxy_url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        emulator = emulator_env(month_events(JAN, 50))
        result = cli("fetch", "--month", "01-2026")
    finally:
        proxy.close()
    assert result.exit_code == 0, result.stderr
    assert connections == []
    assert canonical(cached_events(isolated, JAN)) == canonical(expected(emulator, JAN))


def test_the_environment_proxy_still_applies_to_the_real_api(monkeypatch):
    import httpx

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert environment_proxy(httpx.URL("https://api.cursor.com")) == "http://proxy.corp:3128"
    monkeypatch.setenv("NO_PROXY", "api.cursor.com")
    assert environment_proxy(httpx.URL("https://api.cursor.com")) is None


# -- 3. odd numbers are stored as received ---------------------------------------------------


def test_non_finite_and_huge_numbers_are_kept_with_their_digits(emulator_env, isolated):
    month = Month(2026, 1)
    base = month.start_ms(UTC)
    odd = [
        usage_event(base + 1, email="nan@example.com", cursorTokenFee="NaN"),
        usage_event(base + 2, email="inf@example.com", chargedCents="Infinity"),
        usage_event(base + 3, email="big@example.com", chargedCents=msgspec.Raw(b"1e30")),
        usage_event(base + 4, email="huge@example.com", chargedCents=msgspec.Raw(b"1e999")),
        usage_event(
            base + 5,
            email="digits@example.com",
            chargedCents=msgspec.Raw(b"12345678901234567890.123456789"),
        ),
        usage_event(
            base + 6,
            email="small@example.com",
            cursorTokenFee=msgspec.Raw(b"0.000025000000000000001"),
        ),
    ]
    emulator = emulator_env(odd)
    soon = datetime(2026, 1, 20, tzinfo=timezone.utc)  # a partial month: refreshed later
    client = AdminApiClient(emulator.base_url, KEY, throttle=Throttle(0), sleep=lambda s: None)
    with client:
        assert fetcher_for(client, isolated, soon).fetch_month(month, False).events == 6
    path = isolated / "data/monthly_usage_data/01-2026-usage-based-data.json"
    for text in (
        b'"NaN"',
        b'"Infinity"',
        b"1E+30",
        b"1E+999",
        b"12345678901234567890.123456789",
        b"0.000025000000000000001",
    ):
        assert text in path.read_bytes()
    # A tail refresh re-writes the events before the tail from the cache: still every digit.
    emulator.add_events([usage_event(base + 20 * 86_400_000, email="later@example.com")])
    later = datetime(2026, 3, 1, tzinfo=timezone.utc)
    client = AdminApiClient(emulator.base_url, KEY, throttle=Throttle(0), sleep=lambda s: None)
    with client:
        result = fetcher_for(client, isolated, later).fetch_month(month, False)
    assert (result.action, result.events) == ("refreshed", 7)
    content = path.read_bytes()
    assert b"1E+999" in content and b"12345678901234567890.123456789" in content
    assert b"0.000025000000000000001" in content


# -- 4. 429 patience and pace ----------------------------------------------------------------


class StormClock(FakeClock):
    """The emulator answers 429 to every request until `storm_seconds` have passed."""

    def __init__(self, emulator: Emulator, storm_seconds: float) -> None:
        super().__init__()
        self.emulator, self.storm_ends = emulator, self.now + storm_seconds

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.now >= self.storm_ends:
            self.emulator.rate_limit = None


def storm(events, storm_seconds: float):
    emulator = Emulator(events, api_key=KEY, rate_limit=0).start()
    clock = StormClock(emulator, storm_seconds)
    emulator.clock = clock
    return emulator, clock


def test_a_65_second_429_storm_without_retry_after_ends_exact(isolated):
    emulator, clock = storm(month_events(JAN, 300), storm_seconds=65)
    try:
        throttle = RecordingThrottle(3.0, clock, clock.sleep)
        waits: list[float] = []

        def backoff_sleep(seconds: float) -> None:
            waits.append(seconds)
            clock.sleep(seconds)

        client = AdminApiClient(
            emulator.base_url,
            KEY,
            throttle=throttle,
            sleep=backoff_sleep,
            max_retries=5,
            backoff_base_seconds=1.0,
            rate_limit_patience_seconds=180,
        )
        with client:
            result = fetcher_for(client, isolated).fetch_month(JAN, refresh=False)
        requests = endpoint_requests(emulator)
        limited = [r for r in requests if r.status == 429]
        statuses = [r.status for r in requests]
        assert statuses == [429] * len(limited) + [200] * (len(requests) - len(limited))
        assert requests[len(limited)].at - limited[0].at >= 65  # the storm lasted 65 s
        assert result.retries == len(limited) > 5  # more than max_retries: 429s have patience
        assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0][: len(waits)]  # capped at 60 s
        assert canonical(cached_events(isolated, JAN)) == canonical(expected(emulator, JAN))
    finally:
        emulator.stop()


def test_429s_beyond_the_patience_end_the_run(isolated):
    emulator, clock = storm([], storm_seconds=10_000)
    try:
        client = AdminApiClient(
            emulator.base_url,
            KEY,
            throttle=Throttle(0, clock, clock.sleep),
            sleep=clock.sleep,
            rate_limit_patience_seconds=100,
        )
        start = clock.now
        with client, pytest.raises(ApiError, match=r"kept answering 429 .* for 1\d\d s"):
            client.usage_page(0, 1, 1, 100)
        assert 100 <= clock.now - start <= 100 + 60
    finally:
        emulator.stop()


def test_the_pace_doubles_after_a_429_and_recovers_after_20_calm_answers(emulator_env, isolated):
    emulator = emulator_env(month_events(JAN, 600))
    clock = FakeClock()
    throttle = RecordingThrottle(0.5, clock, clock.sleep)
    client = AdminApiClient(
        emulator.base_url, KEY, throttle=throttle, sleep=clock.sleep, backoff_base_seconds=0.1
    )
    emulator.inject(Fault.rate_limited(), *[Fault.latency(0)] * 25, Fault.rate_limited())
    with client:
        fetcher_for(client, isolated, page_size=10).fetch_month(JAN, refresh=False)
    gaps = [round(b - a, 6) for a, b in zip(throttle.starts, throttle.starts[1:], strict=False)]
    assert gaps[:20] == [1.0] * 20  # up to the 20th answer after the 429: doubled
    assert gaps[20:26] == [0.5] * 6  # halved again, never below request_delay_seconds
    assert gaps[26] == 1.0  # the second 429 doubles it again
    assert throttle.interval == 0.5


# -- 5. whole-request deadline ---------------------------------------------------------------


def test_timeout_bounds_the_whole_request_however_slowly_the_server_trickles(scripted):
    server = scripted((200, page(usageEvents=[usage_event(1) for _ in range(20)])))
    server.trickle_delay = 0.01  # a byte every 10 ms: each read is quick, the answer is not
    with client_for(server.base_url, max_retries=0, timeout_seconds=0.3) as client:
        began = time.monotonic()
        with pytest.raises(ApiError, match="timed out"):
            client.usage_page(0, 1, 1, 100)
        assert time.monotonic() - began < 1.5


# -- 6. fail fast where waiting cannot help --------------------------------------------------


def test_a_name_that_does_not_resolve_is_not_retried(cli, isolated, monkeypatch):
    monkeypatch.setenv("CURSOR_API_KEY", KEY)
    monkeypatch.setenv("CURSOR_API_BASE_URL", "https://api.cursor.invalid")
    (isolated / "config.yaml").write_text(FAST_CONFIG)
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 1
    assert "api.cursor.invalid" in result.stderr and "retries" not in result.stderr
    assert "check CURSOR_API_BASE_URL and your network" in result.stderr


def test_a_tls_error_is_not_retried(emulator_env):
    emulator = emulator_env([])
    sleeps: list[float] = []
    tls_url = emulator.base_url.replace("http://", "https://")  # TLS to a plain HTTP server
    with client_for(tls_url, sleeps) as client:
        with pytest.raises(ApiError) as failure:
            client.usage_page(0, 1, 1, 100)
        assert client.stats.requests == 1
    assert sleeps == [] and failure.value.hint == "check CURSOR_API_BASE_URL and your network"


def test_a_404_is_not_retried(cli, emulator_env):
    emulator = emulator_env([])
    emulator.inject(Fault.status(404, "Not Found"))
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 1 and "HTTP 404" in result.stderr
    assert len(endpoint_requests(emulator)) == 1


def test_a_base_url_that_is_not_a_url_says_so(cli, monkeypatch):
    monkeypatch.setenv("CURSOR_API_KEY", KEY)
    monkeypatch.setenv("CURSOR_API_BASE_URL", "not a url")
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 2
    assert "CURSOR_API_BASE_URL 'not a url' is not a URL" in result.stderr


# -- 7. terminal injection -------------------------------------------------------------------

HOSTILE = "\x1b[2J\x1b]0;owned\x07\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"


def test_an_api_error_message_reaches_stderr_escaped(cli, emulator_env):
    emulator = emulator_env([])
    emulator.inject(Fault.status(400, HOSTILE + " bad range"))
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\\x1b[2J\\x1b]0;owned\\x07\\x1b]8;;https://evil.example\\x1b\\click" in result.stderr


def test_printable_escapes_controls_bidi_and_zero_width_characters():
    assert printable("a\x00b\x1bc\x7fd\x85e\x9f") == "a\\x00b\\x1bc\\x7fd\\x85e\\x9f"
    assert printable("\u202eevil\u202c \u2066x\u2069") == "\\u202eevil\\u202c \\u2066x\\u2069"
    assert printable("zero\u200bwidth\u200f\ufeff") == "zero\\u200bwidth\\u200f\\ufeff"
    assert printable("Zoë 日本 — €1,234.50 <b>") == "Zoë 日本 — €1,234.50 <b>"


# -- 8. kindLabel ----------------------------------------------------------------------------


def test_events_with_kind_label_only_give_the_same_cache_and_analysis(cli, emulator_env, isolated):
    events = month_events(JAN, 400)
    relabelled = [
        {("kindLabel" if key == "kind" else key): value for key, value in event.items()}
        for event in events
    ]
    results = []
    for name, served in (("kind", events), ("label", relabelled)):
        emulator_env(served)
        data_dir = str(isolated / name / "data")
        assert cli("fetch", "--month", "01-2026", "--data-dir", data_dir).exit_code == 0
        cached = cached_events(isolated / name, JAN)
        analysis = cli("analyze", "--json", "--month", "01-2026", "--data-dir", data_dir)
        assert analysis.exit_code == 0
        results.append((cached, json.loads(analysis.stdout)))
    (kind_cache, kind_json), (label_cache, label_json) = results
    assert kind_cache and all("kindLabel" in event for event in label_cache)
    renamed = [
        {("kind" if key == "kindLabel" else key): value for key, value in event.items()}
        for event in label_cache
    ]
    assert renamed == kind_cache
    assert (
        kind_json["summary"] == label_json["summary"] and kind_json["summary"]["total_requests"] > 0
    )
    assert kind_json == label_json


# -- 9. request economy ----------------------------------------------------------------------


def test_a_30_day_window_of_10500_events_takes_11_requests_at_the_default_page_size(
    cli, emulator_env
):
    april = Month(2026, 4)  # 30 days: one window
    events = generate_events(
        seed=5, start_ms=april.start_ms(UTC), end_ms=april.end_ms(UTC), count=11_000, users=30
    )[:10_500]
    assert len(events) == 10_500 and len({e["kind"] for e in events}) > 2
    emulator = emulator_env(events)
    assert cli("fetch", "--month", "04-2026").exit_code == 0  # the default: 1000 a page
    assert len(endpoint_requests(emulator)) == 11
