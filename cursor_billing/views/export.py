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
    """One FOCUS row: the ledger row of a (day, team, user, model, source, token-based or not),
    rows that share one summed. Periods are half-open: the end is the first moment after it."""

    charge_start: datetime  # UTC
    charge_end: datetime
    billing_start: datetime  # the calendar month in the ledger's zone, in UTC
    billing_end: datetime
    row: Row

    @property
    def list_cents(self) -> Decimal | None:
        """The list-basis cost; None for a request-based charge (the list basis leaves it out)."""
        return self.row.list_cents if self.row.token_based else None


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
        for row in _charge_rows(month_ledger):
            day = row.day
            if day not in bounds:
                bounds[day] = (_utc_start(day, zone), _utc_start(day + timedelta(days=1), zone))
            yield ChargeLine(*bounds[day], billing_start, billing_end, row)


# Sort keys, read in C: the teams of a ledger are all None or all names.
_usage_key = attrgetter("day", "team", "user", "model", "source")
_usage_key_no_day = attrgetter("team", "user", "model", "source")


def _grouped(
    ledger: Ledger, key: Callable[[Row], tuple[Any, ...]]
) -> Iterator[tuple[tuple[Any, ...], list[Row]]]:
    """The ledger's rows sorted by `key`, rows with the same key together (a month grain, or
    a relabelling, gives several rows one key)."""
    for name, rows in groupby(sorted(ledger.rows(), key=key), key):
        yield name, list(rows)


def _usage_line(start: date, end: date, rows: list[Row]) -> UsageLine:
    row = rows[0] if len(rows) == 1 else _summed(rows)
    list_cents: Decimal | None = None  # of the token-based rows only: the list basis
    for part in rows:
        if part.token_based:
            list_cents = EXACT.add(ZERO if list_cents is None else list_cents, part.list_cents)
    return UsageLine(
        start,
        end,
        row.team,
        row.user,
        row.model,
        row.source,
        row.requests,
        row.input_tokens,
        row.output_tokens,
        row.cache_write_tokens,
        row.cache_read_tokens,
        list_cents,
        EXACT.add(ZERO, row.charged_cents),
    )


def _charge_rows(ledger: Ledger) -> Iterator[Row]:
    """The rows in `ROW_ORDER`, one per charge key. The fold makes one row per key, so rows
    share a key only after a relabelling that gave two users one name: those are summed."""
    rows = sorted(ledger.rows(), key=ROW_ORDER)  # stored in that order: a quick sort
    for _, group in groupby(rows, ROW_ORDER):
        same = list(group)
        yield same[0] if len(same) == 1 else _summed(same)


def _summed(rows: list[Row]) -> Row:
    """Rows of one key as one row (its list cost: of every row, whatever its kind of call)."""
    first = rows[0]
    with localcontext(EXACT):
        return first._replace(
            requests=sum(row.requests for row in rows),
            input_tokens=sum(row.input_tokens for row in rows),
            output_tokens=sum(row.output_tokens for row in rows),
            cache_write_tokens=sum(row.cache_write_tokens for row in rows),
            cache_read_tokens=sum(row.cache_read_tokens for row in rows),
            requests_costs=sum((row.requests_costs for row in rows), ZERO),
            list_cents=sum((row.list_cents for row in rows), ZERO),
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
