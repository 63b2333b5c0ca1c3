"""Terminal tables for `analyze` and `report`, built from a `BillingReport`.

Names and e-mails go into cells as `Text`, never as markup, so a model called `[bold]x` prints as
itself. Nothing depends on colour: partial months say so in words, so NO_COLOR loses nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from rich import box
from rich.bar import Bar
from rich.table import Table
from rich.text import Text

from cursor_billing.choices import CostBasis
from cursor_billing.months import Month
from cursor_billing.render.text import (
    ANONYMIZED,
    BASIS_NAMES,
    BASIS_SHORT_NAMES,
    BUDGET_STATUS_WORDS,
    NOTHING,
    SOURCE_NAMES,
    compact_count,
    count,
    money,
    month_with_note,
    percent,
    share,
    signed_money,
    size,
    sparkline,
    whole_money,
)
from cursor_billing.text import printable
from cursor_billing.views.checks import Anomaly, BudgetResult
from cursor_billing.views.forecast import Forecast
from cursor_billing.views.report import BillingReport, ExpensiveModel, MonthTrend, UserSpend

if TYPE_CHECKING:
    from cursor_billing.cache import CacheEntry, StrayFile
    from cursor_billing.csv_import import ImportResult, SkipReason
    from cursor_billing.fetcher import MonthResult
    from cursor_billing.jobs.check import CheckResult
    from cursor_billing.jobs.daily import DailyResult
    from cursor_billing.views.reconcile import ReconcileStatus, Reconciliation

SPARKLINE_MONTHS = 12
NO_USAGE = "No billable on-demand usage in these months."
_NAME_MAX = 32  # e-mails and model names beyond this are cut with an ellipsis
_MODEL_HEADER_WIDTH = 14  # longer model names fold onto a second header line


def analysis_tables(report: BillingReport, top: int, width: int = 80) -> list[Table]:
    """Everything `cursor-billing analyze` prints, in order; `width` is the terminal's."""
    tables = [summary_table(report), monthly_trend_table(report)]
    if report.forecast is not None:
        tables.append(forecast_table(report.forecast, report.cost_basis))
    if report.budgets:
        tables.append(budgets_table(report.budgets, report.cost_basis))
    if report.anomalies:
        tables.append(anomalies_table(report.anomalies))
    if not report.has_usage:
        return [*tables, _empty("Users", NO_USAGE)]
    tables = [
        *tables,
        top_spenders_table(report, top),
        top_models_table(report, top),
        expensive_users_table(report, top, width=width),
    ]
    if report.teams is not None:
        tables.append(teams_table(report, top))
    tables.append(sources_table(report))
    return tables


def summary_table(report: BillingReport) -> Table:
    summary = report.summary
    title = _period_title("On-demand spend", report.months)
    table = _table(f"{title}, {BASIS_SHORT_NAMES[report.cost_basis]}")
    table.show_header = False
    table.add_column("what", style="bold")
    table.add_column("value", overflow="ellipsis", max_width=48)
    latest = report.monthly_trend[-1] if report.monthly_trend else None
    current = month_with_note(latest.month.label, latest.status) if latest else NOTHING
    which = "This month" if latest and latest.status == "in_progress" else "Latest month"
    basis = report.cost_basis
    other: CostBasis = "charged" if basis == "list" else "list"
    table.add_row(f"Total, {BASIS_NAMES[basis]}", money(summary.total_cost_cents))
    table.add_row(
        Text(f"Total, {BASIS_NAMES[other]}", style="dim"),
        Text(money(summary.totals_by_basis[other]), style="dim"),  # type: ignore[index]
    )
    table.add_row(f"{which}, {current}", money(summary.current_month_cost_cents))
    table.add_row("Months analyzed", count(summary.months_analyzed))
    table.add_row("Requests", count(summary.total_requests))
    table.add_row("Costliest model", Text(printable(summary.costliest_model or NOTHING)))
    table.add_row("Top spender", Text(printable(summary.top_spender or NOTHING)))
    if report.anonymized:
        table.caption = ANONYMIZED
    return table


