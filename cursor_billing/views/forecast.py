"""The forecast of the month in progress (SPEC §7 Forecast): month-to-date plus the rest of the
month at the recent rate, weekdays and weekend days apart, with a low–high range; and the
like-for-like span of the previous month that the month so far is compared with (SPEC §7 Change).

Ledger rows are per day, so time spans are whole days plus a fraction of one day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Context, Decimal

import msgspec

from cursor_billing.choices import CostBasis
from cursor_billing.ledger import ZERO, Ledger, MonthLedger
from cursor_billing.months import Month

RATE_DAYS = 14  # the full days before as_of whose spend sets the rate
MIN_DAYS_OF_A_KIND = 3  # fewer weekdays (or weekend days) than this: all days set the rate
LOW_PERCENTILE, HIGH_PERCENTILE = Decimal("0.2"), Decimal("0.8")
_RATIO = Context(prec=28)


class ForecastRow(msgspec.Struct, frozen=True):
    """One user's (`name` = e-mail) or team's month so far and projection."""

    name: str
    month_to_date_cents: Decimal
    projected_cents: Decimal


class Forecast(msgspec.Struct, frozen=True):
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


class Elapsed(msgspec.Struct, frozen=True):
    """How far into its month a moment is: `whole_days` finished days, then `fraction` of the
    day in progress (0 ≤ fraction < 1)."""

    whole_days: int
    fraction: Decimal

    @property
    def days(self) -> Decimal:
        return self.whole_days + self.fraction


def in_progress(month_ledger: MonthLedger, zone_name: str) -> bool:
    """A month in progress whose cache stops before its end: what a forecast and a same-days
    change are for (one covered to its last millisecond is compared and shown whole)."""
    from zoneinfo import ZoneInfo

    return month_ledger.status == "in_progress" and month_ledger.covered_end_ms < (
        month_ledger.month.end_ms(ZoneInfo(zone_name))
    )


def moment_of(month_ledger: MonthLedger) -> datetime:
    """The moment a month's cache reaches (the millisecond after the last one covered), UTC."""
    return datetime.fromtimestamp((month_ledger.covered_end_ms + 1) / 1000, timezone.utc)


