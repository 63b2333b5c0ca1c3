"""The report sections of SPEC §7, each a plain function from the ledger to result dataclasses.

`billing_report` puts them together for `analyze`, `report` and the dashboard. Sums are exact
decimals; only ratios (averages, shares, percentages) are rounded, to 28 significant digits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from operator import attrgetter, itemgetter
from typing import Any, Literal, TypeVar

import msgspec

from cursor_billing.choices import COST_BASES, CostBasis, DataSource, MonthStatus, Source
from cursor_billing.ledger import EXACT, ZERO, Ledger, Tally, cells_by_model
from cursor_billing.months import Month
from cursor_billing.settings import Anomalies, Budgets
from cursor_billing.views.checks import (
    Anomaly,
    BudgetResult,
    anomalies,
    budget_results,
    budgets_set,
)
from cursor_billing.views.forecast import (
    Forecast,
    day_costs,
    elapsed_in_month,
    forecast,
    in_progress,
    moment_of,
    same_span_cost,
)
from cursor_billing.views.teams import MonthTeam, TeamSpend, team_views

# What a month's change compares with: the whole previous month, or its same elapsed days.
DeltaBasis = Literal["month", "same_days"]
# Ratios get 28 significant digits whatever the caller's thread context says.
RATIO = Context(prec=28)
K = TypeVar("K", bound=str)
R = TypeVar("R")


class TokenCounts(msgspec.Struct, frozen=True):
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read

    @classmethod
    def of(cls, tally: Tally) -> TokenCounts:
        return cls(
            tally.input_tokens,
            tally.output_tokens,
            tally.cache_write_tokens,
            tally.cache_read_tokens,
        )


class MonthTrend(msgspec.Struct, frozen=True):
    """One analyzed month; the deltas compare it with the month before (None for the first)."""

    month: Month
    cost_cents: Decimal
    requests: int
    delta_cents: Decimal | None
    delta_pct: Decimal | None
    status: MonthStatus
    delta_basis: DeltaBasis = "month"
    source: DataSource = "api"  # "csv": imported from Cursor's dashboard export

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def partial(self) -> bool:
        return not self.complete


class UserSpend(msgspec.Struct, frozen=True, gc=False):
    """One per user: a msgspec struct, made and kept a million times faster and smaller than a
    dataclass (no per-field `__setattr__`, no `__dict__`, not tracked by the cyclic collector)."""

    email: str
    cost_cents: Decimal
    requests: int
    avg_cost_cents: Decimal
    top_model: str
    expensive_cost_cents: Decimal
    expensive_share: Decimal  # expensive_cost_cents ÷ cost_cents, 0..1
    expensive_months: int  # analyzed months in which they used an expensive model
    by_month: Mapping[Month, Decimal]  # every analyzed month, chronological
    team: str | None = None


class ModelSpend(msgspec.Struct, frozen=True):
    model: str
    cost_cents: Decimal
    requests: int
    avg_cost_cents: Decimal
    unique_users: int
    tokens: TokenCounts
    by_month: Mapping[Month, Decimal]  # every analyzed month, chronological


class ModelUser(msgspec.Struct, frozen=True, gc=False):
    """One user's spend on one model."""

    email: str
    cost_cents: Decimal
    requests: int


class ExpensiveModel(msgspec.Struct, frozen=True):
    model: str
    avg_cost_cents: Decimal
    cost_cents: Decimal
    requests: int
    users: tuple[ModelUser, ...]  # ranked by their spend on this model


class MonthModel(msgspec.Struct, frozen=True):
    month: Month
    model: str
    cost_cents: Decimal
    requests: int
    tokens: TokenCounts


class MonthUser(msgspec.Struct, frozen=True, gc=False):
    month: Month
    email: str
    cost_cents: Decimal
    requests: int
    top_model: str  # of this user in this month


class DaySpend(msgspec.Struct, frozen=True):
    day: date
    cost_cents: Decimal
    requests: int
    users: int
    top_user: str | None
    top_model: str | None


class SourceSpend(msgspec.Struct, frozen=True):
    source: Source
    cost_cents: Decimal
    requests: int
    users: int