def monthly_trend_table(report: BillingReport) -> Table:
    """One row per month, oldest first, with the change against the month before; the month
    in progress is compared with the same days of the month before, never with a whole one."""
    table = _table(f"Monthly trend, {BASIS_NAMES[report.cost_basis]}")
    table.add_column("Month", no_wrap=True)
    _number_column(table, "Cost")
    _number_column(table, "Requests")
    _number_column(table, "Change")
    _number_column(table, "Change %")
    # The bar column takes what the numbers leave, up to 20 characters.
    table.add_column("", max_width=20)
    forecast = report.forecast
    peak = max((row.cost_cents for row in report.monthly_trend), default=Decimal(0))
    if forecast is not None:
        peak = max(peak, forecast.projected_cents)
    for row in report.monthly_trend:
        style = _change_style(row.delta_cents)
        bar: Bar | str = ""
        if peak > 0:
            in_progress = forecast is not None and row.month == forecast.month
            # The month in progress is drawn at its forecast, dimmed: a few days are no collapse.
            end = forecast.projected_cents if in_progress and forecast else row.cost_cents
            bar = Bar(float(peak), 0, float(end), color="grey50" if in_progress else "default")
        table.add_row(
            trend_month_label(row),
            money(row.cost_cents),
            count(row.requests),
            Text(signed_money(row.delta_cents), style=style),
            Text(percent(row.delta_pct, signed=True), style=style),
            bar,
        )
    notes = []
    for row in report.monthly_trend:
        if row.delta_basis == "same_days":
            notes.append(
                f"{row.month.label} so far, compared with the same days of the month before"
                + ("; its bar is its forecast" if forecast else "")
            )
        elif row.status == "closing":
            notes.append(f"{row.month.label} closing: ended less than a day before it was fetched")
        elif row.status == "unreliable":
            notes.append(f"{row.month.label} unreliable: `cursor-billing fetch` reads it again")
    if any(row.source == "csv" for row in report.monthly_trend):
        notes.append("csv: imported from Cursor's dashboard usage export (import-csv)")
    if notes:
        table.caption = "\n".join(notes)
    return table


def _change_style(delta: Decimal | None) -> str:
    """Red for more spend, green for less; rich drops colour under NO_COLOR or without a tty."""
    if not delta:
        return ""
    return "red" if delta > 0 else "green"


def trend_month_label(row: MonthTrend) -> str:
    """`11-2026`, `12-2026 (in progress)`, `11-2026 (closing)`, and `(csv)` for a month imported
    from Cursor's dashboard export."""
    label = month_with_note(row.month.label, row.status)
    return f"{label} (csv)" if row.source == "csv" else label


def top_spenders_table(report: BillingReport, top: int) -> Table:
    """The top users by cost, with a sparkline of their spend month by month."""
    users = report.users[: max(top, 0)]
    trend_months = report.months[-SPARKLINE_MONTHS:]
    title = (
        f"Top {len(users)} of {count(len(report.users))} users by on-demand spend, "
        f"{BASIS_SHORT_NAMES[report.cost_basis]}"
    )
    if not users:
        return _empty(title, NO_USAGE if not report.users else "No rows asked for.")
    table = _table(title)
    _name_column(table, "User", min_width=16, ratio=3)
    _number_column(table, "Cost")
    _name_column(table, "Top model", max_width=24, min_width=10, ratio=2)
    _number_column(table, "Exp.")
    if len(trend_months) > 1:
        table.add_column("Trend", no_wrap=True)
    projected = (
        {row.name: row.projected_cents for row in report.forecast.users} if report.forecast else {}
    )
    in_progress = report.forecast.month if report.forecast else None
    for user in users:
        cells: list[Text | str] = [
            Text(printable(user.email)),
            money(user.cost_cents),
            Text(printable(user.top_model)),
            share(user.expensive_share),
        ]
        if len(trend_months) > 1:
            cells.append(
                _trend(user.by_month, trend_months, in_progress, projected.get(user.email))
            )
        table.add_row(*cells)
    notes = ["Exp. = share of the user's spend on expensive models"]
    if len(trend_months) > 1:
        notes.append(
            f"Trend = spend per month, {trend_months[0].label} to {trend_months[-1].label}"
            + (f" ({in_progress.label} at its forecast)" if in_progress in trend_months else "")
        )
    if report.anonymized:
        notes.append(ANONYMIZED)
    table.caption = "\n".join(notes)
    return table


