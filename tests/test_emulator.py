"""The bundled Admin API emulator, over real HTTP on loopback, and its data generator.
No test sleeps: the rate-limit window runs on a fake clock."""

from __future__ import annotations

import base64
import calendar
import collections
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import msgspec
import pytest

from cursor_billing.emulator import (
    ENDPOINT,
    HOSTILE_MODEL,
    KINDS,
    MODELS,
    ODD_EMAILS,
    RATE_LIMITED_BODY,
    SERVICE_ACCOUNTS,
    UNAUTHORIZED_BODY,
    Emulator,
    Fault,
    generate_events,
)

KEY = "key_test"
DAY_MS = 86_400_000
OCT_1 = calendar.timegm((2025, 10, 1, 0, 0, 0)) * 1000
OCT_30D_END = OCT_1 + 30 * DAY_MS - 1  # October has 31 days: one request cannot cover it
NOV_1 = calendar.timegm((2025, 11, 1, 0, 0, 0)) * 1000
DEC_1 = calendar.timegm((2025, 12, 1, 0, 0, 0)) * 1000


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return generate_events(seed=7, start_ms=OCT_1, end_ms=DEC_1 - 1, count=3000, users=40)


@pytest.fixture
def emulator(events):
    with Emulator(events, api_key=KEY, rate_limit=None) as emu:
        yield emu


@pytest.fixture
def client(emulator):
    with new_client(emulator) as client:
        yield client


def new_client(emulator: Emulator, auth: tuple[str, str] | None = (KEY, "")) -> httpx.Client:
    # Plain HTTP on loopback: verify=False skips building a TLS context (~60 ms per client).
    return httpx.Client(base_url=emulator.base_url, auth=auth, timeout=5, verify=False)


def post_without_key(emulator: Emulator, **kwargs) -> httpx.Response:
    with new_client(emulator, auth=None) as client:
        return client.post(ENDPOINT, **kwargs)


def post(client: httpx.Client, **body) -> httpx.Response:
    return client.post(ENDPOINT, json=body)