class NotCounted(msgspec.Struct, frozen=True):
    """On-demand events the chosen basis leaves out, and what Cursor charged for them."""

    events: int
    charged_cents: Decimal


class Summary(msgspec.Struct, frozen=True):
    total_cost_cents: Decimal
    total_requests: int
    months_analyzed: int
    current_month: Month | None  # the latest analyzed month; None only when no month was added
    current_month_cost_cents: Decimal
    costliest_model: str | None  # None when nothing is billable
    top_spender: str | None
    totals_by_basis: Mapping[CostBasis, Decimal]
    not_counted: NotCounted


class BillingReport(msgspec.Struct, frozen=True):
    """Everything `analyze`, `report` and the dashboard show, ranked as SPEC §7 says."""

    timezone: str
    cost_basis: CostBasis
    as_of: datetime | None  # the latest moment the analyzed cache covers (UTC)
    months: tuple[Month, ...]  # chronological, including months with nothing billable
    summary: Summary
    monthly_trend: tuple[MonthTrend, ...]
    users: tuple[UserSpend, ...]  # everyone, ranked by cost
    models: tuple[ModelSpend, ...]  # every model, ranked by cost
    expensive_models: tuple[ExpensiveModel, ...]  # ranked by average cost per request
    month_models: tuple[MonthModel, ...]  # chronological, ranked by cost within a month
    month_users: tuple[MonthUser, ...]  # chronological, ranked by cost within a month
    daily: tuple[DaySpend, ...] = ()
    sources: tuple[SourceSpend, ...] = ()
    forecast: Forecast | None = None  # None unless the latest month is in progress
    teams: tuple[TeamSpend, ...] | None = None  # None without teams
    month_teams: tuple[MonthTeam, ...] | None = None
    budgets: tuple[BudgetResult, ...] = ()  # only those that are set
    anomalies: tuple[Anomaly, ...] = ()
    anonymized: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def partial_months(self) -> tuple[Month, ...]:
        return tuple(row.month for row in self.monthly_trend if not row.complete)

    @property
    def has_usage(self) -> bool:
        return self.summary.total_requests > 0


class ReportOptions(msgspec.Struct, frozen=True):
    cost_basis: CostBasis = "list"
    expensive_models: tuple[str, ...] = ()
    expensive_models_count: int = 5
    anonymized: bool = False
    budgets: Budgets | None = None  # None or nothing set: no budget results
    anomalies: Anomalies | None = None  # None: anomalies are not looked for


# ---------------------------------------------------------------------------------------------
# The views


class _Cells(msgspec.Struct):
    """The ledger grouped by (month, user, model) on one basis: what most sections read."""

    by_month: dict[Month, dict[tuple[str, str], Tally]]
    # Each month's cells by model, as the month's sums hold them (`MonthSums.models`).
    by_model: dict[Month, dict[str, Tally]] = msgspec.field(default_factory=dict)

    def month_models(self, month: Month) -> dict[str, Tally]:
        found = self.by_model.get(month)
        if found is None:
            found = self.by_model[month] = cells_by_model(self.by_month[month])
        return found