def teams_table(report: BillingReport, top: int) -> Table:
    """Who pays (SPEC §11): each team's spend, its share of the total, and its trend."""
    teams = (report.teams or ())[: max(top, 0)]
    title = (
        f"Top {len(teams)} of {count(len(report.teams or ()))} teams by on-demand spend, "
        f"{BASIS_SHORT_NAMES[report.cost_basis]}"
    )
    if not teams:
        return _empty(title, NO_USAGE if not report.teams else "No rows asked for.")
    trend_months = report.months[-SPARKLINE_MONTHS:]
    total = report.summary.total_cost_cents
    table = _table(title)
    _name_column(table, "Team", min_width=10, ratio=2)
    _number_column(table, "Cost")
    _number_column(table, "Share")
    _number_column(table, "Requests")
    _number_column(table, "Users")
    _name_column(table, "Top model", max_width=24, min_width=10, ratio=2)
    if len(trend_months) > 1:
        table.add_column("Trend", no_wrap=True)
    projected = (
        {row.name: row.projected_cents for row in report.forecast.teams} if report.forecast else {}
    )
    in_progress = report.forecast.month if report.forecast else None
    for team in teams:
        cells: list[Text | str] = [
            Text(printable(team.team)),
            money(team.cost_cents),
            share(team.cost_cents / total) if total else NOTHING,
            count(team.requests),
            count(team.users),
            Text(printable(team.top_model)),
        ]
        if len(trend_months) > 1:
            cells.append(_trend(team.by_month, trend_months, in_progress, projected.get(team.team)))
        table.add_row(*cells)
    if len(trend_months) > 1:
        table.caption = (
            f"Trend = spend per month, {trend_months[0].label} to {trend_months[-1].label}"
            + (f" ({in_progress.label} at its forecast)" if in_progress in trend_months else "")
        )
    return table


def _trend(
    by_month: Mapping[Month, Decimal],
    months: Sequence[Month],
    in_progress: Month | None,
    projected: Decimal | None,
) -> str:
    """A sparkline of spend per month, the month in progress at its forecast: a few days of a
    month never read as a collapse."""
    return sparkline(
        [
            projected if month == in_progress and projected is not None else by_month[month]
            for month in months
        ]
    )


def sources_table(report: BillingReport) -> Table:
    """People or machines (SPEC §7 sources): spend by who or what made the calls."""
    title = f"On-demand spend by source, {BASIS_SHORT_NAMES[report.cost_basis]}"
    if not report.sources:
        return _empty(title, NO_USAGE)
    total = report.summary.total_cost_cents
    table = _table(title)
    table.add_column("Source", no_wrap=True)
    _number_column(table, "Cost")
    _number_column(table, "Share")
    _number_column(table, "Requests")
    _number_column(table, "Users")
    for row in report.sources:
        table.add_row(
            SOURCE_NAMES[row.source],
            money(row.cost_cents),
            share(row.cost_cents / total) if total else NOTHING,
            count(row.requests),
            count(row.users),
        )
    return table


def top_models_table(report: BillingReport, top: int) -> Table:
    models = report.models[: max(top, 0)]
    title = (
        f"Top {len(models)} of {count(len(report.models))} models by on-demand spend, "
        f"{BASIS_SHORT_NAMES[report.cost_basis]}"
    )
    if not models:
        return _empty(title, NO_USAGE if not report.models else "No rows asked for.")
    table = _table(title)
    _rank_column(table)
    _name_column(table, "Model", min_width=12)
    _number_column(table, "Cost")
    _number_column(table, "Requests")
    _number_column(table, "Avg/req")
    _number_column(table, "Users")
    _number_column(table, "Tokens")
    for rank, model in enumerate(models, 1):
        table.add_row(
            str(rank),
            Text(printable(model.model)),
            money(model.cost_cents),
            count(model.requests),
            money(model.avg_cost_cents),
            count(model.unique_users),
            compact_count(model.tokens.total),
        )
    return table