def fetch_all(client: httpx.Client, page_size: int, **body) -> list[dict]:
    """Every page until hasNextPage is false, checking the pagination arithmetic on the way."""
    collected, page = [], 1
    while True:
        response = post(client, page=page, pageSize=page_size, **body)
        assert response.status_code == 200, response.text
        data = response.json()
        pagination = data["pagination"]
        total = data["totalUsageEventsCount"]
        assert pagination["numPages"] == -(-total // page_size)
        assert pagination["currentPage"] == page
        assert pagination["hasPreviousPage"] is (page > 1)
        assert pagination["hasNextPage"] is (page < pagination["numPages"])
        collected += data["usageEvents"]
        if not pagination["hasNextPage"]:
            return collected
        page += 1


def timestamps(events: list[dict]) -> list[int]:
    return [int(event["timestamp"]) for event in events]


# -- auth and routing --------------------------------------------------------------------------


def test_good_key_gets_the_documented_shape(client, emulator):
    response = post(client, startDate=NOV_1, endDate=NOV_1 + 10 * DAY_MS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert list(data) == ["totalUsageEventsCount", "pagination", "usageEvents", "period"]
    assert list(data["pagination"]) == [
        "numPages",
        "currentPage",
        "pageSize",
        "hasNextPage",
        "hasPreviousPage",
    ]
    assert data["period"] == {"startDate": NOV_1, "endDate": NOV_1 + 10 * DAY_MS}
    first = data["usageEvents"][0]
    assert isinstance(first["timestamp"], str)
    # Served exactly as stored.
    assert msgspec.json.encode(first) in response.content
    assert first in emulator.events_between(NOV_1, NOV_1 + 10 * DAY_MS)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        f"Bearer {KEY}",
        "Basic " + base64.b64encode(b"key_wrong:").decode(),
        "Basic " + base64.b64encode(f"{KEY}:secret".encode()).decode(),
        "Basic " + base64.b64encode(KEY.encode()).decode(),  # no colon
        "Basic not-base64!!",
    ],
    ids=["missing", "bearer", "wrong-key", "with-password", "no-colon", "garbage"],
)
def test_anything_but_basic_with_the_key_is_401(emulator, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = post_without_key(emulator, json={}, headers=headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED_BODY
    assert response.json()["message"] == "Invalid Team API Key"


def test_basic_scheme_is_case_insensitive(emulator):
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    response = post_without_key(emulator, json={}, headers={"Authorization": f"basic {token}"})
    assert response.status_code == 200


def test_other_paths_404_and_other_methods_405(client):
    response = client.post("/teams/daily-usage-data", json={})
    assert response.status_code == 404
    assert set(response.json()) == {"error", "message"}
    response = client.get(ENDPOINT)
    assert response.status_code == 405
    assert response.json()["error"] == "Method Not Allowed"


# -- request validation ------------------------------------------------------------------------


def test_range_of_exactly_30_days_is_accepted_one_ms_more_is_not(client):
    end = OCT_1 + 30 * DAY_MS - 1
    assert post(client, startDate=OCT_1, endDate=end).status_code == 200
    response = post(client, startDate=OCT_1, endDate=end + 1)
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"
    assert "30 days" in response.json()["message"]


def test_end_before_start_is_400(client):
    assert post(client, startDate=NOV_1, endDate=NOV_1 - 1).status_code == 400


def test_missing_dates_mean_the_last_7_days(client):
    before = int(time.time() * 1000)
    period = post(client).json()["period"]
    assert before <= period["endDate"] <= int(time.time() * 1000)
    assert period["endDate"] - period["startDate"] == 7 * DAY_MS


@pytest.mark.parametrize(("page_size", "status"), [(1000, 200), (1001, 400), (0, 400)])
def test_page_size_limits(client, page_size, status):
    response = post(client, startDate=OCT_1, endDate=OCT_30D_END, pageSize=page_size)
    assert response.status_code == status
    if status == 200:
        assert len(response.json()["usageEvents"]) == 1000


def test_page_size_defaults_to_100(client):
    data = post(client, startDate=OCT_1, endDate=OCT_30D_END).json()
    assert data["pagination"]["pageSize"] == 100
    assert len(data["usageEvents"]) == 100


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"startDate": "yesterday"}).encode(),
        json.dumps({"startDate": OCT_1, "endDate": OCT_1 + 1.5}).encode(),
        json.dumps({"page": 0}).encode(),
        json.dumps({"pageSize": True}).encode(),
        json.dumps({"email": 42}).encode(),
    ],
)
def test_bad_bodies_are_400(client, content):
    response = client.post(ENDPOINT, content=content)
    assert response.status_code == 400
    assert set(response.json()) == {"error", "message"}


# -- answers -----------------------------------------------------------------------------------


def test_pages_together_hold_every_event_in_range_once(client, emulator):
    start = OCT_1 + 15 * DAY_MS
    end = start + 30 * DAY_MS - 1  # across the October/November edge
    expected = emulator.events_between(start, end)
    assert 300 < len(expected) < 3000
    duplicates = [n for n in collections.Counter(map(_key, expected)).values() if n > 1]
    assert duplicates, "the data should hold at least one identical pair in this range"

    served = fetch_all(client, 97, startDate=start, endDate=end)
    assert collections.Counter(map(_key, served)) == collections.Counter(map(_key, expected))
    assert len(served) == len(expected)


def test_events_come_newest_first(client):
    served = fetch_all(client, 500, startDate=OCT_1, endDate=OCT_30D_END)
    stamps = timestamps(served)
    assert stamps == sorted(stamps, reverse=True)


def test_page_past_the_end_is_empty(client):
    data = post(client, startDate=OCT_1, endDate=OCT_30D_END, pageSize=1000, page=99).json()
    assert data["usageEvents"] == []
    assert data["pagination"]["hasNextPage"] is False
    assert data["totalUsageEventsCount"] > 0


def test_both_bounds_are_inclusive(client, events):
    first, last = events[100], events[200]
    start, end = int(first["timestamp"]), int(last["timestamp"])
    served = fetch_all(client, 1000, startDate=start, endDate=end)
    assert first in served
    assert last in served
    only = post(client, startDate=start, endDate=start).json()
    assert first in only["usageEvents"]
    assert {event["timestamp"] for event in only["usageEvents"]} == {first["timestamp"]}


