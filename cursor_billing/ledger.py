"""The ledger: the cache folded once into rows that every answer reads (SPEC §7).

A row is keyed by (day in the report's time zone, user, model, source, token-based or not) and
holds requests, the four token counts, `requestsCosts`, and both the list and the charged cost.
The cost rules of SPEC §7 live here and nowhere else: which on-demand events each basis counts,
how an event's cost is read, and what happens to a cost that is not a finite number. Views
select, relabel and group rows; they never see an event."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, localcontext
from operator import attrgetter
from typing import Any, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

import msgspec

from cursor_billing.choices import CostBasis, DataSource, MonthStatus, Source
from cursor_billing.events import EventBatches, Money, UsageEvent, is_on_demand_kind
from cursor_billing.months import Month

ZERO = Decimal(0)
# Sums run in a context wide enough that adding decimals never rounds.
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
K = TypeVar("K", bound=Hashable)


class Row(NamedTuple):
    """One ledger row: the on-demand chargeable events of one (day, user, model, source, kind of
    call), summed. `list_cents` is the list cost of the row's events; whether it counts depends on
    the basis (list counts token-based rows only)."""

    day: date
    user: str
    model: str
    source: Source
    token_based: bool
    requests: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    requests_costs: Decimal
    list_cents: Decimal
    charged_cents: Decimal
    team: str | None = None  # None when no teams are configured

    def counts(self, basis: CostBasis) -> bool:
        """Whether the row is billable on this basis: `charged` counts every on-demand event,
        `list` only token-based calls (SPEC §7)."""
        return self.token_based or basis == "charged"

    def cost(self, basis: CostBasis) -> Decimal:
        return self.charged_cents if basis == "charged" else self.list_cents

    @property
    def tokens(self) -> int:
        return token_total(self)


# The order of a month's rows: by day, team, user, model, source, token-based last (the order
# of the exports, which then sort rows already in order: a tenth of an export's time).
# The teams of a month are all None or all names, so None is never compared with a name.
ROW_ORDER = attrgetter("day", "team", "user", "model", "source", "token_based")


class _TokenBuckets(Protocol):
    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cache_write_tokens(self) -> int: ...
    @property
    def cache_read_tokens(self) -> int: ...


def token_total(counts: _TokenBuckets) -> int:
    """tokens = input + output + cache write + cache read (SPEC §7)."""
    return (
        counts.input_tokens
        + counts.output_tokens
        + counts.cache_write_tokens
        + counts.cache_read_tokens
    )


# `array_like`: a ledger file stores a month's cells as tallies, and decodes them straight back
# into `Tally` objects (no keys, no copy into lists first). `gc=False`: numbers only.
class Tally(msgspec.Struct, array_like=True, gc=False):
    """Requests, cost and tokens of a group of rows on one basis."""

    requests: int = 0
    cost_cents: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0

    def add(self, row: Row, basis: CostBasis) -> None:
        self.requests += row.requests
        self.cost_cents = EXACT.add(self.cost_cents, row.cost(basis))
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        self.cache_write_tokens += row.cache_write_tokens
        self.cache_read_tokens += row.cache_read_tokens

    @property
    def tokens(self) -> int:
        return token_total(self)


class MonthSums(msgspec.Struct, frozen=True):
    """One month's rows summed on one basis by what every report reads: (user, model) cells
    (a `Tally` each; read-only, views share them), days and (day, model)
    [requests, cost], (day, user) costs and each day's spenders, sources [requests, cost] and
    their users, both bases' totals and what the basis leaves out. A few thousand groups where
    the month has tens of thousands of rows; a derived ledger file stores them beside the
    rows. Read-only."""

    cells: dict[tuple[str, str], Tally]
    days: dict[date, list]
    day_users: Mapping[date, Mapping[str, Decimal]]  # a ledger file decodes it when first read
    day_spenders: dict[date, tuple[int, str]]  # how many users; who spent most (ties: by name)
    day_models: dict[date, dict[str, list]]
    sources: dict[Source, list]
    source_users: dict[Source, set[str]]
    total_list: Decimal
    total_charged: Decimal
    left_requests: int  # on-demand requests the basis does not count
    left_charged: Decimal  # and what Cursor charged for them
    models: dict[str, Tally]  # the cells summed by model


def sum_month(rows: Iterable[Row], basis: CostBasis) -> MonthSums:
    """The rows of one month summed (`MonthSums`); one pass of plain lists and exact decimals."""
    with localcontext(EXACT):
        return _sum_month(rows, basis == "charged")


def _sum_month(rows: Iterable[Row], charged: bool) -> MonthSums:
    zero = ZERO
    cells: dict[tuple[str, str], Tally] = {}
    days: dict[date, list] = {}
    day_users: dict[date, dict[str, Decimal]] = {}
    day_models: dict[date, dict[str, list]] = {}
    sources: dict[Source, list] = {}
    source_users: dict[Source, set[str]] = {}
    total_list = total_charged = left_charged = zero
    left_requests = 0
    last_day: date | None = None
    on_day: list[Any] = [0, zero]
    users: dict[str, Decimal] = {}
    models: dict[str, list[Any]] = {}
    for row in rows:
        (day, user, model, source, token_based, requests, i, o, cw, cr) = row[:10]
        if token_based:
            total_list += row.list_cents
        total_charged += row.charged_cents
        if not (token_based or charged):
            left_requests += requests
            left_charged += row.charged_cents
            continue
        cost = row.charged_cents if charged else row.list_cents
        if day != last_day:
            last_day = day
            found = days.get(day)
            if found is None:
                on_day = days[day] = [0, zero]
                users = day_users[day] = {}
                models = day_models[day] = {}
            else:
                on_day, users, models = found, day_users[day], day_models[day]
        cell = cells.get((user, model))
        if cell is None:
            cells[(user, model)] = Tally(requests, zero + cost, i, o, cw, cr)
        else:
            cell.requests += requests
            cell.cost_cents += cost
            cell.input_tokens += i
            cell.output_tokens += o
            cell.cache_write_tokens += cw
            cell.cache_read_tokens += cr
        on_day[0] += requests
        on_day[1] += cost
        users[user] = users.get(user, zero) + cost
        on_model = models.get(model)
        if on_model is None:
            models[model] = [requests, zero + cost]
        else:
            on_model[0] += requests
            on_model[1] += cost
        on_source = sources.get(source)
        if on_source is None:
            sources[source] = [requests, zero + cost]
            source_users[source] = {user}
        else:
            on_source[0] += requests
            on_source[1] += cost
            source_users[source].add(user)
    day_spenders = {
        day: (len(users), min(users.items(), key=_most_spent)[0])
        for day, users in day_users.items()
    }
    return MonthSums(
        cells,
        days,
        day_users,
        day_spenders,
        day_models,
        sources,
        source_users,
        total_list,
        total_charged,
        left_requests,
        left_charged,
        cells_by_model(cells),
    )


_REQUESTS, _COST = attrgetter("requests"), attrgetter("cost_cents")
_INPUT, _OUTPUT = attrgetter("input_tokens"), attrgetter("output_tokens")
_CACHE_WRITE, _CACHE_READ = attrgetter("cache_write_tokens"), attrgetter("cache_read_tokens")


def cells_by_model(cells: Mapping[tuple[str, str], Tally]) -> dict[str, Tally]:
    """A month's cells summed by model: grouped by model first, each column then summed in C
    (`sum` of `map`), not six Python additions a cell. Exact in the caller's context."""
    grouped: dict[str, list[Tally]] = {}
    for (_, model), tally in cells.items():
        tallies = grouped.get(model)
        if tallies is None:
            grouped[model] = [tally]
        else:
            tallies.append(tally)
    return {
        model: Tally(
            sum(map(_REQUESTS, tallies)),
            sum(map(_COST, tallies), ZERO),
            sum(map(_INPUT, tallies)),
            sum(map(_OUTPUT, tallies)),
            sum(map(_CACHE_WRITE, tallies)),
            sum(map(_CACHE_READ, tallies)),
        )
        for model, tallies in grouped.items()
    }