class _Sums(msgspec.Struct):
    """Everything the report's sections sum from rows: the (month, user, model) cells, the
    days, the sources, both bases' totals and what the basis leaves out; each month's
    `MonthSums` (made once per month, or read from its ledger file) put together, with Tallies
    made once per group."""

    cells: _Cells
    days: dict[date, Tally]
    day_spenders: dict[date, tuple[int, str]]  # how many users; who spent most
    day_models: dict[date, dict[str, Tally]]
    sources: dict[Source, Tally]
    source_users: dict[Source, set[str]]
    totals: dict[CostBasis, Decimal]
    not_counted: NotCounted

    @classmethod
    def of(cls, ledger: Ledger, basis: CostBasis) -> _Sums:
        with localcontext(EXACT):
            return cls._of(ledger, basis)

    @classmethod
    def _of(cls, ledger: Ledger, basis: CostBasis) -> _Sums:
        by_month: dict[Month, dict[tuple[str, str], Tally]] = {}
        by_model: dict[Month, dict[str, Tally]] = {}
        days: dict[date, Tally] = {}
        day_spenders: dict[date, tuple[int, str]] = {}
        day_models: dict[date, dict[str, Tally]] = {}
        sources: dict[Source, list] = {}
        source_users: dict[Source, set[str]] = {}
        total_list = total_charged = left_charged = ZERO
        left_requests = 0
        for month, sums in zip(ledger.labels, ledger.month_sums(basis), strict=True):
            by_month[month], by_model[month] = sums.cells, sums.models  # shared, never changed
            days.update((day, Tally(*spend)) for day, spend in sums.days.items())
            day_spenders.update(sums.day_spenders)
            day_models.update(
                (day, {model: Tally(*spend) for model, spend in models.items()})
                for day, models in sums.day_models.items()
            )
            for source, (requests, cost) in sums.sources.items():
                on_source = sources.get(source)
                if on_source is None:
                    sources[source] = [requests, cost]
                    source_users[source] = set(sums.source_users[source])
                else:
                    on_source[0] += requests
                    on_source[1] += cost
                    source_users[source] |= sums.source_users[source]
            total_list += sums.total_list
            total_charged += sums.total_charged
            left_requests += sums.left_requests
            left_charged += sums.left_charged
        return cls(
            cells=_Cells(by_month, by_model),
            days=days,
            day_spenders=day_spenders,
            day_models=day_models,
            sources={source: Tally(*spend) for source, spend in sources.items()},
            source_users=source_users,
            totals={"list": total_list, "charged": total_charged},
            not_counted=NotCounted(left_requests, left_charged),
        )


_DEFAULTS = ReportOptions()


