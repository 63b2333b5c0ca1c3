"""Both cost bases end to end and `cursor-billing reconcile` (SPEC §7, §10), against the bundled
emulator over real HTTP on loopback. Every expected number is computed here, plainly, from the
events the emulator serves: never from the code under test."""

from __future__ import annotations

import collections
import json
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from cursor_billing.client import AdminApiClient, MalformedAnswer, Throttle, parse_spend_page
from cursor_billing.emulator import SPEND_ENDPOINT, Emulator, Fault, generate
from cursor_billing.ledger import Ledger, fold_month
from cursor_billing.months import Month
from cursor_billing.views.reconcile import compare_spend, member_status
from tests.helpers import usage_event

KEY = "key_test_reconcile"
DAY_MS = 86_400_000
UTC = ZoneInfo("UTC")
SCHEMA = json.loads(
    (Path(__file__).parent.parent / "docs/schemas/reconcile.schema.json").read_text()
)
FAST_CONFIG = """billing:
  request_delay_seconds: 0
  backoff_base_seconds: 0.001
  max_retries: 2
  timeout_seconds: 5
"""
ON_DEMAND = {"usage-based", "on-demand", "usage_event_kind_usage_based"}
MICRO = Decimal("0.000001")


# -- a plain reading of the events -------------------------------------------------------------


def is_on_demand(event: dict) -> bool:
    kind = event["kind"] if "kind" in event else event.get("kindLabel", "")
    return event.get("isChargeable") is True and kind.lower() in ON_DEMAND


def list_cents(event: dict) -> Decimal:
    usage = event.get("tokenUsage") or {}
    return Decimal(str(usage.get("totalCents", 0))) + Decimal(str(event.get("cursorTokenFee", 0)))


def charged_cents(event: dict) -> Decimal:
    if "chargedCents" in event:
        return Decimal(str(event["chargedCents"]))
    return list_cents(event)


def plain_totals(events: list[dict]) -> dict[str, Decimal]:
    on_demand = [e for e in events if is_on_demand(e)]
    return {
        "list": sum((list_cents(e) for e in on_demand if e["isTokenBasedCall"]), Decimal(0)),
        "charged": sum((charged_cents(e) for e in on_demand), Decimal(0)),
    }


def plain_cycle_spend(events: list[dict], cycle_start_ms: int) -> dict[str, Decimal]:
    spend: dict[str, Decimal] = collections.defaultdict(Decimal)
    for event in events:
        if is_on_demand(event) and int(event["timestamp"]) >= cycle_start_ms:
            spend[event["userEmail"]] += charged_cents(event)
    return spend


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(MICRO)


# -- a team served by the emulator, with the CLI pointed at it ---------------------------------


@pytest.fixture
def team(isolated, monkeypatch):
    """`team(request_based=0.0, **emulator_options)`: 40 days of a team's usage up to the real
    now (the CLI's clock), a billing cycle that began 17 days ago at an odd instant of a day."""
    started: list[Emulator] = []

    def start(request_based: float = 0.0, **options) -> Emulator:
        now_ms = int(time.time() * 1000)
        data = generate(
            11, now_ms - 40 * DAY_MS, now_ms, 2400, users=12, request_based=request_based
        )
        cycle_start = now_ms - 17 * DAY_MS + 3_600_000 + 4_321
        emulator = Emulator(
            data.events,
            api_key=KEY,
            team=data.team,
            cycle_start_ms=cycle_start,
            rate_limit=None,
            admin_rate_limit=None,
            **options,
        )
        emulator.start()
        started.append(emulator)
        monkeypatch.setenv("CURSOR_API_KEY", KEY)
        monkeypatch.setenv("CURSOR_API_BASE_URL", emulator.base_url)
        (isolated / "config.yaml").write_text(FAST_CONFIG)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


def served_events(emulator: Emulator) -> list[dict]:
    return emulator.events_between(0, 2**62)


def fetch_all(cli, emulator: Emulator):
    events = served_events(emulator)
    first, last = int(events[0]["timestamp"]), int(events[-1]["timestamp"])
    months = [Month.containing(_utc(first))]
    while months[-1] < Month.containing(_utc(last)):
        months.append(months[-1].next())
    args = [arg for month in months for arg in ("--month", month.label)]
    result = cli("fetch", *args)
    assert result.exit_code == 0, result.stderr
    return result


def _utc(ms: int):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ms / 1000, timezone.utc)


