""" "What changed" (SPEC §8): three to six plain sentences generated from a report's numbers: the
latest month's change and who and which models drove it, new big spenders, anomalies, budgets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from cursor_billing.months import Month
from cursor_billing.render.text import (
    MONTH_STATUS_NAMES,
    cut,
    money,
    percent,
    share,
    signed_money,
    whole_money,
)
from cursor_billing.views.checks import BudgetResult
from cursor_billing.views.report import BillingReport, MonthTrend

SENTENCE_NAME_LIMIT = 40  # names inside a sentence are cut shorter than in a table cell
DRIVERS = 2  # users / models named as drivers of a change
NEW_SPENDER_SHARE = Decimal("0.05")  # "big": at least this share of the month's spend
MAX_SENTENCES = 6
ZERO = Decimal(0)


def what_changed(report: BillingReport) -> tuple[str, ...]:
    """The sentences, most important first; one sentence when nothing is billable."""
    trend = report.monthly_trend
    if not report.has_usage or not trend:
        return ("No on-demand usage in these months.",)
    latest = trend[-1]
    previous = trend[-2] if len(trend) > 1 else None
    sentences = [_month_change(report, latest, previous)]
    if previous is not None and latest.status != "in_progress":
        sentences += _drivers(report, latest, previous)
    else:
        sentences += _leaders(report, latest.month)
    if previous is not None:
        sentences += _new_spenders(report, latest.month, previous.month)
    sentences += _anomalies(report)
    sentences += _budgets(report.budgets)
    if len(sentences) < 3:
        sentences += _costliest(report)
    return tuple(sentences[:MAX_SENTENCES])


def _month_change(report: BillingReport, latest: MonthTrend, previous: MonthTrend | None) -> str:
    title = latest.month.title
    forecast = report.forecast
    if latest.status == "in_progress":
        text = f"{title} so far: {money(latest.cost_cents)}"
        if forecast is not None and forecast.month == latest.month:
            text += (
                f", on pace for {whole_money(forecast.projected_cents)}"
                f" ({whole_money(forecast.low_cents)}–{whole_money(forecast.high_cents)})"
            )
            if forecast.change_to_date_pct is not None and previous is not None:
                text += (
                    f", {percent(forecast.change_to_date_pct, signed=True, digits=0)} on the"
                    f" same days of {previous.month.title}"
                )
        elif latest.delta_basis == "same_days" and latest.delta_pct is not None and previous:
            text += (
                f", {percent(latest.delta_pct, signed=True, digits=0)} on the same days of"
                f" {previous.month.title}"
            )
        return text + "."
    note = f" ({MONTH_STATUS_NAMES[latest.status]})" if latest.status != "complete" else ""
    text = f"{title}{note}: {money(latest.cost_cents)}"
    if previous is None or latest.delta_cents is None:
        return text + ", the first month analyzed."
    if latest.delta_pct is not None:
        change = f"{percent(latest.delta_pct, signed=True)} ({signed_money(latest.delta_cents)})"
    else:
        change = signed_money(latest.delta_cents)
    return f"{text}, {change} on {previous.month.title}."


def _drivers(report: BillingReport, latest: MonthTrend, previous: MonthTrend) -> list[str]:
    """The users and models whose spend moved most in the direction of the month's change."""
    delta = latest.delta_cents or ZERO
    if delta == 0:
        return []
    sign = 1 if delta > 0 else -1
    word = "up" if delta > 0 else "down"
    users = _moves(
        ((row.email, row.month, row.cost_cents) for row in report.month_users),
        latest.month,
        previous.month,
        sign,
    )
    models = _moves(
        ((row.model, row.month, row.cost_cents) for row in report.month_models),
        latest.month,
        previous.month,
        sign,
    )
    sentences = []
    if users:
        sentences.append(f"Most of the change {word}: {_listed(users)}.")
    if models:
        sentences.append(f"By model: {_listed(models)}.")
    return sentences


def _moves(
    rows: Iterable[tuple[str, Month, Decimal]], latest: Month, previous: Month, sign: int
) -> list[tuple[str, str]]:
    changes: dict[str, Decimal] = {}
    for name, month, cents in rows:
        if month == latest:
            changes[name] = changes.get(name, ZERO) + cents
        elif month == previous:
            changes[name] = changes.get(name, ZERO) - cents
    moved = sorted(
        ((name, change) for name, change in changes.items() if change * sign > 0),
        key=lambda item: (-abs(item[1]), item[0]),
    )
    return [(name, signed_money(change)) for name, change in moved[:DRIVERS]]


