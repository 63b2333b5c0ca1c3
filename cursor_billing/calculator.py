"""The cost maths of SPEC §7: billable usage events in, one `BillingReport` out.

Months are added one at a time and each is folded in a single pass into small per-(user, model)
tallies, so memory follows the largest month; everything in the report is derived from those
tallies. Sums are exact decimals; only ratios (averages, shares, percentages) are rounded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, localcontext
from fractions import Fraction
from typing import Any

from cursor_billing.events import COST_BASES, UsageEvent, is_on_demand_kind
from cursor_billing.months import Month

SCHEMA_VERSION = 1
ZERO = Decimal(0)
# Sums run in a context wide enough that adding decimals never rounds.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
# Ratios get 28 significant digits whatever the caller's thread context says.
_RATIO = Context(prec=28)
_JSON_QUANTUM = Decimal("0.000001")

# A tally is a plain list, because the per-event loop must stay cheap:
# [requests, cost_cents, input, output, cache_write, cache_read]
_Tally = list
_REQUESTS, _COST = 0, 1


def _new_tally() -> _Tally:
    return [0, ZERO, 0, 0, 0, 0]


def _tallies() -> defaultdict[str, _Tally]:
    """Tallies by name (a model or an e-mail), each started at zero when first used."""
    return defaultdict(_new_tally)


def _merge(into: _Tally, tally: _Tally) -> None:
    # Written out: a report on a big team merges a million tallies.
    into[0] += tally[0]
    into[1] += tally[1]
    into[2] += tally[2]
    into[3] += tally[3]
    into[4] += tally[4]
    into[5] += tally[5]


@dataclass(frozen=True)
class TokenCounts:
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read


@dataclass(frozen=True)
class MonthTrend:
    """One analyzed month; the deltas compare it with the month before (None for the first)."""

    month: str
    cost_cents: Decimal
    requests: int
    delta_cents: Decimal | None
    delta_pct: Decimal | None
    complete: bool

    @property
    def partial(self) -> bool:
        return not self.complete


@dataclass(frozen=True)
class UserSpend:
    email: str
    cost_cents: Decimal
    requests: int
    avg_cost_cents: Decimal
    top_model: str
    expensive_cost_cents: Decimal
    expensive_share: Decimal  # expensive_cost_cents ÷ cost_cents, 0..1
    expensive_months: int  # analyzed months in which they used an expensive model
    by_month: Mapping[str, Decimal]  # every analyzed month, chronological


@dataclass(frozen=True)
class ModelSpend:
    model: str
    cost_cents: Decimal
    requests: int
    avg_cost_cents: Decimal
    unique_users: int
    tokens: TokenCounts
    by_month: Mapping[str, Decimal]  # every analyzed month, chronological


@dataclass(frozen=True)
class ModelUser:
    """One user's spend on one model."""

    email: str
    cost_cents: Decimal
    requests: int


@dataclass(frozen=True)
class ExpensiveModel:
    model: str
    avg_cost_cents: Decimal
    cost_cents: Decimal
    requests: int
    users: tuple[ModelUser, ...]  # ranked by their spend on this model


@dataclass(frozen=True)
class MonthModel:
    month: str
    model: str
    cost_cents: Decimal
    requests: int
    tokens: TokenCounts


@dataclass(frozen=True)
class MonthUser:
    month: str
    email: str
    cost_cents: Decimal
    requests: int
    top_model: str  # of this user in this month


@dataclass(frozen=True)
class Summary:
    total_cost_cents: Decimal
    total_requests: int
    months_analyzed: int
    current_month: str | None  # the latest analyzed month; None only when no month was added
    current_month_cost_cents: Decimal
    costliest_model: str | None  # None when nothing is billable
    top_spender: str | None