def reconcile_json(cli) -> tuple[int, dict, str]:
    result = cli("reconcile", "--json")
    document = json.loads(result.stdout, parse_float=Decimal)
    jsonschema.validate(json.loads(result.stdout), SCHEMA)
    return result.exit_code, document, result.stderr


# -- both bases ---------------------------------------------------------------------------------


@pytest.mark.parametrize("request_based", [0.0, 1.0], ids=["token-based", "request-based"])
def test_analyze_totals_on_both_bases_equal_a_plain_sum_of_the_served_events(
    cli, team, isolated, request_based
):
    emulator = team(request_based)
    fetch_all(cli, emulator)
    expected = plain_totals(served_events(emulator))
    assert expected["charged"] > 1000
    result = cli("analyze", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout, parse_float=Decimal)
    totals = document["summary"]["totals_by_basis"]
    assert cents(totals["list"]) == cents(expected["list"])
    assert cents(totals["charged"]) == cents(expected["charged"])
    assert cents(document["summary"]["total_cost_cents"]) == cents(expected["list"])
    on_demand = [e for e in served_events(emulator) if is_on_demand(e)]
    left_out = [e for e in on_demand if not e["isTokenBasedCall"]]
    assert document["summary"]["not_counted"]["events"] == len(left_out)
    if request_based:
        assert expected["list"] == 0 and len(left_out) == len(on_demand) > 100
    else:
        assert 0 < len(left_out) < 5  # the generator's one fixture of every kind of call
    dollars = (sum(map(charged_cents, left_out), Decimal(0)) / 100).quantize(Decimal("0.01"))
    many = len(left_out) > 1
    assert (
        f"Warning: {len(left_out):,} request-based on-demand event{'s' if many else ''}, "
        f"${dollars:,} charged, {'are' if many else 'is'} not counted with cost_basis: list; "
        "set cost_basis: charged"
    ) in " ".join(result.stderr.split())
    (isolated / "config.yaml").write_text(FAST_CONFIG + '  cost_basis: "charged"\n')
    charged = cli("analyze", "--json")
    document = json.loads(charged.stdout, parse_float=Decimal)
    assert cents(document["summary"]["total_cost_cents"]) == cents(expected["charged"])
    assert document["summary"]["not_counted"]["events"] == 0
    assert "not counted" not in charged.stderr