def _leaders(report: BillingReport, month: Month) -> list[str]:
    """For a month in progress (or the only month): who and what spend the most in it."""
    users = [row for row in report.month_users if row.month == month][:DRIVERS]
    models = [row for row in report.month_models if row.month == month][:DRIVERS]
    total = sum((row.cost_cents for row in report.month_users if row.month == month), ZERO)
    if not users or total <= 0:
        return []
    spenders = _listed(
        (row.email, f"{money(row.cost_cents)}, {share(row.cost_cents / total)}") for row in users
    )
    sentences = [f"Spending most in {month.title}: {spenders}."]
    if models:
        named = _listed((row.model, money(row.cost_cents)) for row in models)
        sentences.append(f"Top models in {month.title}: {named}.")
    return sentences


def _new_spenders(report: BillingReport, latest: Month, previous: Month) -> list[str]:
    spent_before = {row.email for row in report.month_users if row.month == previous}
    rows = [row for row in report.month_users if row.month == latest]
    total = sum((row.cost_cents for row in rows), ZERO)
    new = [
        row
        for row in rows
        if row.email not in spent_before
        and total > 0
        and row.cost_cents >= total * NEW_SPENDER_SHARE
    ]
    if not new:
        return []
    names = _listed((row.email, money(row.cost_cents)) for row in new[:3])
    more = f" and {len(new) - 3} more" if len(new) > 3 else ""
    noun = "spender" if len(new) == 1 else "spenders"
    return [f"New big {noun} in {latest.title}: {names}{more}, with nothing in {previous.title}."]


def _anomalies(report: BillingReport) -> list[str]:
    anomalies = report.anomalies
    if not anomalies:
        return []
    first = anomalies[0].reason.rstrip(".")
    if len(anomalies) == 1:
        return [f"One spending spike: {first}."]
    return [f"{len(anomalies)} spending spikes; the first: {first}."]


_SEVERITY = {"over": 0, "forecast_over": 1, "warn": 2, "ok": 3}
_BUDGET_WORDS = {
    "over": "is over budget",
    "forecast_over": "is on pace to go over",
    "warn": "is close to its budget",
}


def _budgets(budgets: Sequence[BudgetResult]) -> list[str]:
    if not budgets:
        return []
    findings = sorted(
        (b for b in budgets if b.status != "ok"),
        key=lambda b: (_SEVERITY[b.status], -b.projected_cents, b.name or ""),
    )
    if not findings:
        noun = "budget" if len(budgets) == 1 else "budgets"
        return [f"All {len(budgets)} {noun} on track."]
    first = findings[0]
    text = (
        f"{budget_name(first)} {_BUDGET_WORDS[first.status]}: {money(first.spent_cents)} spent,"
        f" {whole_money(first.projected_cents)} projected, of {whole_money(first.limit_cents)}"
    )
    if len(findings) > 1:
        more = "budget needs" if len(findings) == 2 else "budgets need"
        text += f"; {len(findings) - 1} more {more} attention"
    return [text + "."]


def budget_name(budget: BudgetResult) -> str:
    """`The total`, `Team Platform`, `ana@example.com` (cut)."""
    if budget.scope == "total":
        return "The total"
    name = cut(budget.name or "", SENTENCE_NAME_LIMIT)
    return f"Team {name}" if budget.scope == "team" else name


def _costliest(report: BillingReport) -> list[str]:
    total = report.summary.total_cost_cents
    if not report.models or total <= 0:
        return []
    model, user = report.models[0], report.users[0]
    return [
        f"Costliest model: {cut(model.model, SENTENCE_NAME_LIMIT)}"
        f" ({money(model.cost_cents)}, {share(model.cost_cents / total)} of spend).",
        f"Top spender: {cut(user.email, SENTENCE_NAME_LIMIT)}"
        f" ({money(user.cost_cents)}, {share(user.cost_cents / total)} of spend).",
    ]


def _listed(items: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{cut(name, SENTENCE_NAME_LIMIT)} ({detail})" for name, detail in items)
