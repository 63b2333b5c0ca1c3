"""Teams (SPEC §11): the spend of each team, overall and per month."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal, localcontext

import msgspec

from cursor_billing.choices import CostBasis
from cursor_billing.ledger import EXACT, ZERO, Ledger, Tally
from cursor_billing.months import Month

UNASSIGNED = "Unassigned"


class TeamSpend(msgspec.Struct, frozen=True):
    team: str
    cost_cents: Decimal
    requests: int
    users: int
    top_model: str
    by_month: Mapping[Month, Decimal]  # every analyzed month, chronological


class MonthTeam(msgspec.Struct, frozen=True):
    month: Month
    team: str
    cost_cents: Decimal
    requests: int


class TeamViews(msgspec.Struct, frozen=True):
    """What the report shows of teams: each team overall, each team in each month, and the
    team of each user (the one with most of their spend in the analyzed months)."""

    teams: tuple[TeamSpend, ...]
    month_teams: tuple[MonthTeam, ...]
    user_teams: Mapping[str, str]


def team_views(ledger: Ledger, basis: CostBasis) -> TeamViews | None:
    """None when the ledger's rows carry no teams. Teams (Unassigned included) are ranked by
    cost, ties by name, so their totals add up to the grand total."""
    if not ledger.has_teams:
        return None
    from cursor_billing.views.report import top_model

    totals: dict[str, Tally] = defaultdict(Tally)
    models: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    users: dict[str, set[str]] = defaultdict(set)
    by_month: dict[str, dict[Month, Tally]] = defaultdict(lambda: defaultdict(Tally))
    user_team_cost: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with localcontext(EXACT):
        for row in ledger.rows(basis):
            team = row.team or UNASSIGNED
            totals[team].add(row, basis)
            models[team][row.model].add(row, basis)
            users[team].add(row.user)
            by_month[team][Month(row.day.year, row.day.month)].add(row, basis)
            user_team_cost[row.user][team] += row.cost(basis)
    months = ledger.labels
    ranked = sorted(totals.items(), key=lambda item: (-item[1].cost_cents, item[0]))
    teams = tuple(
        TeamSpend(
            team=team,
            cost_cents=tally.cost_cents,
            requests=tally.requests,
            users=len(users[team]),
            top_model=top_model(models[team]),
            by_month={
                month: by_month[team][month].cost_cents if month in by_month[team] else ZERO
                for month in months
            },
        )
        for team, tally in ranked
    )
    month_teams = tuple(
        MonthTeam(month, team, tally.cost_cents, tally.requests)
        for month in months
        for team, tally in sorted(
            ((team, cells[month]) for team, cells in by_month.items() if month in cells),
            key=lambda item: (-item[1].cost_cents, item[0]),
        )
    )
    user_teams = {
        user: min(costs.items(), key=lambda item: (-item[1], item[0]))[0]
        for user, costs in user_team_cost.items()
    }
    return TeamViews(teams, month_teams, user_teams)