def _most_spent(spend: tuple[str, Decimal]) -> tuple[Decimal, str]:
    return -spend[1], spend[0]


@dataclass(frozen=True)
class MonthLedger:
    """One cached month folded: its rows and what the fold had to say about it."""

    month: Month
    status: MonthStatus
    covered_end_ms: int  # the latest moment the month's cache covers
    rows: Sequence[Row]  # a tuple, or rows a ledger file decodes when first read
    source: DataSource = "api"  # where the events came from (SPEC §6)
    not_finite: int = 0  # events whose cost is not a finite number: counted as 0
    negative: int = 0  # events with a negative cost
    warnings: tuple[str, ...] = ()
    # The rows summed, per basis: made once when first asked, from `kept_sums` when that has
    # them (a ledger file's, decoded then), else from the rows.
    summed: dict[CostBasis, MonthSums] = field(default_factory=dict, compare=False, repr=False)
    kept_sums: Callable[[CostBasis], MonthSums | None] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def sums(self, basis: CostBasis) -> MonthSums:
        found = self.summed.get(basis)
        if found is None:
            found = self.kept_sums(basis) if self.kept_sums else None
            if found is None:
                found = sum_month(self.rows, basis)
            self.summed[basis] = found
        return found


@dataclass(frozen=True)
class Ledger:
    """Every analyzed month, chronological, all in one time zone."""

    timezone: str
    months: tuple[MonthLedger, ...]
    _relabel: Callable[[Row], Row] | None = field(default=None, repr=False, compare=False)
    has_teams: bool = False  # rows carry a team (SPEC §11); None teams otherwise

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def labels(self) -> tuple[Month, ...]:
        return tuple(m.month for m in self.months)

    @property
    def as_of_ms(self) -> int | None:
        """The latest moment the analyzed cache covers."""
        return max((m.covered_end_ms for m in self.months), default=None)

    def rows(self, basis: CostBasis | None = None) -> Iterator[Row]:
        """Every row, or with a basis only the rows it counts; relabelled if asked."""
        return self._rows_of(self.months, basis)

    def month_rows(self, month: Month, basis: CostBasis | None = None) -> Iterator[Row]:
        """The rows of one month (a month's rows are all of its own days): the other months'
        rows are not read, nor decoded from their ledger files."""
        return self._rows_of([m for m in self.months if m.month == month], basis)

    def _rows_of(self, months: Iterable[MonthLedger], basis: CostBasis | None) -> Iterator[Row]:
        relabel = self._relabel
        for month in months:
            for row in month.rows:
                if basis is not None and not (row.token_based or basis == "charged"):
                    continue
                yield relabel(row) if relabel else row

    def per_month(self) -> Iterator[Ledger]:
        """Each month alone, as a ledger that keeps the relabelling, chronological: for views
        that stream their output month by month."""
        for month in self.months:
            yield Ledger(self.timezone, (month,), self._relabel)

    def month_sums(self, basis: CostBasis) -> Iterator[MonthSums]:
        """Each month's rows summed (`MonthSums`), chronological; relabelled rows are summed
        afresh, the month's own rows once."""
        relabel = self._relabel
        for month in self.months:
            if relabel is None:
                yield month.sums(basis)
            else:
                yield sum_month(map(relabel, month.rows), basis)

    def between(self, first: date, last: date) -> Ledger:
        """Only the rows of the days first..last (inclusive); months keep their place."""
        months = tuple(
            _replace_rows(m, tuple(r for r in m.rows if first <= r.day <= last))
            for m in self.months
        )
        return replace(self, months=months)

    def relabel_users(self, name_of: Callable[[Row], str]) -> Ledger:
        """The same ledger with every row's user renamed (to a pseudonym, say); the new name
        may depend on the row's day."""
        previous = self._relabel

        def relabel(row: Row) -> Row:
            row = previous(row) if previous else row
            return row._replace(user=name_of(row))

        return replace(self, _relabel=relabel)

    def group(self, basis: CostBasis, key: Callable[[Row], K]) -> dict[K, Tally]:
        """The rows the basis counts, summed by `key`."""
        groups: dict[K, Tally] = {}
        for row in self.rows(basis):
            name = key(row)
            tally = groups.get(name)
            if tally is None:
                tally = groups[name] = Tally()
            tally.add(row, basis)
        return groups

    def total(self, basis: CostBasis) -> Tally:
        tally = Tally()
        for row in self.rows(basis):
            tally.add(row, basis)
        return tally


