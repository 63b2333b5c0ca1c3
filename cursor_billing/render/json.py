"""The JSON documents of the tool (documented in docs/json.md, schemas in docs/schemas/): money
stays an exact decimal number, never a float approximation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cursor_billing.jsonout import Rows, dump_chunks, dumps, materialized
from cursor_billing.ledger import EXACT
from cursor_billing.months import Month
from cursor_billing.views.checks import Anomaly, BudgetResult
from cursor_billing.views.forecast import Forecast
from cursor_billing.views.report import (
    BillingReport,
    DaySpend,
    ModelUser,
    MonthUser,
    TokenCounts,
    UserSpend,
)

if TYPE_CHECKING:
    from cursor_billing.jobs.check import CheckResult
    from cursor_billing.jobs.daily import DailyResult
    from cursor_billing.views.reconcile import Reconciliation

Number = Callable[[Decimal | None], Any]

SCHEMA_VERSION = 2
__all__ = [
    "analysis_chunks",
    "analysis_document",
    "check_document",
    "daily_document",
    "dumps",
    "json_decimal",
    "json_number",
    "reconcile_document",
    "utc_text",
]
_JSON_QUANTUM = Decimal("0.000001")
_ZERO = Decimal(0)


def json_number(value: Decimal | None) -> float | None:
    """A decimal as a JSON-ready float rounded to 6 decimals (None stays None, never -0.0)."""
    rounded = json_decimal(value)
    return None if rounded is None else float(rounded)


def json_decimal(value: Decimal | None) -> Decimal | None:
    """A decimal rounded to 6 decimals without trailing zeros (None stays None)."""
    if value is None:
        return None
    if not value:
        return _ZERO  # a user's many empty months: no rounding to do
    # Most amounts (sums of 2–4-place costs) are already an integer or have 1–6 places without
    # a trailing zero: then rounding and normalizing give back the same digits. Their text,
    # which the encoder makes anyway, says so for a fraction of the cost of `quantize`.
    text = str(value)
    point = text.find(".")
    if "E" not in text and value.is_finite():
        if point < 0 or (len(text) - point <= 7 and text[-1] != "0"):
            return value
    rounded = value.quantize(_JSON_QUANTUM, context=EXACT)
    if rounded == rounded.to_integral_value():
        return EXACT.add(rounded.quantize(Decimal(1), context=EXACT), 0)  # never -0
    return rounded.normalize(EXACT)


def utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def analysis_document(report: BillingReport, *, decimals: bool = False) -> dict[str, Any]:
    """The `analyze --json` document (schema 2) as plain dicts, lists, strings and numbers.

    Money, averages, shares and percentages are rounded to 6 decimals. As floats (ready for
    `json.dumps`) they print back as exactly that decimal for amounts under 10^9 cents ($10M),
    which have at most 15 significant digits. `decimals=True` keeps them as `Decimal`, exact at
    any size, for `dumps`."""
    document: dict[str, Any] = materialized(_analysis(report, decimals))
    return document


def analysis_chunks(report: BillingReport) -> Iterator[bytes]:
    """The bytes of `dumps(analysis_document(report, decimals=True))`, in pieces: the long
    lists (users, month_users, the users of expensive models) made a chunk at a time as they
    are written, never the whole document in memory."""
    return dump_chunks(_analysis(report, decimals=True))


def _analysis(report: BillingReport, decimals: bool) -> dict[str, Any]:
    """The document, its long lists as `Rows` (made as they are read)."""
    number = json_decimal if decimals else json_number
    summary = report.summary
    labels = {month: month.label for month in report.months}  # once, not once per user

    def by_month(costs: Mapping[Month, Decimal]) -> dict[str, Any]:
        return {labels[month]: number(cost) for month, cost in costs.items()}

    def user_entry(user: UserSpend) -> dict[str, Any]:
        # Most users' average and months are their cost itself: rounded once, not three times.
        cost = user.cost_cents
        cost_number = number(cost)
        average = user.avg_cost_cents
        return {
            "email": user.email,
            "cost_cents": cost_number,
            "requests": user.requests,
            "avg_cost_cents": cost_number if average is cost else number(average),
            "top_model": user.top_model,
            "team": user.team,
            "expensive_share": number(user.expensive_share),
            "expensive_months": user.expensive_months,
            "by_month": {
                labels[month]: cost_number if spent is cost else number(spent)
                for month, spent in user.by_month.items()
            },
        }

    def model_user_entry(user: ModelUser) -> dict[str, Any]:
        return {
            "email": user.email,
            "cost_cents": number(user.cost_cents),
            "requests": user.requests,
        }

    def month_user_entry(row: MonthUser) -> dict[str, Any]:
        return {
            "month": labels[row.month],
            "email": row.email,
            "cost_cents": number(row.cost_cents),
            "requests": row.requests,
            "top_model": row.top_model,
        }

    def tokens(counts: TokenCounts) -> dict[str, int]:
        return {
            "input": counts.input,
            "output": counts.output,
            "cache_write": counts.cache_write,
            "cache_read": counts.cache_read,
            "total": counts.total,
        }

    return {
        "schema_version": SCHEMA_VERSION,
        "timezone": report.timezone,
        "cost_basis": report.cost_basis,
        "as_of": utc_text(report.as_of),
        "anonymized": report.anonymized,
        "months": [month.label for month in report.months],
        "summary": {
            "total_cost_cents": number(summary.total_cost_cents),
            "total_requests": summary.total_requests,
            "months_analyzed": summary.months_analyzed,
            "current_month": summary.current_month.label if summary.current_month else None,
            "current_month_cost_cents": number(summary.current_month_cost_cents),
            "costliest_model": summary.costliest_model,
            "top_spender": summary.top_spender,
            "totals_by_basis": {
                basis: number(cents) for basis, cents in summary.totals_by_basis.items()
            },
            "not_counted": {
                "events": summary.not_counted.events,
                "charged_cents": number(summary.not_counted.charged_cents),
            },
        },
        "monthly_trend": [
            {
                "month": row.month.label,
                "cost_cents": number(row.cost_cents),
                "requests": row.requests,
                "delta_cents": number(row.delta_cents),
                "delta_pct": number(row.delta_pct),
                "delta_basis": row.delta_basis,
                "status": row.status,
                "complete": row.complete,
                "source": row.source,
            }
            for row in report.monthly_trend
        ],
        "forecast": forecast_document(report.forecast, number),
        "daily": daily_rows(report.daily, number),
        "users": Rows(report.users, user_entry),
        "models": [
            {
                "model": model.model,
                "cost_cents": number(model.cost_cents),
                "requests": model.requests,
                "avg_cost_cents": number(model.avg_cost_cents),
                "unique_users": model.unique_users,
                "tokens": tokens(model.tokens),
                "by_month": by_month(model.by_month),
            }
            for model in report.models
        ],
        "expensive_models": [
            {
                "model": model.model,
                "avg_cost_cents": number(model.avg_cost_cents),
                "cost_cents": number(model.cost_cents),
                "users": Rows(model.users, model_user_entry),
            }
            for model in report.expensive_models
        ],
        "teams": None
        if report.teams is None
        else [
            {
                "team": team.team,
                "cost_cents": number(team.cost_cents),
                "requests": team.requests,
                "users": team.users,
                "top_model": team.top_model,
                "by_month": by_month(team.by_month),
            }
            for team in report.teams
        ],
        "sources": [
            {
                "source": row.source,
                "cost_cents": number(row.cost_cents),
                "requests": row.requests,
                "users": row.users,
            }
            for row in report.sources
        ],
        "budgets": budget_rows(report.budgets, number),
        "anomalies": anomaly_rows(report.anomalies, number),
        "month_models": [
            {
                "month": row.month.label,
                "model": row.model,
                "cost_cents": number(row.cost_cents),
                "requests": row.requests,
                "tokens": row.tokens.total,
            }
            for row in report.month_models
        ],
        "month_users": Rows(report.month_users, month_user_entry),
        "month_teams": None
        if report.month_teams is None
        else [
            {
                "month": row.month.label,
                "team": row.team,
                "cost_cents": number(row.cost_cents),
                "requests": row.requests,
            }
            for row in report.month_teams
        ],
    }


def reconcile_document(reconciliation: Reconciliation, *, decimals: bool = False) -> dict[str, Any]:
    """The `reconcile --json` document (SPEC §10). `cycle_start` keeps Cursor's milliseconds."""
    number = json_decimal if decimals else json_number
    totals = reconciliation.totals
    cycle_start = reconciliation.cycle_start.astimezone(timezone.utc)
    return {
        "schema_version": SCHEMA_VERSION,
        "cycle_start": cycle_start.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{cycle_start.microsecond // 1000:03d}Z",
        "as_of": utc_text(reconciliation.as_of),
        "members": [
            {
                "email": member.email,
                "api_cents": number(member.api_cents),
                "cache_cents": number(member.cache_cents),
                "diff_cents": number(member.diff_cents),
                "status": member.status,
            }
            for member in reconciliation.members
        ],
        "totals": {
            "api_cents": number(totals.api_cents),
            "cache_cents": number(totals.cache_cents),
            "diff_cents": number(totals.diff_cents),
        },
        "ok": reconciliation.ok,
    }


def forecast_document(forecast: Forecast | None, number: Number) -> dict[str, Any] | None:
    if forecast is None:
        return None
    return {
        "month": forecast.month.label,
        "as_of": utc_text(forecast.as_of),
        "month_to_date_cents": number(forecast.month_to_date_cents),
        "projected_cents": number(forecast.projected_cents),
        "low_cents": number(forecast.low_cents),
        "high_cents": number(forecast.high_cents),
        "same_days_last_month_cents": number(forecast.same_days_last_month_cents),
        "change_to_date_pct": number(forecast.change_to_date_pct),
        "users": [
            {
                "email": row.name,
                "month_to_date_cents": number(row.month_to_date_cents),
                "projected_cents": number(row.projected_cents),
            }
            for row in forecast.users
        ],
        "teams": [
            {
                "team": row.name,
                "month_to_date_cents": number(row.month_to_date_cents),
                "projected_cents": number(row.projected_cents),
            }
            for row in forecast.teams
        ],
    }


def daily_rows(days: Sequence[DaySpend], number: Number) -> list[dict[str, Any]]:
    return [
        {
            "date": row.day.isoformat(),
            "cost_cents": number(row.cost_cents),
            "requests": row.requests,
            "users": row.users,
            "top_user": row.top_user,
            "top_model": row.top_model,
        }
        for row in days
    ]


def budget_rows(budgets: Sequence[BudgetResult], number: Number) -> list[dict[str, Any]]:
    return [
        {
            "scope": row.scope,
            "name": row.name,
            "limit_cents": number(row.limit_cents),
            "spent_cents": number(row.spent_cents),
            "projected_cents": number(row.projected_cents),
            "status": row.status,
        }
        for row in budgets
    ]


def anomaly_rows(anomalies: Sequence[Anomaly], number: Number) -> list[dict[str, Any]]:
    return [
        {
            "kind": row.kind,
            "email": row.email,
            "date": row.day.isoformat(),
            "cost_cents": number(row.cost_cents),
            "baseline_cents": number(row.baseline_cents),
            "factor": number(row.factor),
            "reason": row.reason,
        }
        for row in anomalies
    ]


def daily_document(result: DailyResult, *, decimals: bool = False) -> dict[str, Any]:
    """The `daily --json` document (SPEC §2)."""
    number = json_decimal if decimals else json_number
    return {
        "schema_version": SCHEMA_VERSION,
        "timezone": result.timezone,
        "cost_basis": result.cost_basis,
        "anonymized": result.anonymized,
        "daily": daily_rows(result.days, number),
    }


def check_document(result: CheckResult, *, decimals: bool = False) -> dict[str, Any]:
    """The `check --json` document (SPEC §9), also what `notify_format: json` posts."""
    number = json_decimal if decimals else json_number
    return {
        "schema_version": SCHEMA_VERSION,
        "month": result.month.label,
        "as_of": utc_text(result.as_of),
        "cost_basis": result.cost_basis,
        "anonymized": result.anonymized,
        "budgets": budget_rows(result.budgets, number),
        "anomalies": anomaly_rows(result.anomalies, number),
        "ok": result.ok,
    }


def webhook_body(result: CheckResult, notify_format: str) -> bytes:
    """What `check --notify` posts: Slack-style `{"text": …}` or the check document."""
    if notify_format == "json":
        return dumps(check_document(result, decimals=True))
    from cursor_billing.render.text import check_message

    return dumps({"text": check_message(result)})