def billing_report(
    ledger: Ledger, options: ReportOptions = _DEFAULTS, recent: Ledger | None = None
) -> BillingReport:
    """Every section of the report on the configured basis. `recent` is the latest month with
    the month before it when that one is cached but not analyzed: the forecast and the
    anomalies of a young month read the days before it."""
    if options.cost_basis not in COST_BASES:
        raise ValueError(f"cost_basis must be one of {COST_BASES}, not {options.cost_basis!r}")
    basis = options.cost_basis
    with localcontext(EXACT):
        sums = _Sums.of(ledger, basis)
        cells = sums.cells
        trend = monthly_trend(ledger, cells, basis)
        models = model_spend(cells)
        expensive = expensive_models(
            cells, models, options.expensive_models, options.expensive_models_count
        )
        users = user_spend(cells, {m.model for m in expensive})
        month_models, month_users = month_detail(cells, users)
        teams = team_views(ledger, basis)
        if teams is not None:
            user_teams = teams.user_teams
            users = tuple(
                msgspec.structs.replace(user, team=user_teams[user.email]) for user in users
            )
        as_of_ms = ledger.as_of_ms
        recent = recent or ledger
        projection = forecast(recent, basis)
        budgets: tuple[BudgetResult, ...] = ()
        if options.budgets is not None and budgets_set(options.budgets) and ledger.months:
            budgets = budget_results(
                recent, ledger.months[-1].month, basis, options.budgets, projection
            )
        return BillingReport(
            timezone=ledger.timezone,
            cost_basis=basis,
            as_of=None
            if as_of_ms is None
            else datetime.fromtimestamp(as_of_ms // 1000, timezone.utc),
            months=ledger.labels,
            summary=summary(ledger, basis, trend, models, users, sums),
            monthly_trend=trend,
            users=users,
            models=models,
            expensive_models=expensive,
            month_models=month_models,
            month_users=month_users,
            daily=daily(ledger, basis, sums),
            sources=source_spend(ledger, basis, sums),
            teams=None if teams is None else teams.teams,
            month_teams=None if teams is None else teams.month_teams,
            forecast=projection,
            budgets=budgets,
            anomalies=anomalies(recent, basis, options.anomalies) if options.anomalies else (),
            anonymized=options.anonymized,
            warnings=tuple(w for m in ledger.months for w in m.warnings),
        )


def monthly_trend(ledger: Ledger, cells: _Cells, basis: CostBasis) -> tuple[MonthTrend, ...]:
    """Each month against the previous analyzed one: whole months, except the month in progress,
    which is compared with the same elapsed span of the previous month (`same_days`)."""
    trend = []
    previous: tuple[Month, Decimal] | None = None
    for month_ledger in ledger.months:
        month = month_ledger.month
        month_models = cells.month_models(month).values()
        cost = sum((tally.cost_cents for tally in month_models), ZERO)
        requests = sum(tally.requests for tally in month_models)
        delta_basis: DeltaBasis = "month"
        compared = None if previous is None else previous[1]
        if previous is not None and in_progress(month_ledger, ledger.timezone):
            delta_basis = "same_days"
            elapsed = elapsed_in_month(month, moment_of(month_ledger), ledger.timezone)
            costs = day_costs((r.day, r.cost(basis)) for r in ledger.month_rows(previous[0], basis))
            compared = same_span_cost(costs, previous[0], elapsed)
        delta = None if compared is None else cost - compared
        delta_pct = None
        if delta is not None and compared:
            delta_pct = RATIO.divide(delta * 100, compared)
        trend.append(
            MonthTrend(
                month,
                cost,
                requests,
                delta,
                delta_pct,
                month_ledger.status,
                delta_basis,
                source=month_ledger.source,
            )
        )
        previous = (month, cost)
    return tuple(trend)


def model_spend(cells: _Cells) -> tuple[ModelSpend, ...]:
    totals: dict[str, list[Any]] = {}  # [requests, cost, the four token counts]
    by_month: dict[str, dict[Month, Decimal]] = defaultdict(dict)
    users: dict[str, set[str]] = defaultdict(set)
    for month, month_cells in cells.by_month.items():
        for model, tally in cells.month_models(month).items():
            total = totals.get(model)
            if total is None:
                totals[model] = total = [0, ZERO, 0, 0, 0, 0]
            _add_tally(total, tally)
            by_month[model][month] = tally.cost_cents
        for email, model in month_cells:
            users[model].add(email)
    months = tuple(cells.by_month)
    return tuple(
        ModelSpend(
            model=model,
            cost_cents=tally.cost_cents,
            requests=tally.requests,
            avg_cost_cents=_average(tally),
            unique_users=len(users[model]),
            tokens=TokenCounts.of(tally),
            by_month=_every_month(months, by_month[model]),
        )
        for model, tally in _ranked((model, Tally(*total)) for model, total in totals.items())
    )


def expensive_models(
    cells: _Cells, models: Sequence[ModelSpend], listed: Sequence[str], count: int
) -> tuple[ExpensiveModel, ...]:
    """The listed models that were used, or the N with the highest average cost; ranked by
    average cost per request (compared exactly), then total cost, then name."""
    candidates = [m for m in models if m.model in set(listed)] if listed else list(models)
    candidates.sort(key=lambda m: (-Fraction(m.cost_cents) / m.requests, -m.cost_cents, m.model))
    chosen = candidates if listed else candidates[:count]
    model_users: dict[str, dict[str, list[Any]]] = {m.model: {} for m in chosen}
    for month_cells in cells.by_month.values():
        for (email, model), tally in month_cells.items():
            spends = model_users.get(model)
            if spends is None:
                continue
            spend = spends.get(email)
            if spend is None:
                spends[email] = [tally.requests, ZERO + tally.cost_cents]
            else:
                spend[0] += tally.requests
                spend[1] += tally.cost_cents
    return tuple(
        ExpensiveModel(
            model=m.model,
            avg_cost_cents=m.avg_cost_cents,
            cost_cents=m.cost_cents,
            requests=m.requests,
            users=tuple(
                _by_cost(
                    [
                        ModelUser(email, cost, requests)
                        for email, (requests, cost) in model_users[m.model].items()
                    ],
                    "email",
                )
            ),
        )
        for m in chosen
    )


def user_spend(cells: _Cells, expensive: set[str]) -> tuple[UserSpend, ...]:
    """Each user's cells gathered in one pass, then their spend. Most users of a month with
    very many have a single cell (one model in one month): their spend is that cell's, with no
    sums or dicts of models to make, and an average equal to the cost is the cost itself (one
    decimal kept, not two)."""
    months = tuple(cells.by_month)
    found: dict[str, Any] = {}  # e-mail → its one (month, model, tally), or a list of them
    for month, month_cells in cells.by_month.items():
        for (email, model), tally in month_cells.items():
            cell = (month, model, tally)
            before = found.get(email)
            if before is None:
                found[email] = cell
            elif type(before) is tuple:
                found[email] = [before, cell]
            else:
                before.append(cell)
    rows = []
    no_months = dict.fromkeys(months, ZERO)
    divide = RATIO.divide
    for email, own in found.items():
        if type(own) is not tuple:
            rows.append(_user_of_cells(email, own, months, expensive))
            continue
        month, model, tally = own
        requests, cost = tally.requests, ZERO + tally.cost_cents
        average = divide(cost, requests) if requests else ZERO
        if average == cost:
            average = cost
        by_month = no_months.copy()
        by_month[month] = cost
        if model in expensive:
            share = divide(cost, cost) if cost else ZERO
            row = UserSpend(email, cost, requests, average, model, cost, share, 1, by_month)
        else:
            row = UserSpend(email, cost, requests, average, model, ZERO, ZERO, 0, by_month)
        rows.append(row)
    return tuple(_by_cost(rows, "email"))


def _user_of_cells(
    email: str,
    cells: Sequence[tuple[Month, str, Tally]],
    months: Sequence[Month],
    expensive: set[str],
) -> UserSpend:
    requests, cost, expensive_cost, expensive_months = 0, ZERO, ZERO, 0
    last_expensive: Month | None = None
    by_month = dict.fromkeys(months, ZERO)
    by_model: dict[str, list[Any]] = {}  # [requests, cost]
    for month, model, tally in cells:
        requests += tally.requests
        cost += tally.cost_cents
        by_month[month] += tally.cost_cents
        on_model = by_model.get(model)
        if on_model is None:
            by_model[model] = [tally.requests, ZERO + tally.cost_cents]
        else:
            on_model[0] += tally.requests
            on_model[1] += tally.cost_cents
        if model in expensive:
            expensive_cost += tally.cost_cents
            if last_expensive != month:
                last_expensive = month
                expensive_months += 1
    return UserSpend(
        email=email,
        cost_cents=cost,
        requests=requests,
        avg_cost_cents=RATIO.divide(cost, requests) if requests else ZERO,
        top_model=_top_of(by_model),
        expensive_cost_cents=expensive_cost,
        expensive_share=RATIO.divide(expensive_cost, cost) if cost else ZERO,
        expensive_months=expensive_months,
        by_month=by_month,
    )


def month_detail(
    cells: _Cells, users: Sequence[UserSpend] | None = None
) -> tuple[tuple[MonthModel, ...], tuple[MonthUser, ...]]:
    """Each month's models and users, ranked. With a single month, its users are the report's
    `users` (`user_spend` of the same cells), ranked the same way: taken from them, not summed
    and sorted again."""
    month_models: list[MonthModel] = []
    month_users: list[MonthUser] = []
    for month, month_cells in cells.by_month.items():
        models = cells.month_models(month)
        for model, tally in _ranked(models.items()):
            month_models.append(
                MonthModel(month, model, tally.cost_cents, tally.requests, TokenCounts.of(tally))
            )
        if users is not None and len(cells.by_month) == 1:
            month_users.extend(
                MonthUser(month, u.email, u.cost_cents, u.requests, u.top_model) for u in users
            )
            continue
        found: dict[str, Any] = {}  # e-mail → its one (model, tally), or a list of them
        for (email, model), tally in month_cells.items():
            before = found.get(email)
            if before is None:
                found[email] = (model, tally)
            elif type(before) is tuple:
                found[email] = [before, (model, tally)]
            else:
                before.append((model, tally))
        rows = []
        for email, own in found.items():
            if type(own) is tuple:
                model, tally = own
                cost = ZERO + tally.cost_cents
                rows.append(MonthUser(month, email, cost, tally.requests, model))
                continue
            requests, cost = 0, ZERO
            by_model: dict[str, tuple[int, Decimal]] = {}
            for model, tally in own:
                requests += tally.requests
                cost += tally.cost_cents
                by_model[model] = (tally.requests, tally.cost_cents)
            rows.append(MonthUser(month, email, cost, requests, _top_of(by_model)))
        month_users.extend(_by_cost(rows, "email"))
    return tuple(month_models), tuple(month_users)


def summary(
    ledger: Ledger,
    basis: CostBasis,
    trend: Sequence[MonthTrend],
    models: Sequence[ModelSpend],
    users: Sequence[UserSpend],
    sums: _Sums | None = None,
) -> Summary:
    sums = sums or _Sums.of(ledger, basis)
    return Summary(
        total_cost_cents=sum((row.cost_cents for row in trend), ZERO),
        total_requests=sum(row.requests for row in trend),
        months_analyzed=len(trend),
        current_month=trend[-1].month if trend else None,
        current_month_cost_cents=trend[-1].cost_cents if trend else ZERO,
        costliest_model=models[0].model if models else None,
        top_spender=users[0].email if users else None,
        totals_by_basis={name: sums.totals[name] for name in COST_BASES},
        not_counted=sums.not_counted,
    )


def daily(ledger: Ledger, basis: CostBasis, sums: _Sums | None = None) -> tuple[DaySpend, ...]:
    """Every day of the analyzed months up to `as_of`, zeros where nothing happened."""
    if not ledger.months or ledger.as_of_ms is None:
        return ()
    sums = sums or _Sums.of(ledger, basis)
    days, day_spenders, day_models = sums.days, sums.day_spenders, sums.day_models
    first = ledger.months[0].month
    day = date(first.year, first.month, 1)
    last = datetime.fromtimestamp(ledger.as_of_ms / 1000, ledger.zone).date()
    analyzed = set(ledger.labels)
    rows = []
    while day <= last:
        if Month(day.year, day.month) in analyzed:
            tally = days.get(day) or Tally()
            users, top_user = day_spenders.get(day, (0, None))
            models = day_models.get(day)
            rows.append(
                DaySpend(
                    day,
                    tally.cost_cents,
                    tally.requests,
                    users,
                    top_user,
                    top_model(models) if models else None,
                )
            )
        day += timedelta(days=1)
    return tuple(rows)


def source_spend(
    ledger: Ledger, basis: CostBasis, sums: _Sums | None = None
) -> tuple[SourceSpend, ...]:
    sums = sums or _Sums.of(ledger, basis)
    return tuple(
        SourceSpend(source, tally.cost_cents, tally.requests, len(sums.source_users[source]))
        for source, tally in _ranked(sums.sources.items())
        if tally.requests
    )


# ---------------------------------------------------------------------------------------------
# Shared rules


def top_model(by_model: Mapping[str, Tally]) -> str:
    """Most requests; ties go to the higher cost, then the name in alphabetical order."""
    model, _ = min(
        by_model.items(), key=lambda item: (-item[1].requests, -item[1].cost_cents, item[0])
    )
    return model


def _top_of(by_model: Mapping[str, Sequence[Any]]) -> str:
    """`top_model` of [requests, cost] pairs."""
    if len(by_model) == 1:
        return next(iter(by_model))
    model, _ = min(by_model.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return model


def _ranked(items: Iterable[tuple[K, Tally]]) -> list[tuple[K, Tally]]:
    """Highest cost first, ties by name / e-mail."""
    ranked = sorted(items, key=itemgetter(0))
    ranked.sort(key=lambda item: item[1].cost_cents, reverse=True)
    return ranked


def _by_cost(rows: list[R], name: str) -> list[R]:
    """`rows` (with distinct names) highest `cost_cents` first, ties by the `name` attribute:
    two stable sorts on plain attributes, the order of one sort by (-cost, name) without
    making a negated decimal and a tuple per row."""
    rows.sort(key=attrgetter(name))
    rows.sort(key=attrgetter("cost_cents"), reverse=True)
    return rows


def _add_tally(into: list[Any], tally: Tally) -> None:
    """Add a tally to [requests, cost, the four token counts]."""
    into[0] += tally.requests
    into[1] += tally.cost_cents
    into[2] += tally.input_tokens
    into[3] += tally.output_tokens
    into[4] += tally.cache_write_tokens
    into[5] += tally.cache_read_tokens


def _average(tally: Tally) -> Decimal:
    return RATIO.divide(tally.cost_cents, tally.requests) if tally.requests else ZERO


def _every_month(months: Sequence[Month], costs: Mapping[Month, Decimal]) -> dict[Month, Decimal]:
    return {month: costs.get(month, ZERO) for month in months}