def test_month_edge_events_belong_to_their_own_month(client):
    october = timestamps(fetch_all(client, 1000, startDate=NOV_1 - DAY_MS, endDate=NOV_1 - 1))
    november = timestamps(fetch_all(client, 1000, startDate=NOV_1, endDate=NOV_1 + DAY_MS))
    assert NOV_1 - 1 in october and NOV_1 not in october
    assert NOV_1 in november and NOV_1 - 1 not in november


def test_email_filter(client, emulator):
    email = ODD_EMAILS[1]  # o'brien+cursor@example.com
    served = fetch_all(client, 50, startDate=OCT_1, endDate=OCT_30D_END, email=email)
    assert served
    assert {event["userEmail"] for event in served} == {email}
    assert len(served) == len(emulator.events_between(OCT_1, OCT_30D_END, email=email))


@pytest.mark.parametrize("empty_num_pages", [0, 1])
def test_zero_results(events, empty_num_pages):
    with (
        Emulator(events, rate_limit=None, empty_num_pages=empty_num_pages) as emu,
        new_client(emu) as client,
    ):
        data = post(
            client, startDate=NOV_1, endDate=NOV_1 + DAY_MS, email="nobody@example.com"
        ).json()
    assert data["totalUsageEventsCount"] == 0
    assert data["usageEvents"] == []
    assert data["pagination"]["numPages"] == empty_num_pages
    assert data["pagination"]["hasNextPage"] is False


def test_late_events_are_served_in_order(client, emulator):
    late = dict(emulator.events_between(NOV_1, NOV_1)[0], userEmail="late@example.com")
    late["timestamp"] = str(NOV_1 + 5)
    emulator.add_events([late])
    served = fetch_all(client, 1000, startDate=NOV_1, endDate=NOV_1 + DAY_MS)
    assert late in served
    stamps = timestamps(served)
    assert stamps == sorted(stamps, reverse=True)
    assert emulator.events_between(NOV_1, NOV_1 + DAY_MS, email="late@example.com") == [late]


def test_unsorted_input_is_sorted(events):
    emu = Emulator(list(reversed(events)))
    stamps = timestamps(emu.events_between(OCT_1, DEC_1))
    assert stamps == sorted(stamps) and len(stamps) == len(events)


def test_concurrent_clients_get_consistent_pages(emulator):
    ranges = [(OCT_1 + i * 7 * DAY_MS, OCT_1 + (i + 4) * 7 * DAY_MS) for i in range(4)]

    def fetch(bounds: tuple[int, int]) -> list[dict]:
        with new_client(emulator) as client:
            return fetch_all(client, 50, startDate=bounds[0], endDate=bounds[1])

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(fetch, ranges))
    for (start, end), served in zip(ranges, results, strict=True):
        assert list(reversed(served)) == emulator.events_between(start, end)


def test_requests_are_recorded(client, emulator):
    post(client, startDate=OCT_1, endDate=OCT_1 + DAY_MS)
    post_without_key(emulator, json={"page": 2})
    first, second = emulator.requests
    assert first.path == ENDPOINT
    assert first.body == {"startDate": OCT_1, "endDate": OCT_1 + DAY_MS}
    assert first.status == 200
    assert first.headers["authorization"].startswith("Basic ")
    assert second.status == 401
    assert second.body == {"page": 2}


# -- rate limit --------------------------------------------------------------------------------


def test_rate_limit_per_fixed_window(events):
    clock = FakeClock(now=600.0)  # the start of a 60 s window
    with (
        Emulator(events, rate_limit=3, rate_window_seconds=60.0, clock=clock) as emu,
        new_client(emu) as client,
    ):
        # Requests without a valid key name no team: they are not counted.
        post_without_key(emu, json={})
        for _ in range(3):
            assert post(client).status_code == 200
        clock.now = 659.9
        refused = post(client)
        assert refused.status_code == 429
        assert refused.json() == RATE_LIMITED_BODY
        assert "retry-after" not in refused.headers
        clock.now = 660.0  # a new window
        assert post(client).status_code == 200
    assert [request.status for request in emu.requests] == [401, 200, 200, 200, 429, 200]