def _replace_rows(month: MonthLedger, rows: tuple[Row, ...]) -> MonthLedger:
    return MonthLedger(
        month.month,
        month.status,
        month.covered_end_ms,
        rows,
        month.source,
        month.not_finite,
        month.negative,
        month.warnings,
    )


# ---------------------------------------------------------------------------------------------
# The fold


def fold_month(
    month: Month,
    events: Sequence[UsageEvent] | EventBatches,
    zone: ZoneInfo,
    status: MonthStatus = "complete",
    covered_end_ms: int | None = None,
    source: DataSource = "api",
    team_of: Callable[[str, int], str] | None = None,
    since_ms: int | None = None,
) -> MonthLedger:
    """Fold one month's cached events (all given, or decoded a batch at a time as the fold
    reads them) into rows. Only on-demand chargeable events count; every
    one is kept with both costs, so any basis can be asked later. A cost that is not a finite
    number (NaN, Infinity) counts as 0, and the month says how many there were.

    `team_of(e-mail, timestamp ms)` names each event's team (SPEC §11); the team is part of the
    row's key, so a user who moved mid-day has one row per team that day. Without it rows carry
    no team. `since_ms` keeps only the events at or after that instant (a billing cycle starts
    at a moment of a day, not at midnight)."""
    day_starts = _day_starts(month, zone)

    def every() -> Iterable[UsageEvent]:
        if isinstance(events, EventBatches):
            return itertools.chain.from_iterable(events.batches())
        return events

    try:
        cells, negative, not_finite = _fold(every(), day_starts, team_of, False, since_ms)
    except ArithmeticError:  # a NaN compared
        not_finite = -1
    if not_finite < 0:  # some cost is NaN or infinite: fold again, checking every event
        cells, negative, not_finite = _fold(every(), day_starts, team_of, True, since_ms)
    first_day = date(month.year, month.month, 1)
    made = (
        Row._make((first_day + timedelta(days=key[0]), *key[1:5], *cell, key[5]))
        for key, cell in cells.items()  # (day index, user, model, source, token-based, team)
    )
    rows = tuple(sorted(made, key=ROW_ORDER))
    warnings = []
    if not_finite:
        warnings.append(
            f"{month.label}: {not_finite} event(s) with a cost that is not a finite number "
            "(NaN, Infinity) count as $0"
        )
    if negative:
        warnings.append(f"{month.label}: {negative} event(s) have a negative cost")
    return MonthLedger(
        month,
        status,
        day_starts[-1] - 1 if covered_end_ms is None else covered_end_ms,
        rows,
        source,
        not_finite,
        negative,
        tuple(warnings),
    )