def test_kind_label_events_give_the_same_cache_and_analysis_as_kind(
    cli, team, isolated, monkeypatch
):
    # One clock for both fetches and analyses: the same covered range, the same forecast.
    moment = datetime.now(timezone.utc).replace(microsecond=0)
    monkeypatch.setenv("CURSOR_BILLING_NOW", moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
    with_kind = team(0.3)
    fetch_all(cli, with_kind)
    folder = isolated / "data" / "monthly_usage_data"
    cached_kind = {p.name: json.loads(p.read_text())["events"] for p in folder.glob("*.json")}
    analysis_kind = json.loads(cli("analyze", "--json").stdout)
    with_label = Emulator(
        served_events(with_kind),
        api_key=KEY,
        team=with_kind.team,
        rate_limit=None,
        admin_rate_limit=None,
        kind_label=True,
    )
    with with_label:
        with_kind.stop()
        monkeypatch.setenv("CURSOR_API_BASE_URL", with_label.base_url)
        other = isolated / "label-data"
        result = cli("fetch", "--data-dir", str(other), *months_args(cached_kind))
        assert result.exit_code == 0, result.stderr
        # `--data-dir` after `analyze` too: the same months, read from the kindLabel cache.
        analysis_label = json.loads(cli("analyze", "--json", "--data-dir", str(other)).stdout)
    cached_label = {
        p.name: json.loads(p.read_text())["events"]
        for p in (other / "monthly_usage_data").glob("*.json")
    }
    assert cached_label.keys() == cached_kind.keys()
    for name, events in cached_label.items():
        assert events and all("kind" not in e and "kindLabel" in e for e in events)
        renamed = [{("kind" if k == "kindLabel" else k): v for k, v in e.items()} for e in events]
        assert sorted(map(canonical, renamed)) == sorted(map(canonical, cached_kind[name]))
    assert analysis_label == analysis_kind
    assert analysis_kind["summary"]["totals_by_basis"]["charged"] > 1000


def months_args(cached: dict[str, list]) -> list[str]:
    labels = sorted(name.split("-usage")[0] for name in cached)
    return [arg for label in labels for arg in ("--month", label)]


def canonical(event: dict) -> str:
    return json.dumps(event, sort_keys=True)


# -- reconcile ------------------------------------------------------------------------------------


@pytest.mark.parametrize("request_based", [0.0, 1.0], ids=["token-based", "request-based"])
def test_reconcile_matches_every_member_from_the_cycle_instant_on(cli, team, request_based):
    emulator = team(request_based)
    cycle_start, _ = emulator.cycle()
    events = served_events(emulator)
    # The cycle starts at an instant: the same day holds on-demand money from before it, which
    # a day-based cut would count.
    day_start = cycle_start - cycle_start % DAY_MS
    before = [
        e
        for e in events
        if is_on_demand(e)
        and day_start <= int(e["timestamp"]) < cycle_start
        and charged_cents(e) > 0
    ]
    assert before
    code, document, stderr = reconcile_json(cli)
    assert code == 0, stderr
    assert document["ok"] is True
    assert document["cycle_start"] == _utc(cycle_start).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    expected = plain_cycle_spend(events, cycle_start)
    by_email = {m["email"]: m for m in document["members"]}
    assert {email for email, spent in expected.items() if spent} <= set(by_email)
    for email, member in by_email.items():
        assert member["status"] == "match", member
        assert cents(member["cache_cents"]) == cents(expected.get(email, 0)), email
        assert cents(member["api_cents"]) == cents(expected.get(email, 0)), email
        assert member["diff_cents"] == 0
    total = sum(expected.values(), Decimal(0))
    assert total > 500
    assert cents(document["totals"]["api_cents"]) == cents(total)
    assert cents(document["totals"]["cache_cents"]) == cents(total)
    # The cache now holds the cycle's months, as `fetch` would have left them.
    assert "Fetch summary" in stderr
    requests = [r for r in emulator.requests if r.path == SPEND_ENDPOINT]
    assert requests and requests[0].body["page"] == 1


def test_a_member_five_dollars_off_is_named_and_exits_4(cli, team):
    emulator = team(0.0)
    spend = plain_cycle_spend(served_events(emulator), emulator.cycle()[0])
    victim = max(spend, key=spend.__getitem__)
    emulator.skew_spend(victim, 500)
    code, document, _ = reconcile_json(cli)
    assert code == 4
    assert document["ok"] is False
    findings = [m for m in document["members"] if m["status"] != "match"]
    assert [m["email"] for m in findings] == [victim]
    assert findings[0]["status"] == "mismatch"
    assert cents(findings[0]["diff_cents"]) == Decimal(-500)
    assert cents(document["totals"]["diff_cents"]) == Decimal(-500)
    table = cli("reconcile")
    assert table.exit_code == 4
    assert victim in table.stdout and "MISMATCH" in table.stdout
    assert "Cursor aggregates usage hourly" in " ".join(table.stdout.split())
    assert "Total, " in table.stdout and "-$5.00" in table.stdout


def test_a_member_with_spend_and_no_cached_events_is_api_only(cli, team):
    emulator = team(1.0)
    emulator.skew_spend("ghost@example.com", "12.5")
    code, document, _ = reconcile_json(cli)
    assert code == 4
    ghost = next(m for m in document["members"] if m["email"] == "ghost@example.com")
    assert ghost == {
        "email": "ghost@example.com",
        "api_cents": Decimal("12.5"),
        "cache_cents": 0,
        "diff_cents": Decimal("-12.5"),
        "status": "api_only",
    }
    assert all(m["status"] == "match" for m in document["members"] if m is not ghost)


def test_reconcile_retries_a_malformed_spend_page_and_refuses_a_bad_key(cli, team, monkeypatch):
    emulator = team(0.0)
    emulator.inject(Fault.not_json(), path=SPEND_ENDPOINT)
    code, document, stderr = reconcile_json(cli)
    assert code == 0, stderr
    assert len([r for r in emulator.requests if r.path == SPEND_ENDPOINT]) >= 2
    monkeypatch.setenv("CURSOR_API_KEY", "key_wrong")
    result = cli("reconcile")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: the API refused the key (HTTP 401)")
    assert "key_wrong" not in result.stderr + result.stdout
    monkeypatch.delenv("CURSOR_API_KEY")
    result = cli("reconcile")
    assert result.exit_code == 2 and result.stderr.startswith("Error: no API key")


def test_team_spend_reads_every_page(team):
    emulator = team(0.0)
    client = AdminApiClient(emulator.base_url, KEY, throttle=Throttle(0))
    with client:
        spend = client.team_spend(page_size=4)
    members = emulator.members()
    assert sorted(m.email for m in spend.members) == sorted(m.email for m in members)
    pages = [r.body for r in emulator.requests if r.path == SPEND_ENDPOINT]
    assert [body["page"] for body in pages] == list(range(1, -(-len(members) // 4) + 1))
    assert {body["sortBy"] for body in pages} == {"user"}  # a stable order while spend lands
    assert spend.cycle_start_ms == emulator.cycle()[0]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"subscriptionCycleStart": 1, "totalPages": 1}', "$.teamMemberSpend is missing"),
        (
            b'{"teamMemberSpend": [{"email": "a@x.com"}], "subscriptionCycleStart": 1,'
            b' "totalPages": 1}',
            "$.teamMemberSpend[0].spendCents is missing",
        ),
        (
            b'{"teamMemberSpend": [{"email": "a@x.com", "spendCents": "5"}],'
            b' "subscriptionCycleStart": 1, "totalPages": 1}',
            "$.teamMemberSpend[0].spendCents is a string, not a number",
        ),
        (b'{"teamMemberSpend": [], "totalPages": 1}', "$.subscriptionCycleStart is missing"),
        (b"<html>proxy</html>", "not JSON"),
    ],
)
def test_a_spend_page_that_is_not_one_names_the_field(body, named):
    with pytest.raises(MalformedAnswer, match=named.replace("[", r"\[").replace("$", r"\$")):
        parse_spend_page(body)


# -- the comparison and the fold, by hand ----------------------------------------------------------


def test_fold_month_since_counts_events_at_or_after_the_instant():
    month = Month(2026, 3)
    start = month.start_ms(UTC) + 5 * DAY_MS + 1234
    events = [usage_event(start - 1, cents=1), usage_event(start, cents=2), usage_event(start + 9)]
    from cursor_billing.events import UsageEvent

    decoded = [UsageEvent.from_raw(e) for e in events]
    whole = fold_month(month, decoded, UTC)
    since = fold_month(month, decoded, UTC, since_ms=start)
    assert sum(r.requests for r in whole.rows) == 3
    assert sum(r.requests for r in since.rows) == 2
    assert sum(r.charged_cents for r in since.rows) == Decimal("2.25") + Decimal("1.75")


def test_tolerance_and_statuses():
    assert member_status(Decimal(1000), Decimal(1005)) == "match"  # 0.5 % of $10
    assert member_status(Decimal(1000), Decimal("1005.01")) == "mismatch"
    assert member_status(Decimal(10), Decimal(11)) == "match"  # a cent
    assert member_status(Decimal(10), Decimal("11.01")) == "mismatch"
    assert member_status(Decimal(300), None) == "api_only"
    assert member_status(Decimal("0.5"), None) == "match"
    assert member_status(None, Decimal(300)) == "cache_only"
    assert member_status(None, Decimal(0)) == "match"


def test_compare_spend_matches_emails_in_any_case_and_finds_cache_only_members():
    from datetime import datetime, timezone

    from cursor_billing.events import UsageEvent

    month = Month(2026, 3)
    stamp = month.start_ms(UTC) + DAY_MS
    events = [
        usage_event(stamp, email="Ana@Example.com", cents=300, fee=0, chargedCents=250),
        usage_event(stamp, email="bo@example.com", cents=40, fee=0),
    ]
    ledger = Ledger("UTC", (fold_month(month, [UsageEvent.from_raw(e) for e in events], UTC),))
    moment = datetime(2026, 3, 1, tzinfo=timezone.utc)
    result = compare_spend({"ana@example.com": Decimal(250)}, ledger, moment, moment)
    assert [(m.email, m.status, m.diff_cents) for m in result.members] == [
        ("ana@example.com", "match", Decimal(0)),
        ("bo@example.com", "cache_only", Decimal(40)),
    ]
    assert (result.totals.api_cents, result.totals.cache_cents) == (Decimal(250), Decimal(290))
    assert result.ok is False


def test_the_documented_example_follows_the_schema():
    page = (Path(__file__).parent.parent / "docs/json.md").read_text()
    section = page[page.index("## `reconcile --json`") :]
    example = section[section.index("```json") + len("```json") : section.index("```\n\n")]
    jsonschema.validate(json.loads(example), SCHEMA)
    broken = json.loads(example)
    broken["members"][0]["status"] = "close enough"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
