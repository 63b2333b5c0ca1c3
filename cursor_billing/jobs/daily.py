"""The `daily` job: spend per day over the last N days, from the cache. Never calls the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cursor_billing.cache import CacheDir
from cursor_billing.choices import CostBasis
from cursor_billing.errors import CacheError, UsageError
from cursor_billing.jobs.analyze import MonthSelection, Warn, _ignore, load_ledger
from cursor_billing.months import Month
from cursor_billing.settings import Settings
from cursor_billing.views.report import DaySpend, daily

DEFAULT_DAYS = 31


@dataclass(frozen=True)
class DailyResult:
    timezone: str
    cost_basis: CostBasis
    days: tuple[DaySpend, ...]  # chronological, only days the cache covers
    anonymized: bool = False


def daily_spend(
    settings: Settings,
    days: int,
    now: datetime,
    warn: Warn = _ignore,
    *,
    anonymize: bool = False,
) -> DailyResult:
    """The `days` days ending today (in the configured zone), as far as the cache covers them."""
    if days < 1:
        raise UsageError(f"--days must be at least 1, not {days}")
    today = now.astimezone(settings.zone).date()
    first = today - timedelta(days=days - 1)
    wanted = []
    month = Month(first.year, first.month)
    while month <= Month(today.year, today.month):
        wanted.append(month)
        month = month.next()
    cached = set(CacheDir(settings.cache_dir).months())
    present = [m for m in wanted if m in cached]
    if not present:
        raise CacheError(
            f"no cached month covers {first.isoformat()} to {today.isoformat()}",
            hint="run `cursor-billing fetch` first",
        )
    missing = [m.label for m in wanted if m not in cached]
    if missing:
        warn(f"not cached: {', '.join(missing)}; their days are left out")
    ledger = load_ledger(
        settings, MonthSelection(months=tuple(present)), now, warn, anonymize=anonymize
    )
    basis: CostBasis = settings.cost_basis  # type: ignore[assignment]
    rows = tuple(row for row in daily(ledger.between(first, today), basis) if row.day >= first)
    return DailyResult(ledger.timezone, basis, rows, anonymized=anonymize)