_Cells = dict[tuple[int, str, str, Source, bool, str | None], list]


def _fold(
    events: Iterable[UsageEvent],
    day_starts: list[int],
    team_of: Callable[[str, int], str] | None,
    careful: bool,
    since_ms: int | None = None,
) -> tuple[_Cells, int, int]:
    """(cells, negative events, non-finite events or -1 when a sum is not finite and `careful`
    was off). An event whose timestamp is outside the month (a clock moved) counts on the
    month's first or last day: it is in this month's file, so it is this month's money.

    The loop runs once per cached event: the kind check is memoised and a cell is a plain list
    [requests, input, output, cache write, cache read, requestsCosts, list cents, charged
    cents]; the cost rules are `UsageEvent.list_cents` and `charged_cents`, written out."""
    kinds: dict[str, bool] = {}
    cells: _Cells = {}
    negative = not_finite = 0
    last_day = len(day_starts) - 2
    earliest = since_ms if since_ms is not None else -(2**63)
    first_start, next_start = day_starts[0], day_starts[-1]
    # Names bound once: the loop below runs once per cached event.
    find_day, get_cell, zero = bisect.bisect_right, cells.get, ZERO
    with localcontext(EXACT):
        for event in events:
            if not event.isChargeable:
                continue
            kind = event.kind or event.kindLabel
            on_demand = kinds.get(kind)
            if on_demand is None:
                on_demand = kinds[kind] = is_on_demand_kind(kind)
            if not on_demand:
                continue
            stamp = event.timestamp
            if stamp.__class__ is not int:  # `UsageEvent.timestamp_ms`, without the call
                try:
                    stamp = int(stamp)
                except ValueError:
                    stamp = 0
            if stamp < earliest:
                continue
            if first_start <= stamp < next_start:
                index = find_day(day_starts, stamp) - 1
            else:
                index = 0 if stamp < first_start else last_day
            team = None if team_of is None else team_of(event.userEmail, stamp)
            # The usual event names no agent, automation or service account: its source is
            # read here without the property's calls (same rules, SPEC §7).
            if (
                event.cloudAgentId is None
                and event.automationId is None
                and event.serviceAccountId == "null"
            ):
                source: Source = "headless" if event.isHeadless is True else "human"
            else:
                source = event.source
            key = (index, event.userEmail, event.model, source, event.isTokenBasedCall, team)
            cell = get_cell(key)
            if cell is None:
                cell = cells[key] = [0, 0, 0, 0, 0, zero, zero, zero]
            cell[0] += 1
            usage = event.tokenUsage
            list_cents: Money = zero
            if usage is not None:
                cell[1] += usage.inputTokens
                cell[2] += usage.outputTokens
                cell[3] += usage.cacheWriteTokens
                cell[4] += usage.cacheReadTokens
                list_cents = usage.totalCents
            fee = event.cursorTokenFee
            charged = event.chargedCents
            if careful:
                values = (list_cents, fee or zero, charged or zero)
                if not all(_finite(value) for value in values):
                    not_finite += 1
                    list_cents, fee, charged = (
                        value if _finite(value) else zero for value in values
                    )
                    charged = charged if event.chargedCents is not None else None
            if fee is not None:
                list_cents += fee
            if charged is None:
                charged = list_cents
            requests_costs = event.requestsCosts
            if requests_costs is not None:
                cell[5] += requests_costs
            cell[6] += list_cents
            cell[7] += charged
            if list_cents < 0 or charged < 0:
                negative += 1
    if not careful and not all(c[6].is_finite() and c[7].is_finite() for c in cells.values()):
        return cells, negative, -1
    return cells, negative, not_finite


def _finite(value: Money) -> bool:
    return isinstance(value, int) or value.is_finite()


def _day_starts(month: Month, zone: ZoneInfo) -> list[int]:
    """The epoch ms at which each day of the month starts, and the next month's start."""
    start = datetime(month.year, month.month, 1)
    following = month.next()
    end = datetime(following.year, following.month, 1)
    starts = []
    day = start
    while day <= end:
        starts.append(_ms(day.replace(tzinfo=zone)))
        day += timedelta(days=1)
    return starts


def _ms(moment: datetime) -> int:
    from cursor_billing.months import epoch_ms

    return epoch_ms(moment)
