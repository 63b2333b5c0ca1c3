"""Builders for the time-aware tests: cache files with a known, steady spend per hour, and a
CLI clock (CURSOR_BILLING_NOW)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from cursor_billing.months import Month, epoch_ms
from tests.helpers import usage_event, write_cache_file

UTC = ZoneInfo("UTC")
WEEKDAY_CENTS = 24_000  # per user and weekday: $10 an hour
WEEKEND_CENTS = 4_800  # per user and weekend day: $2 an hour


def hourly_events(
    start: datetime,
    end: datetime,
    users: tuple[str, ...] = ("ada@example.com",),
    weekday_cents: int = WEEKDAY_CENTS,
    weekend_cents: int = WEEKEND_CENTS,
    zone: ZoneInfo = UTC,
) -> list[dict]:
    """One event per user in the middle of each hour in [start, end): a steady rate, weekdays
    and weekend days (in `zone`) apart."""
    events = []
    moment = start
    while moment < end:
        local = (moment + timedelta(minutes=30)).astimezone(zone)
        cents = (weekend_cents if local.weekday() >= 5 else weekday_cents) / 24
        for email in users:
            events.append(
                usage_event(epoch_ms(moment + timedelta(minutes=30)), email, cents=cents, fee=0)
            )
        moment += timedelta(hours=1)
    return events


def month_start(month: Month, zone: ZoneInfo) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=zone)


def write_steady_months(
    data_dir: Path,
    current: Month,
    as_of: datetime,
    zone: ZoneInfo = UTC,
    previous_months: int = 1,
    **rates,
) -> Decimal:
    """Complete months before `current`, then `current` in progress up to `as_of`. Returns the
    whole current month's real total in cents (what it will have cost at its end)."""
    month = current
    for _ in range(previous_months):
        month = month.previous()
    while month < current:
        events = hourly_events(
            month_start(month, zone), month_start(month.next(), zone), zone=zone, **rates
        )
        write_cache_file(
            data_dir,
            month.label,
            events,
            timezone=zone.key,
            covered={"start_ms": month.start_ms(zone), "end_ms": month.end_ms(zone)},
        )
        month = month.next()
    events = hourly_events(month_start(current, zone), as_of, zone=zone, **rates)
    write_cache_file(
        data_dir,
        current.label,
        events,
        complete=False,
        timezone=zone.key,
        covered={"start_ms": current.start_ms(zone), "end_ms": epoch_ms(as_of) - 1},
    )
    whole = hourly_events(
        month_start(current, zone), month_start(current.next(), zone), zone=zone, **rates
    )
    return sum((Decimal(str(e["tokenUsage"]["totalCents"])) for e in whole), Decimal(0))


def clock(moment: datetime) -> dict[str, str]:
    return {"CURSOR_BILLING_NOW": moment.isoformat()}
