"""Part 2 of the job: pick the cached months a user asked for and fold them, one at a time,
into a `BillingReport`. Never calls the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from cursor_billing.cache import CacheDir
from cursor_billing.calculator import BillingCalculator, BillingReport
from cursor_billing.errors import CacheError, UsageError
from cursor_billing.months import Month
from cursor_billing.settings import Settings

Warn = Callable[[str], None]


def analyze_cache(
    settings: Settings,
    labels: list[str] | None,
    since: str | None,
    until: str | None,
    warn: Warn = lambda message: None,
) -> BillingReport:
    """The report on the cached months the filters select (`analyze` and `report`)."""
    today = Month.containing(datetime.now(settings.zone))
    months = select_months(CacheDir(settings.cache_dir), labels, since, until, today, warn)
    return build_report(settings, months, warn)


def select_months(
    cache_dir: CacheDir,
    labels: list[str] | None,
    since: str | None,
    until: str | None,
    today: Month,
    warn: Warn = lambda message: None,
) -> list[Month]:
    """The cached months to analyze: `--month` labels, else `--since`…`--until`.

    A month missing between two selected ones is warned about: the trend then compares
    months that are not consecutive."""
    wanted = sorted({Month.parse(label) for label in labels or []})
    first = Month.parse(since) if since else None
    last = Month.parse(until) if until else None
    if wanted and (first or last):
        raise UsageError("use either --month or --since/--until, not both")
    if first and last and first > last:
        raise UsageError(f"--since {first.label} is after --until {last.label}")
    future = [m.label for m in (*wanted, first, last) if m and m > today]
    if future:
        raise UsageError(f"{future[0]} is in the future: there is nothing to analyze yet")
    cached = cache_dir.months()
    if not cached:
        raise CacheError(
            f"no cached months in {cache_dir.root}", hint="run `cursor-billing fetch` first"
        )
    if wanted:
        missing = [m.label for m in wanted if m not in cached]
        if missing:
            raise UsageError(
                f"not cached: {', '.join(missing)} (cached: {', '.join(m.label for m in cached)})",
                hint="fetch it with `cursor-billing fetch "
                + " ".join(f"--month {label}" for label in missing)
                + "`",
            )
        return wanted
    selected = [m for m in cached if (not first or m >= first) and (not last or m <= last)]
    if not selected:
        raise UsageError(
            f"no cached month between {since or 'the first'} and {until or 'the last'}",
            hint=f"cached: {', '.join(m.label for m in cached)}",
        )
    gaps = _missing_between(selected)
    if gaps:
        warn(
            f"not cached: {', '.join(m.label for m in gaps)}; month-over-month changes skip "
            f"over them (fetch them with `cursor-billing fetch --month {gaps[0].label}`)"
        )
    return selected


def build_report(
    settings: Settings, months: list[Month], warn: Warn = lambda message: None
) -> BillingReport:
    """Read the months one at a time and fold them into the report.

    Months are grouped in the time zone they were fetched in; when the config names another
    one, the report says which zone its months really follow, and a warning says how to regroup."""
    cache_dir = CacheDir(settings.cache_dir)
    cached_zones: set[str] = set()
    calculator = BillingCalculator(
        cost_basis=settings.cost_basis,
        expensive_models=settings.expensive_models,
        expensive_models_count=settings.expensive_models_count,
        timezone=settings.timezone,
    )
    for month in months:
        cached = cache_dir.read_for_analysis(month)
        cached_zones.add(cached.timezone or "UTC")  # files of the original script: UTC
        if cached.warning:
            warn(cached.warning)
        try:
            calculator.add_month(month.label, cached.complete, cached.events)
        except ArithmeticError:  # NaN or Infinity where a cost should be
            raise _not_finite(cached.path, month) from None
        del cached  # free this month before the next one is read
    if len(cached_zones) > 1:
        raise UsageError(
            f"the selected months were fetched in different time zones "
            f"({', '.join(sorted(cached_zones))}), so their months do not line up",
            hint="fetch them again with `cursor-billing fetch --refresh --month MM-YYYY`",
        )
    zone = cached_zones.pop() if cached_zones else settings.timezone
    if zone != settings.timezone:
        warn(
            f"the cached months were fetched in time zone {zone}, not {settings.timezone}: "
            f"they are reported in {zone} (`cursor-billing fetch --refresh` regroups them)"
        )
        return replace(calculator.report(), timezone=zone)
    return calculator.report()


def _missing_between(months: list[Month]) -> list[Month]:
    present = set(months)
    missing, month = [], months[0]
    while month < months[-1]:
        month = month.next()
        if month not in present:
            missing.append(month)
    return missing


def _not_finite(path: Path, month: Month) -> CacheError:
    return CacheError(
        f"{path}: an event's cost is not a finite number (NaN or Infinity)",
        hint=f"remove it with `cursor-billing cache purge --month {month.label}` and fetch again",
    )
