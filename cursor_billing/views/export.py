"""The ledger as export rows (SPEC §12): usage lines for `export --format csv` and FOCUS charge
lines for `export --format focus`, produced one month at a time so an export never holds more
than one month of lines.

Both exports count every on-demand chargeable event (the charged basis); the list cost of a line
is that of its token-based events, the only ones the list basis counts (None when it has none)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, localcontext
from itertools import groupby
from operator import attrgetter
from typing import Any, Literal, NamedTuple, get_args
from zoneinfo import ZoneInfo

from cursor_billing.choices import Source
from cursor_billing.ledger import EXACT, ROW_ORDER, ZERO, Ledger, Row, token_total
from cursor_billing.months import Month

ExportFormat = Literal["csv", "focus"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
ExportGrain = Literal["day", "month"]
EXPORT_GRAINS: tuple[ExportGrain, ...] = get_args(ExportGrain)


class UsageLine(NamedTuple):
    """One row of the CSV export: a (period, team, user, model, source), both dates inclusive."""

    period_start: date
    period_end: date
    team: str | None
    user: str
    model: str
    source: Source
    requests: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    list_cents: Decimal | None  # None: none of the line's events is in the list basis
    charged_cents: Decimal

    @property
    def total_tokens(self) -> int:
        return token_total(self)


class ChargeLine(NamedTuple):
    """One FOCUS row: a (day, team, user, model, source, token-based or not). Periods are
    half-open: the end is the first moment after it."""

    charge_start: datetime  # UTC
    charge_end: datetime
    billing_start: datetime  # the calendar month in the ledger's zone, in UTC
    billing_end: datetime
    team: str | None
    user: str
    model: str
    source: Source
    token_based: bool
    requests: int
    tokens: int
    requests_costs: Decimal
    list_cents: Decimal | None  # the list-basis cost; None for request-based lines
    charged_cents: Decimal


def usage_lines(ledger: Ledger, grain: ExportGrain) -> Iterator[UsageLine]:
    """Every on-demand usage line, month by month, each month sorted by period, team, user,
    model and source."""
    for month_ledger in ledger.per_month():
        if grain == "day":
            for key, rows in _grouped(month_ledger, _usage_key):
                yield _usage_line(key[0], key[0], rows)
        else:
            start, end = _month_days(month_ledger.months[0].month)
            for _, rows in _grouped(month_ledger, _usage_key_no_day):
                yield _usage_line(start, end, rows)


def charge_lines(ledger: Ledger) -> Iterator[ChargeLine]:
    """Every FOCUS charge, month by month, each month sorted by day, team, user, model,
    source and kind of call (token-based last)."""
    zone = ledger.zone
    for month_ledger in ledger.per_month():
        month = month_ledger.months[0].month
        billing_start = _utc_start(date(month.year, month.month, 1), zone)
        following = month.next()
        billing_end = _utc_start(date(following.year, following.month, 1), zone)
        bounds: dict[date, tuple[datetime, datetime]] = {}
        for key, rows in _grouped(month_ledger, _charge_key):
            day = key[0]
            if day not in bounds:
                bounds[day] = (_utc_start(day, zone), _utc_start(day + timedelta(days=1), zone))
            yield _charge_line(*bounds[day], billing_start, billing_end, rows)


# Sort keys, read in C: the teams of a ledger are all None or all names.
_usage_key = attrgetter("day", "team", "user", "model", "source")
_usage_key_no_day = attrgetter("team", "user", "model", "source")
_charge_key = ROW_ORDER


def _grouped(
    ledger: Ledger, key: Callable[[Row], tuple[Any, ...]]
) -> Iterator[tuple[tuple[Any, ...], list[Row]]]:
    """The ledger's rows sorted by `key`, rows with the same key together (a month grain, or
    a relabelling, gives several rows one key)."""
    for name, rows in groupby(sorted(ledger.rows(), key=key), key):
        yield name, list(rows)


def _usage_line(start: date, end: date, rows: list[Row]) -> UsageLine:
    first = rows[0]
    if len(rows) == 1:  # the usual case: nothing to add up
        return UsageLine(
            start,
            end,
            first.team,
            first.user,
            first.model,
            first.source,
            first.requests,
            first.input_tokens,
            first.output_tokens,
            first.cache_write_tokens,
            first.cache_read_tokens,
            EXACT.add(ZERO, first.list_cents) if first.token_based else None,
            EXACT.add(ZERO, first.charged_cents),
        )
    list_rows = [row for row in rows if row.counts("list")]
    with localcontext(EXACT):
        return UsageLine(
            period_start=start,
            period_end=end,
            team=first.team,
            user=first.user,
            model=first.model,
            source=first.source,
            requests=sum(row.requests for row in rows),
            input_tokens=sum(row.input_tokens for row in rows),
            output_tokens=sum(row.output_tokens for row in rows),
            cache_write_tokens=sum(row.cache_write_tokens for row in rows),
            cache_read_tokens=sum(row.cache_read_tokens for row in rows),
            list_cents=sum((row.list_cents for row in list_rows), ZERO) if list_rows else None,
            charged_cents=sum((row.charged_cents for row in rows), ZERO),
        )


def _charge_line(
    start: datetime, end: datetime, billing_start: datetime, billing_end: datetime, rows: list[Row]
) -> ChargeLine:
    first = rows[0]
    if len(rows) == 1:  # the usual case: nothing to add up
        return ChargeLine(
            start,
            end,
            billing_start,
            billing_end,
            first.team,
            first.user,
            first.model,
            first.source,
            first.token_based,
            first.requests,
            first.tokens,
            first.requests_costs,
            first.list_cents if first.counts("list") else None,
            first.charged_cents,
        )
    with localcontext(EXACT):
        return ChargeLine(
            charge_start=start,
            charge_end=end,
            billing_start=billing_start,
            billing_end=billing_end,
            team=first.team,
            user=first.user,
            model=first.model,
            source=first.source,
            token_based=first.token_based,
            requests=sum(row.requests for row in rows),
            tokens=sum(row.tokens for row in rows),
            requests_costs=sum((row.requests_costs for row in rows), ZERO),
            list_cents=sum((row.list_cents for row in rows), ZERO)
            if first.counts("list")
            else None,
            charged_cents=sum((row.charged_cents for row in rows), ZERO),
        )


def _month_days(month: Month) -> tuple[date, date]:
    following = month.next()
    return date(month.year, month.month, 1), date(following.year, following.month, 1) - timedelta(
        days=1
    )


def _utc_start(day: date, zone: ZoneInfo) -> datetime:
    """The first moment of `day` in `zone`, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(timezone.utc)
