"""The forecast of the month in progress (SPEC §7 Forecast): month-to-date plus the rest of the
month at the recent rate, weekdays and weekend days apart, with a low–high range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cursor_billing.months import Month


@dataclass(frozen=True)
class ForecastRow:
    """One user's (`name` = e-mail) or team's month so far and projection."""

    name: str
    month_to_date_cents: Decimal
    projected_cents: Decimal


@dataclass(frozen=True)
class Forecast:
    month: Month
    as_of: datetime
    month_to_date_cents: Decimal
    projected_cents: Decimal
    low_cents: Decimal
    high_cents: Decimal
    same_days_last_month_cents: Decimal | None  # None when the previous month is not analyzed
    change_to_date_pct: Decimal | None
    users: tuple[ForecastRow, ...]  # every user with spend this month, ranked
    teams: tuple[ForecastRow, ...] = ()  # empty without teams