@dataclass(frozen=True)
class BillingReport:
    """Everything `analyze`, `report` and the dashboard show, ranked as SPEC §7 says."""

    timezone: str
    cost_basis: str
    months: tuple[str, ...]  # chronological, including months with nothing billable
    summary: Summary
    monthly_trend: tuple[MonthTrend, ...]
    users: tuple[UserSpend, ...]  # everyone, ranked by cost
    models: tuple[ModelSpend, ...]  # every model, ranked by cost
    expensive_models: tuple[ExpensiveModel, ...]  # ranked by average cost per request
    month_models: tuple[MonthModel, ...]  # chronological, ranked by cost within a month
    month_users: tuple[MonthUser, ...]  # chronological, ranked by cost within a month

    @property
    def partial_months(self) -> tuple[str, ...]:
        return tuple(row.month for row in self.monthly_trend if not row.complete)

    @property
    def has_usage(self) -> bool:
        return self.summary.total_requests > 0

    def to_json(self, *, decimals: bool = False) -> dict[str, Any]:
        """The `analyze --json` document as plain dicts, lists, strings, ints and floats.

        Money, averages, shares and percentages are rounded to 6 decimals. As floats (ready for
        `json.dumps`) they print back as exactly that decimal for amounts under 10^9 cents
        ($10M), which have at most 15 significant digits. `decimals=True` keeps them as
        `Decimal`, exact at any size, for an encoder that writes decimals as JSON numbers
        (msgspec with `decimal_format="number"`)."""
        number = _json_decimal if decimals else json_number
        summary = self.summary
        return {
            "schema_version": SCHEMA_VERSION,
            "timezone": self.timezone,
            "cost_basis": self.cost_basis,
            "months": list(self.months),
            "summary": {
                "total_cost_cents": number(summary.total_cost_cents),
                "total_requests": summary.total_requests,
                "months_analyzed": summary.months_analyzed,
                "current_month": summary.current_month,
                "current_month_cost_cents": number(summary.current_month_cost_cents),
                "costliest_model": summary.costliest_model,
                "top_spender": summary.top_spender,
            },
            "monthly_trend": [
                {
                    "month": row.month,
                    "cost_cents": number(row.cost_cents),
                    "requests": row.requests,
                    "delta_cents": number(row.delta_cents),
                    "delta_pct": number(row.delta_pct),
                    "complete": row.complete,
                }
                for row in self.monthly_trend
            ],
            "users": [
                {
                    "email": user.email,
                    "cost_cents": number(user.cost_cents),
                    "requests": user.requests,
                    "avg_cost_cents": number(user.avg_cost_cents),
                    "top_model": user.top_model,
                    "expensive_share": number(user.expensive_share),
                    "expensive_months": user.expensive_months,
                    "by_month": {m: number(c) for m, c in user.by_month.items()},
                }
                for user in self.users
            ],
            "models": [
                {
                    "model": model.model,
                    "cost_cents": number(model.cost_cents),
                    "requests": model.requests,
                    "avg_cost_cents": number(model.avg_cost_cents),
                    "unique_users": model.unique_users,
                    "tokens": {
                        "input": model.tokens.input,
                        "output": model.tokens.output,
                        "cache_write": model.tokens.cache_write,
                        "cache_read": model.tokens.cache_read,
                        "total": model.tokens.total,
                    },
                    "by_month": {m: number(c) for m, c in model.by_month.items()},
                }
                for model in self.models
            ],
            "expensive_models": [
                {
                    "model": model.model,
                    "avg_cost_cents": number(model.avg_cost_cents),
                    "cost_cents": number(model.cost_cents),
                    "users": [
                        {
                            "email": user.email,
                            "cost_cents": number(user.cost_cents),
                            "requests": user.requests,
                        }
                        for user in model.users
                    ],
                }
                for model in self.expensive_models
            ],
            "month_models": [
                {
                    "month": row.month,
                    "model": row.model,
                    "cost_cents": number(row.cost_cents),
                    "requests": row.requests,
                    "tokens": row.tokens.total,
                }
                for row in self.month_models
            ],
            "month_users": [
                {
                    "month": row.month,
                    "email": row.email,
                    "cost_cents": number(row.cost_cents),
                    "requests": row.requests,
                    "top_model": row.top_model,
                }
                for row in self.month_users
            ],
        }


def json_number(value: Decimal | None) -> float | None:
    """A decimal as a JSON-ready float rounded to 6 decimals (None stays None, never -0.0)."""
    rounded = _json_decimal(value)
    return None if rounded is None else float(rounded)


def _json_decimal(value: Decimal | None) -> Decimal | None:
    """A decimal rounded to 6 decimals without trailing zeros (None stays None)."""
    if value is None:
        return None
    rounded = value.quantize(_JSON_QUANTUM, context=_EXACT)
    if rounded == rounded.to_integral_value():
        return _EXACT.add(rounded.quantize(Decimal(1), context=_EXACT), 0)  # never -0
    return rounded.normalize(_EXACT)


@dataclass
class _MonthTallies:
    complete: bool
    cells: dict[tuple[str, str], _Tally]  # (email, model) → tally