def test_rate_limit_can_be_turned_off(client):
    assert all(post(client).status_code == 200 for _ in range(30))


# -- injected faults ---------------------------------------------------------------------------


def test_server_error(client, emulator):
    emulator.inject(Fault.server_error(503))
    response = post(client)
    assert response.status_code == 503
    assert response.json()["error"] == "Service Unavailable"
    assert response.json()["message"]
    assert post(client).status_code == 200  # consumed


def test_rate_limited_with_and_without_retry_after(client, emulator):
    emulator.inject(Fault.rate_limited(), Fault.rate_limited(retry_after=2))
    plain, with_header = post(client), post(client)
    assert plain.status_code == with_header.status_code == 429
    assert plain.json() == with_header.json() == RATE_LIMITED_BODY
    assert "retry-after" not in plain.headers
    assert with_header.headers["retry-after"] == "2"


def test_latency(client, emulator):
    emulator.inject(Fault.latency(0.05))
    started = time.perf_counter()
    response = post(client, startDate=OCT_1, endDate=OCT_1 + DAY_MS)
    assert time.perf_counter() - started >= 0.05
    assert response.status_code == 200
    assert response.json()["usageEvents"]


def test_dropped_connection_is_a_transport_error(client, emulator):
    emulator.inject(Fault.drop_connection())
    with pytest.raises(httpx.TransportError):
        post(client)
    assert emulator.requests[-1].status == 0
    assert post(client).status_code == 200  # the client reconnects