def elapsed_in_month(month: Month, moment: datetime, zone_name: str) -> Elapsed:
    """Whole days and the fraction of the current day from the month's start to `moment`,
    in the ledger's zone (a day is as long as it really is, 23 or 25 hours on DST days)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    local = moment.astimezone(zone)
    day = local.date()
    if Month(day.year, day.month) > month:
        return Elapsed(_days_in(month), ZERO)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=zone)
    fraction = _RATIO.divide(
        Decimal((local - start) // timedelta(milliseconds=1)),
        Decimal((end - start) // timedelta(milliseconds=1)),
    )
    return Elapsed(day.day - 1, fraction)


def same_span_cost(day_costs: Mapping[date, Decimal], month: Month, elapsed: Elapsed) -> Decimal:
    """The cost of `month` over the same elapsed span from its start, capped at its end: its
    first `whole_days` days whole, then the next day prorated by `fraction` (ledger rows are
    per day, so the matching part of that day is taken as its share of the day's spend)."""
    length = _days_in(month)
    first = date(month.year, month.month, 1)
    whole = min(elapsed.whole_days, length)
    cost = sum((day_costs.get(first + timedelta(days=i), ZERO) for i in range(whole)), ZERO)
    if elapsed.whole_days < length and elapsed.fraction:
        partial_day = first + timedelta(days=elapsed.whole_days)
        cost += day_costs.get(partial_day, ZERO) * elapsed.fraction
    return cost


def day_costs(rows: Iterable[tuple[date, Decimal]]) -> dict[date, Decimal]:
    costs: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for day, cost in rows:
        costs[day] += cost
    return dict(costs)


def forecast(ledger: Ledger, basis: CostBasis) -> Forecast | None:
    """The forecast of the ledger's latest month when it is in progress, else None. The ledger
    may hold the month before it (for the rate of a young month)."""
    if not ledger.months or not in_progress(ledger.months[-1], ledger.timezone):
        return None
    latest = ledger.months[-1]
    month = latest.month
    as_of = moment_of(latest)
    plan = _plan(ledger, month, as_of)
    totals: dict[date, Decimal] = defaultdict(lambda: ZERO)
    users: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    teams: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in ledger.rows(basis):
        cost = row.cost(basis)
        totals[row.day] += cost
        users[row.user][row.day] += cost
        if row.team is not None:
            teams[row.team][row.day] += cost
    mtd, projected, low, high = plan.project(totals)
    previous = month.previous()
    same_days: Decimal | None = None
    change: Decimal | None = None
    if previous in ledger.labels:
        same_days = same_span_cost(
            totals, previous, elapsed_in_month(month, as_of, ledger.timezone)
        )
        if same_days:
            change = _RATIO.divide((mtd - same_days) * 100, same_days)
    return Forecast(
        month=month,
        as_of=as_of,
        month_to_date_cents=mtd,
        projected_cents=projected,
        low_cents=low,
        high_cents=high,
        same_days_last_month_cents=same_days,
        change_to_date_pct=change,
        users=_rows(plan, users),
        teams=_rows(plan, teams),
    )


class _Plan(msgspec.Struct, frozen=True):
    """Which days set the rate and which are still to come, for one month and one moment."""

    month_days: tuple[date, ...]  # the month's days up to today
    full_days: tuple[date, ...]  # the full days before today that the rate reads
    today: date
    today_left: Decimal  # the part of today still to come
    remaining: tuple[date, ...]  # the month's days after today
    elapsed_days: Decimal  # since the month began

    def project(self, costs: Mapping[date, Decimal]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(month to date, projected, low, high) for one series of daily costs."""
        mtd = sum((costs.get(day, ZERO) for day in self.month_days), ZERO)
        if not self.full_days:  # the month began less than a day ago and nothing before it
            rate = _RATIO.divide(mtd, self.elapsed_days) if self.elapsed_days else ZERO
            projected = mtd + rate * (self.today_left + len(self.remaining))
            return mtd, projected, projected, projected
        rates = {
            weekend: self._rates(costs, weekend) for weekend in (False, True)
        }  # (mean, low, high) per kind of day
        ends = []
        for which in range(3):
            rest = self.today_left * rates[_is_weekend(self.today)][which]
            rest += sum((rates[_is_weekend(day)][which] for day in self.remaining), ZERO)
            ends.append(mtd + rest)
        projected, low, high = ends
        return mtd, projected, min(low, projected), max(high, projected)

    def _rates(
        self, costs: Mapping[date, Decimal], weekend: bool
    ) -> tuple[Decimal, Decimal, Decimal]:
        days = [day for day in self.full_days if _is_weekend(day) == weekend]
        if len(days) < MIN_DAYS_OF_A_KIND:
            days = list(self.full_days)
        values = sorted(costs.get(day, ZERO) for day in days)
        mean = _RATIO.divide(sum(values, ZERO), len(values))
        return mean, _percentile(values, LOW_PERCENTILE), _percentile(values, HIGH_PERCENTILE)


def _plan(ledger: Ledger, month: Month, as_of: datetime) -> _Plan:
    elapsed = elapsed_in_month(month, as_of, ledger.timezone)
    first = date(month.year, month.month, 1)
    today = first + timedelta(days=elapsed.whole_days)
    loaded = set(ledger.labels)
    full_days = tuple(
        day
        for day in (today - timedelta(days=n) for n in range(RATE_DAYS, 0, -1))
        if Month(day.year, day.month) in loaded
    )
    last = first + timedelta(days=_days_in(month) - 1)
    return _Plan(
        month_days=tuple(first + timedelta(days=n) for n in range(elapsed.whole_days + 1)),
        full_days=full_days,
        today=today,
        today_left=1 - elapsed.fraction,
        remaining=tuple(today + timedelta(days=n) for n in range(1, (last - today).days + 1)),
        elapsed_days=elapsed.days,
    )


def _rows(plan: _Plan, series: Mapping[str, Mapping[date, Decimal]]) -> tuple[ForecastRow, ...]:
    rows = []
    for name, costs in series.items():
        mtd, projected, _, _ = plan.project(costs)
        if mtd:
            rows.append(ForecastRow(name, mtd, projected))
    rows.sort(key=lambda row: (-row.projected_cents, row.name))
    return tuple(rows)


def _percentile(values: Sequence[Decimal], quantile: Decimal) -> Decimal:
    """Linear interpolation between the closest ranks (numpy's default), on sorted values."""
    position = quantile * (len(values) - 1)
    below = int(position)
    above = min(below + 1, len(values) - 1)
    return values[below] + (values[above] - values[below]) * (position - below)


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def _days_in(month: Month) -> int:
    following = month.next()
    return (date(following.year, following.month, 1) - date(month.year, month.month, 1)).days