def expensive_users_table(report: BillingReport, top: int, width: int = 80) -> Table:
    """Users × expensive models: what the top users spend on each expensive model.

    As many expensive models get a column as `width` allows (at least one); the `All` column
    sums every expensive model, shown or not."""
    users = _ranked_by_expensive_spend(report.users)[: max(top, 0)]
    title = f"Spend on expensive models, by user, {BASIS_SHORT_NAMES[report.cost_basis]}"
    if not users:
        return _empty(title, "No spend on expensive models in these months.")
    all_width = max((len(money(user.expensive_cost_cents)) for user in users), default=3)
    months = len(report.months)
    months_width = max(len("Months"), 2 * len(str(months)) + 1)
    # What stays for model columns after User (26 fits most e-mails), All, Share ("100%") and
    # Months ("11/12"), each with a 3-column gap.
    budget = width - 26 - (3 + all_width) - (3 + 5) - (3 + months_width)
    shown: list[tuple[ExpensiveModel, int]] = []
    # When the width is short, the models with the most spend of the users shown keep their
    # columns.
    shown_users = {user.email for user in users}
    by_spend = sorted(
        report.expensive_models,
        key=lambda m: (-sum(u.cost_cents for u in m.users if u.email in shown_users), m.model),
    )
    for model in by_spend:
        largest = max((user.cost_cents for user in model.users), default=Decimal(0))
        column_width = max(len(money(largest)), min(len(model.model), _MODEL_HEADER_WIDTH))
        if shown and column_width + 3 > budget:
            continue
        shown.append((model, column_width))
        budget -= column_width + 3
    spend = {
        (user.email, model.model): user.cost_cents
        for model in report.expensive_models
        for user in model.users
    }
    table = _table(title)
    _name_column(table, "User", min_width=16)
    for model, column_width in shown:
        # A fixed width: a long model name wraps in the header rather than squeezing numbers.
        header = Text(_wrap_at_hyphens(printable(model.model), column_width), overflow="fold")
        table.add_column(header, justify="right", width=column_width)
    _number_column(table, "All")
    _number_column(table, "Share")
    _number_column(table, "Months")
    for user in users:
        table.add_row(
            Text(printable(user.email)),
            *(_money_or_dot(spend.get((user.email, model.model))) for model, _ in shown),
            money(user.expensive_cost_cents),
            share(user.expensive_share),
            f"{user.expensive_months}/{months}",
        )
    names = ", ".join(printable(m.model) for m in report.expensive_models)
    captions = [
        f"Expensive models: {names}",
        "Months = months in which they used an expensive model",
    ]
    hidden = len(report.expensive_models) - len(shown)
    if hidden:
        captions.append(
            f"All includes {hidden} more expensive model(s); a wider terminal shows them"
        )
    table.caption = "\n".join(captions)
    return table


def _wrap_at_hyphens(name: str, width: int) -> str:
    """`claude-4.1-opus` → `claude-4.1-` / `opus`: lines cut after a hyphen where one fits."""
    lines = []
    while len(name) > width:
        cut = name.rfind("-", 0, width)
        cut = cut + 1 if cut > 0 else width
        lines.append(name[:cut])
        name = name[cut:]
    return "\n".join([*lines, name])


def cache_table(entries: Sequence[CacheEntry], strays: Sequence[StrayFile] = ()) -> Table:
    """`cursor-billing cache ls`: a row per cached month."""
    table = _table("Cached months")
    table.add_column("Month")
    for header in ("Events", "On-demand cost"):
        _number_column(table, header)
    table.add_column("State")
    table.add_column("Source")
    table.add_column("Fetched at")
    _number_column(table, "Size")
    for entry in entries:
        if entry.error:
            row = (entry.month.label, "?", "?", "unreadable", "?", "", size(entry.size_bytes))
            table.add_row(*row)
            continue
        table.add_row(
            entry.month.label,
            count(entry.events),
            money(entry.cost_cents),
            str(entry.status or "unreadable").replace("_", " "),
            entry.source,
            Text(printable(entry.fetched_at)),
            size(entry.size_bytes),
        )
    for stray in strays:
        table.add_row(
            Text(printable(stray.path.name)), "", "", stray.kind, "", "", size(stray.size_bytes)
        )
    table.caption = (
        "Events = the on-demand chargeable events kept in the cache; analyze's requests = "
        "the billable ones among them under the chosen cost basis."
    )
    return table


def fetch_summary_table(results: Sequence[MonthResult], current: Month) -> Table:
    """The end of `cursor-billing fetch`: what it did for each month; `current` is this month,
    so that an incomplete month reads as in progress or closing."""
    table = _table("Fetch summary")
    table.add_column("Month")
    table.add_column("Action")
    for header in ("Events", "Requests", "Retries"):
        _number_column(table, header)
    table.add_column("State")
    for result in results:
        state = "complete" if result.complete else "in progress"
        if not result.complete and result.month < current:
            state = "closing"
        if result.unreliable:
            state = "unreliable"
        elif result.warnings:
            state += ", see warnings"
        table.add_row(
            result.month.label,
            result.action,
            count(result.events),
            count(result.requests),
            count(result.retries),
            state,
        )
    return table


