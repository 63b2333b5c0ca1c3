"""The time-aware answers through the CLI with an injected clock (CURSOR_BILLING_NOW): the
forecast of the month in progress, the same-days change, and the month states at boundaries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cursor_billing.months import Month, epoch_ms
from tests.helpers import usage_event, write_cache_file
from tests.test_fetch import emulator_env, month_events  # noqa: F401  (a fixture)
from tests.time_aware import clock, hourly_events, month_start, write_steady_months

UTC = ZoneInfo("UTC")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def analysis(cli, as_of: datetime, zone: ZoneInfo = UTC) -> dict:
    if zone != UTC:
        (__import__("pathlib").Path("config.yaml")).write_text(
            f'billing:\n  timezone: "{zone.key}"\n'
        )
    result = cli("analyze", "--json", env=clock(as_of))
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout, parse_float=Decimal)


@pytest.mark.parametrize("zone", [UTC, LOS_ANGELES], ids=["UTC", "Los_Angeles"])
@pytest.mark.parametrize(
    ("day", "hours"),
    [(1, 5), (1, 20), (10, 13), (28, 9)],
    ids=["day1-5h", "day1-20h", "day10", "day28"],
)
def test_the_forecast_is_within_10_percent_of_the_real_month(cli, isolated, zone, day, hours):
    current = Month(2026, 3)
    as_of = datetime(2026, 3, day, hours, tzinfo=zone)
    real = write_steady_months(isolated / "data", current, as_of, zone=zone)
    forecast = analysis(cli, as_of, zone)["forecast"]
    assert forecast["month"] == "03-2026"
    assert abs(forecast["projected_cents"] - real) <= real / 10, (forecast, real)
    assert forecast["low_cents"] <= forecast["projected_cents"] <= forecast["high_cents"]
    assert forecast["users"][0]["email"] == "ada@example.com"
    assert forecast["users"][0]["projected_cents"] == forecast["projected_cents"]


def test_without_the_month_before_a_young_month_is_spread_over_its_elapsed_time(cli, isolated):
    as_of = datetime(2026, 3, 1, 6, tzinfo=timezone.utc)  # a Sunday, 6 hours in
    write_steady_months(isolated / "data", Month(2026, 3), as_of, previous_months=0)
    forecast = analysis(cli, as_of)["forecast"]
    mtd = forecast["month_to_date_cents"]
    assert mtd == 6 * 200  # weekend: $2 an hour
    assert forecast["projected_cents"] == mtd * 31 * 4  # 6 hours are a quarter of a day
    assert forecast["same_days_last_month_cents"] is None


def test_weekdays_and_weekends_have_their_own_rate(cli, isolated):
    # Wednesday 2026-03-18 at noon: 14 full days before it, 10 weekdays and 4 weekend days.
    as_of = datetime(2026, 3, 18, 12, tzinfo=timezone.utc)
    real = write_steady_months(isolated / "data", Month(2026, 3), as_of)
    forecast = analysis(cli, as_of)["forecast"]
    # A steady rate: the forecast is the real month exactly, to the cent.
    assert forecast["projected_cents"] == real
    assert forecast["low_cents"] == forecast["high_cents"] == real


def test_the_range_follows_the_20th_and_80th_percentiles(cli, isolated):
    data = isolated / "data"
    # 14 weekdays of February 2026 (2–19) cost 100, 200, …, 1400 cents, nothing on weekends.
    days = [d for d in range(1, 29) if datetime(2026, 2, d).weekday() < 5]
    events = [
        usage_event(
            epoch_ms(datetime(2026, 2, d, 12, tzinfo=timezone.utc)), cents=100 * (i + 1), fee=0
        )
        for i, d in enumerate(days)
    ]
    write_cache_file(data, "02-2026", events)
    as_of = datetime(2026, 3, 1, 0, tzinfo=timezone.utc)  # the month began this very moment
    write_cache_file(
        data,
        "03-2026",
        [],
        complete=False,
        covered={"start_ms": epoch_ms(as_of), "end_ms": epoch_ms(as_of) - 1},
    )
    forecast = analysis(cli, as_of)["forecast"]
    # The 14 days before 1 March: 15–28 Feb; weekdays 16–20 and 23–27 Feb are the last 10
    # weekdays (values 1000–1900 → indices 9–18 of the list), weekends nothing.
    weekday_values = sorted(100 * (days.index(d) + 1) for d in days if d >= 16)
    assert len(weekday_values) == 10
    mean = Decimal(sum(weekday_values)) / 10
    p20 = _percentile(weekday_values, Decimal("0.2"))
    p80 = _percentile(weekday_values, Decimal("0.8"))
    weekdays_in_march = sum(1 for d in range(1, 32) if datetime(2026, 3, d).weekday() < 5)
    assert forecast["projected_cents"] == mean * weekdays_in_march
    assert forecast["low_cents"] == p20 * weekdays_in_march
    assert forecast["high_cents"] == p80 * weekdays_in_march


def _percentile(values: list[int], q: Decimal) -> Decimal:
    position = q * (len(values) - 1)
    below = int(position)
    return values[below] + (values[below + 1] - values[below]) * (position - below)


@pytest.mark.parametrize("zone", [UTC, LOS_ANGELES], ids=["UTC", "Los_Angeles"])
def test_the_same_days_change_equals_an_independent_computation(cli, isolated, zone):
    data = isolated / "data"
    # February: a different spend every hour, so the prorated day matters.
    feb, mar = Month(2026, 2), Month(2026, 3)
    events, moment = [], month_start(feb, zone)
    hour = 0
    while moment < month_start(mar, zone):
        events.append(
            usage_event(epoch_ms(moment + timedelta(minutes=1)), cents=hour % 7 + 1, fee=0)
        )
        moment += timedelta(hours=1)
        hour += 1
    write_cache_file(
        data,
        "02-2026",
        events,
        timezone=zone.key,
        covered={"start_ms": feb.start_ms(zone), "end_ms": feb.end_ms(zone)},
    )
    as_of = datetime(2026, 3, 5, 18, tzinfo=zone)
    current = hourly_events(month_start(mar, zone), as_of, zone=zone)
    write_cache_file(
        data,
        "03-2026",
        current,
        complete=False,
        timezone=zone.key,
        covered={"start_ms": mar.start_ms(zone), "end_ms": epoch_ms(as_of) - 1},
    )
    doc = analysis(cli, as_of, zone)

    # Independently: February's first 4 days whole, then 18/24 of its 5th day's spend.
    def spend(start: datetime, end: datetime) -> Decimal:
        return sum(
            (
                Decimal(e["tokenUsage"]["totalCents"])
                for e in events
                if epoch_ms(start) <= int(e["timestamp"]) < epoch_ms(end)
            ),
            Decimal(0),
        )

    whole = spend(month_start(feb, zone), datetime(2026, 2, 5, tzinfo=zone))
    fifth = spend(datetime(2026, 2, 5, tzinfo=zone), datetime(2026, 2, 6, tzinfo=zone))
    expected = whole + fifth * Decimal(18) / 24
    march = doc["monthly_trend"][-1]
    mtd = sum((Decimal(str(e["tokenUsage"]["totalCents"])) for e in current), Decimal(0))
    assert march["delta_basis"] == "same_days"
    assert march["status"] == "in_progress"
    assert abs(march["delta_cents"] - (mtd - expected)) < Decimal("0.000001")
    assert abs(doc["forecast"]["same_days_last_month_cents"] - expected) < Decimal("0.000001")
    assert doc["monthly_trend"][0]["delta_basis"] == "month"


@pytest.mark.parametrize("zone", [UTC, LOS_ANGELES], ids=["UTC", "Los_Angeles"])
@pytest.mark.parametrize(
    ("fetched_hours_after_end", "now_hours_after_end", "status", "basis"),
    [
        (None, -3, "in_progress", "same_days"),  # fetched 3 h before the end, still November
        (None, 8, "closing", "month"),  # the same file read 8 h into December
        (25, 30, "complete", "month"),  # fetched a day after the end
    ],
)
def test_month_states_at_the_boundary(
    cli, isolated, zone, fetched_hours_after_end, now_hours_after_end, status, basis
):
    data = isolated / "data"
    oct_, nov = Month(2026, 10), Month(2026, 11)
    end = month_start(Month(2026, 12), zone)
    write_cache_file(
        data,
        "10-2026",
        hourly_events(month_start(oct_, zone), month_start(nov, zone), zone=zone),
        timezone=zone.key,
        covered={"start_ms": oct_.start_ms(zone), "end_ms": oct_.end_ms(zone)},
    )
    covered_end = end - timedelta(hours=3) if fetched_hours_after_end is None else end
    write_cache_file(
        data,
        "11-2026",
        hourly_events(month_start(nov, zone), covered_end, zone=zone),
        complete=fetched_hours_after_end is not None,
        timezone=zone.key,
        covered={"start_ms": nov.start_ms(zone), "end_ms": epoch_ms(covered_end) - 1},
    )
    now = end + timedelta(hours=now_hours_after_end)
    doc = analysis(cli, now, zone)
    november = doc["monthly_trend"][-1]
    assert (november["status"], november["delta_basis"]) == (status, basis)
    assert (doc["forecast"] is not None) == (status == "in_progress")
    if status == "closing":  # a month, compared whole, and no "partial" in the terminal
        result = cli("analyze", env={**clock(now), "NO_COLOR": "1"})
        assert "11-2026 (closing)" in result.stdout
        assert "partial" not in result.stdout
        assert "still being fetched" not in result.stdout


def test_report_prints_the_headline_with_the_forecast_first(cli, isolated):
    as_of = datetime(2026, 3, 10, 15, tzinfo=timezone.utc)
    write_steady_months(isolated / "data", Month(2026, 3), as_of)
    result = cli("report", env={**clock(as_of), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == (
        "On-demand spend 02-2026: $5,184.00 (list price). 03-2026 so far $1,734.00, on pace for "
        "$5,712 ($5,712–$5,712), 0 % on the same days of 02-2026."
    )


def test_the_headline_of_ended_months_is_their_total(cli, isolated):
    data = isolated / "data"
    write_cache_file(
        data,
        "01-2026",
        [usage_event(epoch_ms(datetime(2026, 1, 5, tzinfo=timezone.utc)), cents=100, fee=0)],
    )
    write_cache_file(
        data,
        "02-2026",
        [usage_event(epoch_ms(datetime(2026, 2, 5, tzinfo=timezone.utc)), cents=150, fee=0)],
    )
    result = cli("report", env=clock(datetime(2026, 3, 10, tzinfo=timezone.utc)))
    assert result.stdout.splitlines()[0] == (
        "On-demand spend 01-2026 to 02-2026: $2.50 (list price)."
    )


def test_fetch_ends_with_the_headline_on_stderr(cli, emulator_env):  # noqa: F811
    emulator_env(month_events(Month(2026, 1)))
    result = cli(
        "fetch", "--month", "01-2026", env=clock(datetime(2026, 3, 1, tzinfo=timezone.utc))
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "On-demand spend 01-2026: $" in result.stderr
    assert "(list price)." in result.stderr
