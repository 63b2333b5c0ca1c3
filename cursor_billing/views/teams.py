"""Teams (SPEC §11): the spend of each team, overall and per month."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from cursor_billing.months import Month

UNASSIGNED = "Unassigned"


@dataclass(frozen=True)
class TeamSpend:
    team: str
    cost_cents: Decimal
    requests: int
    users: int
    top_model: str
    by_month: Mapping[Month, Decimal]  # every analyzed month, chronological


@dataclass(frozen=True)
class MonthTeam:
    month: Month
    team: str
    cost_cents: Decimal
    requests: int