def test_not_json(client, emulator):
    emulator.inject(Fault.not_json())
    response = post(client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_fault_constructors_check_their_status():
    with pytest.raises(ValueError):
        Fault.server_error(404)
    with pytest.raises(ValueError):
        Fault.status(200, "fine")


@pytest.mark.parametrize("code", [400, 403, 404])
def test_arbitrary_status(client, emulator, code):
    emulator.inject(Fault.status(code, "Enterprise access required"))
    response = post(client)
    assert response.status_code == code
    assert response.json() == {
        "error": httpx.codes.get_reason_phrase(code),
        "message": "Enterprise access required",
    }


def test_faults_are_consumed_in_order_after_auth(client, emulator):
    emulator.inject(Fault.server_error(502), Fault.status(403, "nope"))
    assert post_without_key(emulator, json={}).status_code == 401
    assert [post(client).status_code for _ in range(3)] == [502, 403, 200]
    assert emulator.pending_faults == 0


# -- generated data ----------------------------------------------------------------------------


def test_generator_is_deterministic(events):
    again = generate_events(seed=7, start_ms=OCT_1, end_ms=DEC_1 - 1, count=3000, users=40)
    assert again == events
    assert generate_events(8, OCT_1, DEC_1 - 1, 3000) != events
    assert len(events) == 3000
    stamps = timestamps(events)
    assert stamps == sorted(stamps)
    assert OCT_1 <= stamps[0] and stamps[-1] <= DEC_1 - 1


def test_generator_puts_billable_events_on_month_edges(events):
    by_ts = collections.defaultdict(list)
    for event in events:
        by_ts[int(event["timestamp"])].append(event)
    for edge in (OCT_1, NOV_1 - 1, NOV_1, DEC_1 - 1):
        assert any(
            event["kind"] == "Usage-based"
            and event["isChargeable"]
            and event["isTokenBasedCall"]
            and event["tokenUsage"]["totalCents"] > 0
            for event in by_ts[edge]
        ), edge


def test_generator_covers_the_awkward_cases(events):
    counts = collections.Counter(map(_key, events))
    assert max(counts.values()) >= 2  # identical twins
    assert set(KINDS) <= {event["kind"] for event in events}
    assert {"On-Demand", "usage-based", "USAGE_EVENT_KIND_USAGE_BASED"} <= set(KINDS)
    assert HOSTILE_MODEL not in {event["model"] for event in events}  # only with hostile=True
    emails = {event["userEmail"] for event in events}
    assert set(ODD_EMAILS) <= emails
    assert "zoë.müller@example.com" in emails
    assert 30 <= len(emails) <= 43
    accounts = {email for email, _, _ in SERVICE_ACCOUNTS}
    bots = [event for event in events if event["userEmail"] in accounts]
    assert bots and all(event["serviceAccountId"] not in ("null", None) for event in bots)
    assert all(
        event["serviceAccountId"] == "null"
        for event in events
        if event["userEmail"] not in accounts
    )
    assert any("tokenUsage" not in event for event in events)
    assert any(
        "tokenUsage" in event and "cacheWriteTokens" not in event["tokenUsage"] for event in events
    )
    usage_based = [event for event in events if event["kind"] == "Usage-based"]
    assert any(not event["isChargeable"] for event in usage_based)
    assert any(not event["isTokenBasedCall"] for event in usage_based)
    included = [event for event in events if event["kind"] == "Included in Business"]
    assert included and all(event["isChargeable"] for event in included)
    assert any(event.get("chargedCents", 0) > 0 for event in included)
    for extra in ("conversationId", "isFreeBugbot", "discountPercentOff"):
        assert any(extra in event for event in events), extra


def test_generator_spreads_volume_unevenly(events):
    per_user = collections.Counter(event["userEmail"] for event in events)
    top_five = sum(count for _, count in per_user.most_common(5))
    assert top_five > len(events) / 2


def test_generated_money_follows_the_price_list(events):
    for event in events:
        usage = event.get("tokenUsage")
        if usage is None:
            continue
        price = MODELS[event["model"]]
        buckets = [usage.get(name, 0) for name in _BUCKETS]
        cents = sum(n * p for n, p in zip(buckets, _prices(price), strict=True)) / 10_000
        assert usage["totalCents"] == pytest.approx(cents, abs=1e-6)
        fee = event.get("cursorTokenFee", 0)
        if price.first_party:
            assert fee == 0
        else:
            assert fee == pytest.approx(sum(buckets) * 0.000025, abs=1e-6)
        discount = event.get("discountPercentOff", 0)
        expected = usage["totalCents"] * (1 - discount / 100) + fee
        assert event["chargedCents"] == pytest.approx(expected, abs=2e-6)
        for money in (usage["totalCents"], fee, event["chargedCents"]):
            assert len(repr(float(money)).partition(".")[2]) <= 6


def test_generator_always_includes_the_fixed_cases_and_checks_its_arguments():
    tiny = generate_events(1, OCT_1, NOV_1 + DAY_MS, count=5, users=3, hostile=True)
    assert len(tiny) > 5
    assert HOSTILE_MODEL in {event["model"] for event in tiny}
    with pytest.raises(ValueError):
        generate_events(seed=1, start_ms=NOV_1, end_ms=OCT_1, count=5)


# -- python -m cursor_billing.emulator ---------------------------------------------------------


def test_module_help():
    result = subprocess.run(
        [sys.executable, "-m", "cursor_billing.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    assert "--port" in result.stdout and "--events-per-month" in result.stdout


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.skipif(os.name == "nt", reason="Ctrl-C is simulated with SIGINT")
@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["shell", "nohup"])
def test_module_serves_until_ctrl_c(ignore_sigint):
    """Also when started with SIGINT ignored, as `nohup ... &` (or a suite run that way) does."""
    command = [sys.executable, "-m", "cursor_billing.emulator", "--port", "0", "--months", "1"]
    command += ["--events-per-month", "100", "--api-key", "key_cli", "--rate-limit", "0"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint if ignore_sigint else None,
    )
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        base_url = lines[1].strip().removeprefix("export CURSOR_API_BASE_URL=")
        assert lines[2].strip() == "export CURSOR_API_KEY=key_cli"
        response = httpx.post(base_url + ENDPOINT, json={}, auth=("key_cli", ""))
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


_BUCKETS = ("inputTokens", "outputTokens", "cacheWriteTokens", "cacheReadTokens")


def _prices(price) -> tuple[float, float, float, float]:
    return (price.input, price.output, price.cache_write, price.cache_read)


def _key(event: dict) -> bytes:
    return msgspec.json.encode(event)
