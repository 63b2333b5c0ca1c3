"""Budgets and anomalies (SPEC §9): what `check` reports, and the dashboard and `analyze` show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

BudgetScope = Literal["total", "user", "team"]
BudgetStatus = Literal["ok", "warn", "forecast_over", "over"]


@dataclass(frozen=True)
class BudgetResult:
    scope: BudgetScope
    name: str | None  # the e-mail or team; None for the total
    limit_cents: Decimal
    spent_cents: Decimal
    projected_cents: Decimal
    status: BudgetStatus


@dataclass(frozen=True)
class Anomaly:
    email: str
    day: date
    cost_cents: Decimal
    baseline_cents: Decimal
    factor: Decimal
    reason: str  # one line, e.g. "ana@example.com spent $212.40 on 2026-11-30, 9.6× …"
    kind: Literal["spike"] = "spike"
