"""The `check` job (SPEC §9): budgets and anomalies of the month in progress (or a chosen month),
from the cache. Never calls the API; posting the result to a webhook is `notify.post_webhook`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal

from msgspec import structs

from cursor_billing.anonymize import pseudonyms
from cursor_billing.choices import CostBasis
from cursor_billing.jobs.analyze import (
    MonthSelection,
    Warn,
    _ignore,
    load_ledger,
    recent_ledger,
)
from cursor_billing.ledger import ZERO
from cursor_billing.months import Month
from cursor_billing.settings import Settings
from cursor_billing.views.checks import (
    Anomaly,
    BudgetResult,
    anomalies,
    budget_results,
    budgets_set,
)
from cursor_billing.views.forecast import Forecast, forecast


@dataclass(frozen=True)
class CheckResult:
    month: Month
    timezone: str
    as_of: datetime | None  # the latest moment the month's cache covers (UTC)
    cost_basis: CostBasis
    month_to_date_cents: Decimal
    forecast: Forecast | None  # None unless the month is in progress
    budgets: tuple[BudgetResult, ...]  # only those that are set
    anomalies: tuple[Anomaly, ...]
    budgets_set: bool
    anomalies_enabled: bool
    anonymized: bool = False

    @property
    def ok(self) -> bool:
        """Nothing over or forecast over, and no anomaly: exit 0, else 4 (a finding)."""
        return not self.anomalies and not any(budget.finding for budget in self.budgets)


def check(
    settings: Settings,
    month: Month | None,
    now: datetime,
    warn: Warn = _ignore,
    *,
    anonymize: bool = False,
) -> CheckResult:
    """Budgets and anomalies of `month` (default: the current month in the configured zone).

    With `anonymize`, budgets are matched to the real e-mails first (they are written with
    them), then every e-mail of the result is replaced by its pseudonym."""
    month = month or Month.containing(now.astimezone(settings.zone))
    ledger = load_ledger(settings, MonthSelection(months=(month,)), now, warn)
    recent = recent_ledger(settings, ledger, now)
    basis: CostBasis = settings.cost_basis  # type: ignore[assignment]
    projection = forecast(recent, basis)
    configured = budgets_set(settings.budgets)
    budgets = (
        budget_results(recent, month, basis, settings.budgets, projection) if configured else ()
    )
    spent = sum((row.cost(basis) for row in ledger.month_rows(month, basis)), ZERO)
    as_of_ms = ledger.as_of_ms
    result = CheckResult(
        month=month,
        timezone=ledger.timezone,
        as_of=None if as_of_ms is None else datetime.fromtimestamp(as_of_ms // 1000, timezone.utc),
        cost_basis=basis,
        month_to_date_cents=spent,
        forecast=projection,
        budgets=budgets,
        anomalies=anomalies(recent, basis, settings.anomalies),
        budgets_set=configured,
        anomalies_enabled=settings.anomalies.enabled,
    )
    return _anonymized(result, pseudonyms(settings.data_dir)) if anonymize else result


def _anonymized(result: CheckResult, pseudonym: Callable[[str], str]) -> CheckResult:
    """The same result with every e-mail (budget names, anomalies, their reasons, the
    forecast's users) replaced by its pseudonym."""
    anomalies = tuple(
        structs.replace(
            anomaly,
            email=pseudonym(anomaly.email),
            reason=anomaly.reason.replace(anomaly.email, pseudonym(anomaly.email)),
        )
        for anomaly in result.anomalies
    )
    budgets = tuple(
        structs.replace(budget, name=pseudonym(budget.name))
        if budget.scope == "user" and budget.name
        else budget
        for budget in result.budgets
    )
    projection = result.forecast
    if projection is not None:
        users = tuple(structs.replace(row, name=pseudonym(row.name)) for row in projection.users)
        projection = structs.replace(projection, users=users)
    return replace(
        result, anomalies=anomalies, budgets=budgets, forecast=projection, anonymized=True
    )
