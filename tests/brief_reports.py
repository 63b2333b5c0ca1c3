"""Demo-like reports for the dashboard tests: a team of 40 over 6 months with a few heavy users
and a long tail, the latest month in progress, and the sections other views fill (forecast,
budgets, anomalies, teams) set by hand with `msgspec.structs.replace`, so the dashboard shows them
all before those views land."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from random import Random

import msgspec
from msgspec.structs import replace

from cursor_billing.events import TokenUsage, UsageEvent
from cursor_billing.months import Month
from cursor_billing.views.checks import Anomaly, BudgetResult
from cursor_billing.views.forecast import Forecast, ForecastRow
from cursor_billing.views.report import BillingReport
from cursor_billing.views.teams import MonthTeam, TeamSpend
from tests.helpers import UTC, ReportBuilder

HOSTILE_MODEL = '<script>alert("x")</script>-model'
ODD_EMAILS = ("o'brien+cursor@example.com", "r&d-bot@example.com", "zoë.müller@example.com")
TEAMS = ("Platform", "Mobile", "Data", "Growth")
# Average cost of one request in cents, and how popular each model is.
MODELS = {
    "claude-4.5-sonnet": (19, 30),
    "claude-4.5-sonnet-thinking": (34, 12),
    "claude-4.1-opus": (101, 2),
    "gpt-5": (11, 10),
    "gpt-5-codex": (11, 8),
    "gemini-2.5-pro": (14, 6),
    "default": (7, 10),
    "composer-1": (7, 6),
    "grok-code-fast-1": (0.4, 4),
    "gpt-5-mini": (0.3, 4),
    HOSTILE_MODEL: (8, 1),
}
LATEST = Month(2026, 3)
PEOPLE = (*ODD_EMAILS, *(f"engineer.{n:02d}@example.com" for n in range(37)))


def team_of(email: str) -> str:
    return TEAMS[PEOPLE.index(email) % len(TEAMS)]


def brief_report(
    latest: Month = LATEST,
    months: int = 6,
    as_of_day: float = 14.5,
    events_per_day: int = 70,
    people: tuple[str, ...] = PEOPLE,
    extras: bool = True,
) -> BillingReport:
    """`months` months up to `latest`, which is in progress `as_of_day` days in (1.3 = the 1st
    at 07:12); with `extras`, a forecast, budgets, an anomaly and teams as well."""
    rng = Random(2026)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(people))]
    names = list(MODELS)
    popularity = [MODELS[name][1] for name in names]
    builder = ReportBuilder()
    month = latest
    labels = [latest]
    for _ in range(months - 1):
        month = month.previous()
        labels.insert(0, month)
    growth = Decimal(1)
    for month in labels:
        start = datetime(month.year, month.month, 1, tzinfo=UTC)
        end = datetime(month.next().year, month.next().month, 1, tzinfo=UTC)
        if month == latest:
            end = start + timedelta(days=as_of_day - 1)
        events = []
        day = start
        while day < end:
            weekend = day.weekday() >= 5
            for _ in range(int(events_per_day * growth * (Decimal("0.3") if weekend else 1))):
                moment = day + timedelta(seconds=rng.randrange(86_400))
                if moment >= end:
                    continue
                model = rng.choices(names, popularity)[0]
                cents = Decimal(str(round(MODELS[model][0] * rng.uniform(0.3, 1.9), 4)))
                tokens = int(cents * 9000) + rng.randrange(2000)
                events.append(
                    UsageEvent(
                        timestamp=int(moment.timestamp() * 1000),
                        userEmail=rng.choices(people, weights)[0],
                        model=model,
                        kind="Usage-based",
                        isChargeable=True,
                        isTokenBasedCall=True,
                        tokenUsage=TokenUsage(
                            tokens // 10, tokens // 40, tokens // 20, tokens, totalCents=cents
                        ),
                    )
                )
            day += timedelta(days=1)
        builder.add_month(month.label, month != latest, events)
        growth *= Decimal("1.08")
    report = builder.report()
    return with_extras(report, as_of_day) if extras else report


def with_extras(report: BillingReport, as_of_day: float) -> BillingReport:
    """The forecast, budgets, one anomaly and teams, filled in the way the views will."""
    trend = list(report.monthly_trend)
    live, previous = trend[-1], trend[-2]
    elapsed = Decimal(str(as_of_day - 1))
    days = (date(live.month.next().year, live.month.next().month, 1) - timedelta(days=1)).day
    daily_rate = previous.cost_cents / days
    same_days = daily_rate * elapsed
    projected = live.cost_cents + daily_rate * (days - elapsed) * Decimal("1.08")
    users = [row for row in report.month_users if row.month == live.month]
    forecast = Forecast(
        month=live.month,
        as_of=datetime(live.month.year, live.month.month, 1, tzinfo=timezone.utc)
        + timedelta(days=as_of_day - 1),
        month_to_date_cents=live.cost_cents,
        projected_cents=projected,
        low_cents=projected * Decimal("0.92"),
        high_cents=projected * Decimal("1.07"),
        same_days_last_month_cents=same_days,
        change_to_date_pct=(live.cost_cents - same_days) * 100 / same_days if same_days else None,
        users=tuple(
            ForecastRow(row.email, row.cost_cents, row.cost_cents * projected / live.cost_cents)
            for row in users
        ),
    )
    trend[-1] = replace(
        live,
        delta_cents=live.cost_cents - same_days,
        delta_pct=forecast.change_to_date_pct,
        delta_basis="same_days",
    )
    top = report.users[0]
    budgets = (
        BudgetResult("total", None, Decimal(250_000), live.cost_cents, projected, "warn"),
        BudgetResult(
            "user",
            top.email,
            Decimal(9_000),
            users[0].cost_cents,
            users[0].cost_cents * 2,
            "forecast_over",
        ),
        BudgetResult("team", "Data", Decimal(100_000), Decimal(20_000), Decimal(45_000), "ok"),
    )
    spike_day = (forecast.as_of - timedelta(days=1)).date()
    anomalies = (
        Anomaly(
            ODD_EMAILS[2],
            spike_day,
            Decimal(21_240),
            Decimal(2_210),
            Decimal("9.6"),
            f"{ODD_EMAILS[2]} spent $212.40 on {spike_day}, 9.6× their usual $22.10 a day",
        ),
    )
    teams, month_teams = _teams(report)
    return replace(
        report,
        monthly_trend=tuple(trend),
        forecast=forecast,
        budgets=budgets,
        anomalies=anomalies,
        teams=teams,
        month_teams=month_teams,
        users=tuple(
            msgspec.structs.replace(user, team=team_of(user.email)) for user in report.users
        ),
    )


def _teams(report: BillingReport) -> tuple[tuple[TeamSpend, ...], tuple[MonthTeam, ...]]:
    cost: dict[str, Decimal] = {}
    requests: dict[str, int] = {}
    members: dict[str, int] = {}
    by_month: dict[str, dict[Month, Decimal]] = {}
    for user in report.users:
        team = team_of(user.email)
        cost[team] = cost.get(team, Decimal(0)) + user.cost_cents
        requests[team] = requests.get(team, 0) + user.requests
        members[team] = members.get(team, 0) + 1
        months = by_month.setdefault(team, {m: Decimal(0) for m in report.months})
        for month, cents in user.by_month.items():
            months[month] += cents
    ranked = sorted(cost, key=lambda team: (-cost[team], team))
    teams = tuple(
        TeamSpend(
            team, cost[team], requests[team], members[team], "claude-4.5-sonnet", by_month[team]
        )
        for team in ranked
    )
    month_teams = tuple(
        MonthTeam(month, team, by_month[team][month], 0)
        for month in report.months
        for team in ranked
    )
    return teams, month_teams