def _ranked_by_expensive_spend(users: Sequence[UserSpend]) -> list[UserSpend]:
    spenders = [user for user in users if user.expensive_cost_cents > 0]
    return sorted(spenders, key=lambda user: (-user.expensive_cost_cents, user.email))


def _table(title: str) -> Table:
    return Table(
        title=title,
        min_width=len(title),
        title_justify="left",
        title_style="bold",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        header_style="bold",
        show_edge=False,
        pad_edge=False,
    )


def _empty(title: str, message: str) -> Table:
    table = _table(title)
    table.show_header = False
    table.add_column(message)
    table.add_row(message)
    return table


def _period_title(what: str, months: Sequence[Month]) -> str:
    if not months:
        return what
    if len(months) == 1:
        return f"{what}, {months[0].label}"
    return f"{what}, {months[0].label} to {months[-1].label}"


def _rank_column(table: Table) -> None:
    table.add_column("#", justify="right", no_wrap=True, style="dim")


def _name_column(
    table: Table, header: str, max_width: int = _NAME_MAX, min_width: int = 8, ratio: int = 1
) -> None:
    # Not no_wrap: rich narrows only wrappable columns to fit, so names give way before numbers.
    # Names have no spaces to wrap at, so a narrowed one is cut with an ellipsis instead.
    table.add_column(
        header, overflow="ellipsis", min_width=min_width, max_width=max_width, ratio=ratio
    )


def _number_column(table: Table, header: str) -> None:
    table.add_column(header, justify="right", no_wrap=True)


def _money_or_dot(cents: Decimal | None) -> str:
    return money(cents) if cents else "·"


def import_summary_table(result: ImportResult) -> Table:
    """The end of `cursor-billing import-csv`: per month, what the files held and what was kept."""
    table = _table("CSV import")
    table.caption = "Repeated: the same row in an earlier file, counted once."
    table.add_column("Month", no_wrap=True)
    for header in ("Read", "Kept", "Not on-demand", "No cost", "Repeated", "Cost"):
        _number_column(table, header)
    table.add_column("Cache")
    for month in result.months:
        table.add_row(
            month.month.label,
            count(month.rows_read),
            count(month.kept),
            *(count(month.skipped[reason]) for reason in _skip_reasons()),
            money(month.cost_cents),
            month.action,
        )
    if len(result.months) > 1:
        table.add_section()
        table.add_row(
            "Total",
            count(sum(m.rows_read for m in result.months)),
            count(sum(m.kept for m in result.months)),
            *(count(sum(m.skipped[reason] for m in result.months)) for reason in _skip_reasons()),
            money(sum((m.cost_cents for m in result.months), Decimal(0))),
            "",
        )
    return table


RECONCILE_STATUS_WORDS: dict[ReconcileStatus, str] = {
    "match": "match",
    "mismatch": "MISMATCH",
    "api_only": "only in Cursor",
    "cache_only": "only in the cache",
}
HOURLY_LAG_NOTE = (
    "Cursor aggregates usage hourly, so the newest hour may differ; run it again later."
)


def reconcile_table(reconciliation: Reconciliation) -> Table:
    """`cursor-billing reconcile`: Cursor's spend per member against the cache's charged cost."""
    start = reconciliation.cycle_start.strftime("%Y-%m-%d %H:%M UTC")
    as_of = reconciliation.as_of.strftime("%Y-%m-%d %H:%M UTC")
    table = _table(f"Spend this billing cycle, {start} to {as_of}")
    _name_column(table, "Member", min_width=16, ratio=3)
    for header in ("Cursor", "Cache", "Diff"):
        _number_column(table, header)
    table.add_column("Status", no_wrap=True)
    for member in reconciliation.members:
        table.add_row(
            Text(printable(member.email)),
            money(member.api_cents),
            money(member.cache_cents),
            signed_money(member.diff_cents),
            RECONCILE_STATUS_WORDS[member.status],
        )
    totals = reconciliation.totals
    table.add_section()
    findings = len(reconciliation.findings)
    table.add_row(
        f"Total, {count(len(reconciliation.members))} members",
        money(totals.api_cents),
        money(totals.cache_cents),
        signed_money(totals.diff_cents),
        "match" if not findings else f"{count(findings)} differ",
    )
    table.caption = (
        "Cursor = spendCents of /teams/spend; Cache = chargedCents of the cached on-demand events "
        "since the cycle start; Diff = Cache − Cursor; match = within 1 cent or 0.5 %.\n"
        + HOURLY_LAG_NOTE
    )
    return table


