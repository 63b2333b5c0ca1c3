"""`cursor-billing analyze` through the CLI: tables, `--json`, month filters and bad input."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest

from cursor_billing.months import Month
from tests.helpers import usage_event, write_cache_file
from tests.test_fetch import FAST_CONFIG, KEY, UTC, month_events


def document(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout, parse_float=Decimal)


@pytest.fixture
def three_months(isolated):
    data = isolated / "data"
    write_cache_file(data, "12-2025", [usage_event(1764547200000, "ada@example.com", cents=100)])
    write_cache_file(
        data, "01-2026", [usage_event(1767225600000, "bob@example.com", cents=50, fee=0.125)]
    )
    write_cache_file(data, "02-2026", [], complete=False)
    return data


def test_json_is_the_only_thing_on_stdout(cli, three_months):
    doc = document(cli("analyze", "--json"))
    assert doc["months"] == ["12-2025", "01-2026", "02-2026"]
    assert doc["summary"]["total_cost_cents"] == Decimal("150.375")
    assert doc["summary"]["current_month"] == "02-2026"
    assert [row["complete"] for row in doc["monthly_trend"]] == [True, True, False]
    assert doc["monthly_trend"][2]["delta_pct"] == Decimal("-100")


@pytest.mark.parametrize(
    ("args", "months"),
    [
        (["--month", "01-2026"], ["01-2026"]),
        (["--month", "02-2026", "--month", "12-2025"], ["12-2025", "02-2026"]),
        (["--since", "01-2026"], ["01-2026", "02-2026"]),
        (["--until", "01-2026"], ["12-2025", "01-2026"]),
        (["--since", "01-2026", "--until", "01-2026"], ["01-2026"]),
    ],
)
def test_month_filters(cli, three_months, args, months):
    assert document(cli("analyze", "--json", *args))["months"] == months


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "'2026-13' is not a month"),
        (["--month", "2026-03"], "not cached: 03-2026"),  # YYYY-MM is a month too (SPEC §2)
        (["--month", "03-2026"], "not cached: 03-2026"),
        (["--since", "02-2026", "--until", "01-2026"], "--since 02-2026 is after --until 01-2026"),
        (["--since", "05-2026"], "no cached month between 05-2026 and the last"),
        (["--month", "01-2026", "--since", "12-2025"], "either --month or --since/--until"),
        (["--top", "0"], "Invalid value for '--top'"),
    ],
)
def test_bad_filters_exit_2(cli, three_months, args, message):
    result = cli("analyze", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_no_cache_exits_1_with_the_fetch_hint(cli):
    result = cli("analyze")
    assert result.exit_code == 1
    assert "no cached months" in result.stderr
    assert "cursor-billing fetch" in result.stderr


def test_a_corrupt_month_is_never_skipped(cli, three_months):
    path = three_months / "monthly_usage_data" / "01-2026-usage-based-data.json"
    path.write_text("{not json")
    result = cli("analyze", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert str(path.name) in result.stderr
    assert "cursor-billing cache purge --month 01-2026" in result.stderr


def test_tables_on_an_80_column_terminal_without_colour(cli, three_months):
    result = cli("analyze", env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    for text in ("ada@example.com", "$1.00", "02-2026 (closing)"):
        assert text in result.stdout
    assert "\x1b[" not in result.stdout


def test_top_limits_the_rows(cli, three_months):
    result = cli("analyze", "--top", "1", env={"COLUMNS": "100"})
    assert "ada@example.com" in result.stdout
    assert "bob@example.com" not in result.stdout.split("Top 1 of 2 users")[1].split("\n\n")[0]


def test_fetch_then_analyze_matches_a_plain_computation(cli, isolated, monkeypatch):
    from cursor_billing.emulator import Emulator

    months = [Month(2026, 1), Month(2026, 2)]
    events = month_events(months[0], 1500, seed=21) + month_events(months[1], 1500, seed=22)
    with Emulator(events, api_key=KEY, rate_limit=None) as emulator:
        monkeypatch.setenv("CURSOR_API_KEY", KEY)
        monkeypatch.setenv("CURSOR_API_BASE_URL", emulator.base_url)
        (isolated / "config.yaml").write_text(FAST_CONFIG)
        assert cli("fetch", "--month", "01-2026", "--month", "02-2026").exit_code == 0
    doc = document(cli("analyze", "--json"))

    by_user: dict[str, Decimal] = defaultdict(Decimal)
    by_model: dict[str, Decimal] = defaultdict(Decimal)
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    requests = 0
    for event in events:
        kind = event["kind"].lower()
        if kind not in ("usage-based", "on-demand", "usage_event_kind_usage_based"):
            continue
        if not (event["isChargeable"] and event["isTokenBasedCall"]):
            continue
        timestamp = int(event["timestamp"])
        month = next((m for m in months if m.start_ms(UTC) <= timestamp <= m.end_ms(UTC)), None)
        if month is None:
            continue
        cost = Decimal(str(event.get("tokenUsage", {}).get("totalCents", 0)))
        cost += Decimal(str(event.get("cursorTokenFee", 0)))
        by_user[event["userEmail"]] += cost
        by_model[event["model"]] += cost
        by_month[month.label] += cost
        requests += 1

    assert doc["summary"]["total_requests"] == requests
    assert doc["summary"]["total_cost_cents"] == sum(by_month.values())
    assert {u["email"]: u["cost_cents"] for u in doc["users"]} == by_user
    assert {m["model"]: m["cost_cents"] for m in doc["models"]} == by_model
    assert {t["month"]: t["cost_cents"] for t in doc["monthly_trend"]} == by_month
    top = max(by_user.items(), key=lambda item: (item[1], [-ord(c) for c in item[0]]))
    assert doc["summary"]["top_spender"] == top[0]


def test_a_month_missing_in_the_middle_is_warned_about(cli, three_months):
    (three_months / "monthly_usage_data" / "01-2026-usage-based-data.json").unlink()
    result = cli("analyze", "--json")
    assert document(result)["months"] == ["12-2025", "02-2026"]
    assert "not cached: 01-2026" in result.stderr


def test_a_future_month_says_so(cli, three_months):
    result = cli("analyze", "--month", "12-2999")
    assert result.exit_code == 2
    assert "12-2999 is in the future" in result.stderr


def test_months_fetched_in_another_zone_are_reported_in_that_zone(cli, three_months, isolated):
    (isolated / "config.yaml").write_text("billing:\n  timezone: America/New_York\n")
    result = cli("analyze", "--json")
    assert document(result)["timezone"] == "UTC"
    assert "fetched in time zone UTC, not America/New_York" in result.stderr
    write_cache_file(three_months, "03-2026", [], timezone="Europe/Paris")
    mixed = cli("analyze", "--json")
    assert mixed.exit_code == 2
    assert "different time zones (Europe/Paris, UTC)" in mixed.stderr


def test_values_of_unexpected_types_count_as_zero_with_a_warning(cli, isolated):
    event = usage_event(1767225600000, cents=5, fee=0.5)
    event["tokenUsage"]["totalCents"] = "abc"
    write_cache_file(isolated / "data", "01-2026", [event, usage_event(1767225600001, cents=2)])
    result = cli("analyze", "--json")
    assert document(result)["summary"]["total_cost_cents"] == Decimal("2.75")
    assert "unexpected type" in result.stderr and "count as 0" in result.stderr


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf"])
def test_a_cost_that_is_not_a_finite_number_counts_as_0_with_a_warning(cli, isolated, value):
    event = usage_event(1767225600000, cents=5)
    event["cursorTokenFee"] = value  # the fast decoder reads decimal strings too
    write_cache_file(isolated / "data", "01-2026", [event, usage_event(1767225600001)])
    result = cli("analyze", "--json")
    assert result.exit_code == 0
    # 5 + a fee counted as 0, and 1.5 + 0.25
    assert document(result)["summary"]["total_cost_cents"] == Decimal("6.75")
    assert "01-2026: 1 event(s) with a cost that is not a finite number" in result.stderr
    listing = cli("cache", "ls", "--json")
    assert listing.exit_code == 0
    assert json.loads(listing.stdout)[0]["cost_cents"] == 6.75
    assert "01-2026: 1 event(s)" in listing.stderr
    assert cli("report").exit_code == 0


def test_charged_cents_as_text_counts_the_same_in_every_file(cli, isolated):
    event = usage_event(1767225600000, cents=5, chargedCents="7")
    odd = usage_event(1767225600001, cents=1, isChargeable=True, chargedCents="2")
    write_cache_file(isolated / "data", "01-2026", [event])
    odd_file = dict(odd, isTokenBasedCall="yes")  # forces the tolerant reader for 02-2026
    write_cache_file(
        isolated / "data", "02-2026", [dict(event, timestamp="1769904000000"), odd_file]
    )
    (isolated / "config.yaml").write_text("billing:\n  cost_basis: charged\n")
    trend = document(cli("analyze", "--json"))["monthly_trend"]
    # SPEC v2: `charged` counts the on-demand event that is not a token-based call too
    assert [row["cost_cents"] for row in trend] == [Decimal(7), Decimal(9)]
