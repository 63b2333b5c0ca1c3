"""Budgets and anomalies (SPEC §9): what `check` reports, and the dashboard and `analyze` show."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Context, Decimal
from typing import Literal

import msgspec

from cursor_billing.choices import CostBasis
from cursor_billing.ledger import ZERO, Ledger
from cursor_billing.months import Month
from cursor_billing.render.text import money
from cursor_billing.settings import Anomalies, Budgets
from cursor_billing.views.forecast import Forecast, elapsed_in_month, moment_of

BudgetScope = Literal["total", "user", "team"]
BudgetStatus = Literal["ok", "warn", "forecast_over", "over"]
FINDING_STATUSES: frozenset[BudgetStatus] = frozenset({"over", "forecast_over"})
_RATIO = Context(prec=28)


class BudgetResult(msgspec.Struct, frozen=True):
    scope: BudgetScope
    name: str | None  # the e-mail or team; None for the total
    limit_cents: Decimal
    spent_cents: Decimal
    projected_cents: Decimal
    status: BudgetStatus

    @property
    def finding(self) -> bool:
        return self.status in FINDING_STATUSES


class Anomaly(msgspec.Struct, frozen=True):
    email: str
    day: date
    cost_cents: Decimal
    baseline_cents: Decimal
    factor: Decimal
    reason: str  # one line, e.g. "ana@example.com spent $212.40 on 2026-11-30, 9.6× …"
    kind: Literal["spike"] = "spike"


def budgets_set(config: Budgets) -> bool:
    return bool(
        config.total_monthly_usd is not None
        or config.user_monthly_usd is not None
        or config.users
        or config.teams
    )


def budget_results(
    ledger: Ledger,
    month: Month,
    basis: CostBasis,
    config: Budgets,
    projection: Forecast | None,
) -> tuple[BudgetResult, ...]:
    """Every budget that is set, for `month`: spent so far and projected (the forecast when
    the month is in progress, else what was spent). The total first, then teams, then users,
    each ranked by spend. E-mails match budgets case-insensitively."""
    spent_total = ZERO
    spent_users: dict[str, Decimal] = defaultdict(lambda: ZERO)
    spent_teams: dict[str, Decimal] = defaultdict(lambda: ZERO)
    names: dict[str, str] = {}  # lower-cased e-mail → as the ledger writes it
    for row in ledger.month_rows(month, basis):
        cost = row.cost(basis)
        spent_total += cost
        spent_users[row.user.lower()] += cost
        names.setdefault(row.user.lower(), row.user)
        if row.team is not None:
            spent_teams[row.team] += cost
    this_month = projection if projection is not None and projection.month == month else None
    projected_users = (
        {r.name.lower(): r.projected_cents for r in this_month.users} if this_month else {}
    )
    projected_teams = {r.name: r.projected_cents for r in this_month.teams} if this_month else {}

    def result(
        scope: BudgetScope,
        name: str | None,
        usd: Decimal,
        spent: Decimal,
        projected: Decimal | None,
    ) -> BudgetResult:
        limit = usd * 100
        projected = spent if projected is None else max(projected, spent)
        return BudgetResult(
            scope,
            name,
            limit,
            spent,
            projected,
            budget_status(limit, spent, projected, config.warn_percent),
        )

    results: list[BudgetResult] = []
    if config.total_monthly_usd is not None:
        total_projected = this_month.projected_cents if this_month else None
        results.append(
            result("total", None, config.total_monthly_usd, spent_total, total_projected)
        )
    team_rows = [
        result("team", team, usd, spent_teams.get(team, ZERO), projected_teams.get(team))
        for team, usd in config.teams.items()
    ]
    user_limits = {email.lower(): usd for email, usd in config.users.items()}
    if config.user_monthly_usd is not None:
        for email, spent in spent_users.items():
            if spent:
                user_limits.setdefault(email, config.user_monthly_usd)
    listed = {email.lower(): email for email in config.users}
    user_rows = [
        result(
            "user",
            names.get(email) or listed[email],
            usd,
            spent_users.get(email, ZERO),
            projected_users.get(email),
        )
        for email, usd in user_limits.items()
    ]
    for rows in (team_rows, user_rows):
        rows.sort(key=lambda r: (-r.spent_cents, r.name or ""))
    return tuple(results + team_rows + user_rows)


def budget_status(
    limit: Decimal, spent: Decimal, projected: Decimal, warn_percent: Decimal
) -> BudgetStatus:
    if spent > limit:
        return "over"
    if projected > limit:
        return "forecast_over"
    if projected * 100 >= limit * warn_percent:
        return "warn"
    return "ok"


def anomalies(ledger: Ledger, basis: CostBasis, config: Anomalies) -> tuple[Anomaly, ...]:
    """Spikes on the last `window_days` days up to the latest month's as_of (today included):
    a user's day ≥ `spike_factor` × baseline and ≥ `min_usd`, baseline = the larger of their
    mean daily spend over the `baseline_days` days before it and the median of every user's
    mean over those days (users who spent something then). Only days the ledger holds count
    as baseline days; a day with none, or with a zero baseline, is not judged."""
    if not config.enabled or not ledger.months:
        return ()
    latest = ledger.months[-1]
    loaded = set(ledger.labels)
    costs: dict[date, Mapping[str, Decimal]] = {}
    for sums in ledger.month_sums(basis):
        costs.update(sums.day_users)
    elapsed = elapsed_in_month(latest.month, moment_of(latest), ledger.timezone)
    last_day = date(latest.month.year, latest.month.month, 1) + timedelta(
        days=elapsed.whole_days - (1 if elapsed.whole_days and not elapsed.fraction else 0)
    )
    least = config.min_usd * 100
    found = []
    for back in range(config.window_days):
        day = last_day - timedelta(days=back)
        if Month(day.year, day.month) not in loaded:
            continue
        history = [
            costs.get(d, {})
            for d in (day - timedelta(days=n) for n in range(1, config.baseline_days + 1))
            if Month(d.year, d.month) in loaded
        ]
        if not history:
            continue
        team_median: Decimal | None = None  # made only when a user could be a spike
        for user, cost in costs.get(day, {}).items():
            if cost < least:
                continue
            own = _mean_of(user, history)
            if own > 0 and cost < config.spike_factor * own:
                continue  # the baseline is at least their own mean: no spike
            if team_median is None:
                team_median = _median_mean(history)
            baseline = max(own, team_median)
            if baseline <= 0:
                continue
            if cost >= config.spike_factor * baseline:
                factor = _RATIO.divide(cost, baseline)
                whose = "their" if own >= team_median else "the team's"
                reason = (
                    f"{user} spent {money(cost)} on {day.isoformat()}, "
                    f"{factor.quantize(Decimal('0.1'))}× {whose} usual {money(baseline)} a day"
                )
                found.append(Anomaly(user, day, cost, baseline, factor, reason))
    found.sort(key=lambda a: (-a.cost_cents, a.email, a.day))
    return tuple(found)


def _mean_of(user: str, history: list[Mapping[str, Decimal]]) -> Decimal:
    """A user's mean daily spend over the baseline days (0 when they spent nothing then)."""
    total: Decimal | None = None
    for day_costs in history:
        cost = day_costs.get(user)
        if cost is not None:
            total = (ZERO if total is None else total) + cost
    return ZERO if total is None else _RATIO.divide(total, len(history))


def _median_mean(history: list[Mapping[str, Decimal]]) -> Decimal:
    """The median of every user's mean over the baseline days, among users who spent something
    then (0 when none did). Dividing by the number of days keeps the order, so only the one or
    two middle sums are turned into means."""
    totals: dict[str, Decimal] = {}
    for day_costs in history:
        for user, cost in day_costs.items():
            totals[user] = totals.get(user, ZERO) + cost
    spent = sorted(total for total in totals.values() if total > 0)
    if not spent:
        return ZERO
    middle = spent[(len(spent) - 1) // 2 : len(spent) // 2 + 1]
    means = [_RATIO.divide(total, len(history)) for total in middle]
    return means[0] if len(means) == 1 else (means[0] + means[1]) / 2  # as statistics.median