def forecast_table(forecast: Forecast, basis: str) -> Table:
    """The line under the trend: where the month in progress is heading."""
    table = _table(f"Forecast, {forecast.month.label} (in progress), {BASIS_NAMES[basis]}")
    table.show_header = False
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("Month to date", money(forecast.month_to_date_cents))
    table.add_row(
        "On pace for",
        f"{whole_money(forecast.projected_cents)} "
        f"({whole_money(forecast.low_cents)}–{whole_money(forecast.high_cents)})",
    )
    if forecast.same_days_last_month_cents is not None:
        table.add_row(
            f"Same days of {forecast.month.previous().label}",
            f"{money(forecast.same_days_last_month_cents)} "
            f"({percent(forecast.change_to_date_pct, signed=True)})",
        )
    return table


def budgets_table(budgets: Sequence[BudgetResult], basis: str) -> Table:
    table = _table(f"Budgets, {BASIS_NAMES[basis]}")
    table.add_column("Budget")
    _name_column(table, "Name", min_width=10)
    for header in ("Limit", "Spent", "Projected"):
        _number_column(table, header)
    table.add_column("Status", no_wrap=True)
    for budget in budgets:
        table.add_row(
            budget.scope,
            Text(printable(budget.name) if budget.name else "whole account"),
            money(budget.limit_cents),
            money(budget.spent_cents),
            whole_money(budget.projected_cents),
            Text(
                BUDGET_STATUS_WORDS[budget.status],
                style="bold red"
                if budget.finding
                else ("yellow" if budget.status == "warn" else ""),
            ),
        )
    return table


def anomalies_table(anomalies: Sequence[Anomaly]) -> Table:
    table = _table("Anomalies")
    table.show_header = False
    table.add_column("reason")
    for anomaly in anomalies:
        table.add_row(Text(printable(anomaly.reason)))
    return table


def check_tables(result: CheckResult) -> list[Table]:
    """What `check` prints: budgets, then anomalies, each saying so when there is nothing."""
    from cursor_billing.render.text import check_headline

    tables = []
    headline = _table(printable(check_headline(result)))
    headline.show_header = False
    headline.add_column("")
    tables.append(headline)
    if result.budgets:
        tables.append(budgets_table(result.budgets, result.cost_basis))
    else:
        tables.append(_empty("Budgets", "No budget is set (billing.budgets in config.yaml)."))
    if not result.anomalies_enabled:
        tables.append(_empty("Anomalies", "Anomaly checks are off (billing.anomalies.enabled)."))
    elif result.anomalies:
        tables.append(anomalies_table(result.anomalies))
    else:
        tables.append(_empty("Anomalies", "No spending spike."))
    if result.anonymized:
        tables[-1].caption = ANONYMIZED
    return tables


def daily_table(result: DailyResult) -> Table:
    """`cursor-billing daily`: one row per day, ccusage-style, and a total."""
    title = f"Spend per day ({result.timezone}), {BASIS_NAMES[result.cost_basis]}"
    if not result.days:
        return _empty(title, "No cached day in this range.")
    table = _table(title)
    table.add_column("Date", no_wrap=True)
    _number_column(table, "Cost")
    _number_column(table, "Requests")
    _number_column(table, "Users")
    _name_column(table, "Top user", min_width=10, ratio=2)
    _name_column(table, "Top model", max_width=24, min_width=10)
    for day in result.days:
        weekend = day.day.weekday() >= 5
        table.add_row(
            Text(day.day.strftime("%Y-%m-%d %a"), style="dim" if weekend else ""),
            money(day.cost_cents),
            count(day.requests),
            count(day.users),
            Text(printable(day.top_user or NOTHING)),
            Text(printable(day.top_model or NOTHING)),
        )
    table.add_section()
    table.add_row(
        "Total",
        money(sum((day.cost_cents for day in result.days), Decimal(0))),
        count(sum(day.requests for day in result.days)),
        "",
        "",
        "",
    )
    if result.anonymized:
        table.caption = ANONYMIZED
    return table


def _skip_reasons() -> tuple[SkipReason, ...]:
    """The CSV import's skip reasons, imported only by the table that shows them."""
    from cursor_billing.csv_import import SkipReason  # noqa: F811

    return tuple(SkipReason)