class BillingCalculator:
    """Folds months of usage events into per-(user, model) tallies and derives the report."""

    def __init__(
        self,
        cost_basis: str = "list",
        expensive_models: Sequence[str] = (),
        expensive_models_count: int = 5,
        timezone: str = "UTC",
    ) -> None:
        if cost_basis not in COST_BASES:
            raise ValueError(f"cost_basis must be one of {COST_BASES}, not {cost_basis!r}")
        if expensive_models_count < 0:
            raise ValueError("expensive_models_count must not be negative")
        self.cost_basis = cost_basis
        self.expensive_models = tuple(expensive_models)
        self.expensive_models_count = expensive_models_count
        self.timezone = timezone
        self._months: dict[Month, _MonthTallies] = {}
        self._on_demand_kinds: dict[str, bool] = {}

    def add_month(self, month: str, complete: bool, events: Iterable[UsageEvent]) -> None:
        """Fold one month's events in; only billable events count. Each month once."""
        key = Month.parse(month)
        if key in self._months:
            raise ValueError(f"month {key.label} was already added")
        charged = self.cost_basis == "charged"
        kinds = self._on_demand_kinds
        cells: dict[tuple[str, str], _Tally] = {}
        with localcontext(_EXACT):
            for event in events:
                # `UsageEvent.billable` and `UsageEvent.cost_cents()` written out, with the kind
                # check memoised: this loop runs once per cached event, a million times a year.
                if not (event.isChargeable and event.isTokenBasedCall):
                    continue
                kind = event.kind or event.kindLabel
                on_demand = kinds.get(kind)
                if on_demand is None:
                    on_demand = kinds[kind] = is_on_demand_kind(kind)
                if not on_demand:
                    continue
                cell = (event.userEmail, event.model)
                tally = cells.get(cell)
                if tally is None:
                    tally = cells[cell] = [0, ZERO, 0, 0, 0, 0]
                tally[0] += 1
                usage = event.tokenUsage
                if usage is not None:
                    tally[2] += usage.inputTokens
                    tally[3] += usage.outputTokens
                    tally[4] += usage.cacheWriteTokens
                    tally[5] += usage.cacheReadTokens
                # Exact decimal adds, so adding the two parts one by one is the same sum.
                if charged and event.chargedCents is not None:
                    tally[1] += event.chargedCents
                    continue
                if usage is not None:
                    tally[1] += usage.totalCents
                fee = event.cursorTokenFee
                if fee is not None:
                    tally[1] += fee
        if not all(tally[_COST].is_finite() for tally in cells.values()):
            raise ArithmeticError(f"{key.label}: an event's cost is not a finite number")
        self._months[key] = _MonthTallies(bool(complete), cells)

    def report(self) -> BillingReport:
        with localcontext(_EXACT):
            return self._derive()

    def _derive(self) -> BillingReport:
        months = sorted(self._months)
        labels = tuple(month.label for month in months)
        # Over all months. Per user only requests and cost are shown, so user tallies add up
        # those two and leave the token counts at 0.
        user_models: defaultdict[str, dict[str, _Tally]] = defaultdict(_tallies)
        model_totals = _tallies()
        user_by_month: defaultdict[str, dict[str, Decimal]] = defaultdict(dict)
        user_month_models: defaultdict[str, list[set[str]]] = defaultdict(list)
        model_by_month: defaultdict[str, dict[str, Decimal]] = defaultdict(dict)
        trend: list[MonthTrend] = []
        month_models: list[MonthModel] = []
        month_users: list[MonthUser] = []

        previous_cost: Decimal | None = None
        for month in months:
            label = month.label
            month_data = self._months[month]
            models, user_totals = _tallies(), _tallies()
            users: defaultdict[str, dict[str, _Tally]] = defaultdict(dict)
            for (email, model), tally in month_data.cells.items():
                _merge(models[model], tally)
                _add_spend(user_totals[email], tally)
                _add_spend(user_models[email][model], tally)
                users[email][model] = tally
            for model, tally in models.items():
                _merge(model_totals[model], tally)

            cost = sum((tally[_COST] for tally in models.values()), ZERO)
            requests = sum(tally[_REQUESTS] for tally in models.values())
            delta = None if previous_cost is None else cost - previous_cost
            delta_pct = None
            if delta is not None and previous_cost:
                delta_pct = _RATIO.divide(delta * 100, previous_cost)
            trend.append(MonthTrend(label, cost, requests, delta, delta_pct, month_data.complete))
            previous_cost = cost

            for model, tally in _ranked(models.items()):
                model_by_month[model][label] = tally[_COST]
                month_models.append(
                    MonthModel(label, model, tally[_COST], tally[_REQUESTS], _tokens(tally))
                )
            for email, tally in _ranked(user_totals.items()):
                user_by_month[email][label] = tally[_COST]
                user_month_models[email].append(set(users[email]))
                month_users.append(
                    MonthUser(
                        label, email, tally[_COST], tally[_REQUESTS], _top_model(users[email])
                    )
                )

        model_users: defaultdict[str, dict[str, _Tally]] = defaultdict(dict)
        for email, by_model in user_models.items():
            for model, tally in by_model.items():
                model_users[model][email] = tally

        expensive = self._expensive(model_totals)
        expensive_names = {model for model, _ in expensive}
        user_rows = []
        for email, by_model in user_models.items():
            total = _sum_tallies(by_model.values())
            expensive_cost = sum(
                (tally[_COST] for model, tally in by_model.items() if model in expensive_names),
                ZERO,
            )
            user_rows.append(
                UserSpend(
                    email=email,
                    cost_cents=total[_COST],
                    requests=total[_REQUESTS],
                    avg_cost_cents=_average(total),
                    top_model=_top_model(by_model),
                    expensive_cost_cents=expensive_cost,
                    expensive_share=_RATIO.divide(expensive_cost, total[_COST])
                    if total[_COST]
                    else ZERO,
                    expensive_months=sum(
                        1 for used in user_month_models[email] if used & expensive_names
                    ),
                    by_month=_every_month(labels, user_by_month[email]),
                )
            )
        user_rows.sort(key=lambda user: (-user.cost_cents, user.email))

        model_rows = [
            ModelSpend(
                model=model,
                cost_cents=tally[_COST],
                requests=tally[_REQUESTS],
                avg_cost_cents=_average(tally),
                unique_users=len(model_users[model]),
                tokens=_tokens(tally),
                by_month=_every_month(labels, model_by_month[model]),
            )
            for model, tally in _ranked(model_totals.items())
        ]
        expensive_rows = tuple(
            ExpensiveModel(
                model=model,
                avg_cost_cents=_average(tally),
                cost_cents=tally[_COST],
                requests=tally[_REQUESTS],
                users=tuple(
                    ModelUser(email, user_tally[_COST], user_tally[_REQUESTS])
                    for email, user_tally in _ranked(model_users[model].items())
                ),
            )
            for model, tally in expensive
        )

        total_cost = sum((row.cost_cents for row in trend), ZERO)
        summary = Summary(
            total_cost_cents=total_cost,
            total_requests=sum(row.requests for row in trend),
            months_analyzed=len(labels),
            current_month=labels[-1] if labels else None,
            current_month_cost_cents=trend[-1].cost_cents if trend else ZERO,
            costliest_model=model_rows[0].model if model_rows else None,
            top_spender=user_rows[0].email if user_rows else None,
        )
        return BillingReport(
            timezone=self.timezone,
            cost_basis=self.cost_basis,
            months=labels,
            summary=summary,
            monthly_trend=tuple(trend),
            users=tuple(user_rows),
            models=tuple(model_rows),
            expensive_models=expensive_rows,
            month_models=tuple(month_models),
            month_users=tuple(month_users),
        )

    def _expensive(self, model_totals: dict[str, _Tally]) -> list[tuple[str, _Tally]]:
        """The listed models that were used, or the N with the highest average cost; ranked by
        average cost per request (compared exactly), then total cost, then name."""
        if self.expensive_models:
            listed = set(self.expensive_models)
            candidates = [item for item in model_totals.items() if item[0] in listed]
        else:
            candidates = list(model_totals.items())
        candidates.sort(
            key=lambda item: (
                -Fraction(item[1][_COST]) / item[1][_REQUESTS],
                -item[1][_COST],
                item[0],
            )
        )
        return candidates if self.expensive_models else candidates[: self.expensive_models_count]


def _ranked(items: Iterable[tuple[str, _Tally]]) -> list[tuple[str, _Tally]]:
    """Highest cost first, ties by name / e-mail."""
    return sorted(items, key=lambda item: (-item[1][_COST], item[0]))


def _top_model(by_model: Mapping[str, _Tally]) -> str:
    """Most requests; ties go to the higher cost, then the name in alphabetical order."""
    model, _ = min(
        by_model.items(), key=lambda item: (-item[1][_REQUESTS], -item[1][_COST], item[0])
    )
    return model


def _add_spend(into: _Tally, tally: _Tally) -> None:
    """Requests and cost only."""
    into[_REQUESTS] += tally[_REQUESTS]
    into[_COST] += tally[_COST]


def _sum_tallies(tallies: Iterable[_Tally]) -> _Tally:
    total = _new_tally()
    for tally in tallies:
        _merge(total, tally)
    return total


def _average(tally: _Tally) -> Decimal:
    return _RATIO.divide(tally[_COST], tally[_REQUESTS]) if tally[_REQUESTS] else ZERO


def _tokens(tally: _Tally) -> TokenCounts:
    return TokenCounts(*tally[2:6])


def _every_month(labels: Sequence[str], costs: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {label: costs.get(label, ZERO) for label in labels}
