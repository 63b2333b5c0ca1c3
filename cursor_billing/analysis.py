"""Part 2 of the job: pick the cached months a user asked for and fold them, one at a time,
into a `BillingReport`. Never calls the API."""

from __future__ import annotations

from collections.abc import Callable

from cursor_billing.cache import CacheDir
from cursor_billing.calculator import BillingCalculator, BillingReport
from cursor_billing.errors import CacheError, UsageError
from cursor_billing.months import Month
from cursor_billing.settings import Settings


def select_months(
    cache_dir: CacheDir,
    labels: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[Month]:
    """The cached months to analyze: `--month` labels, else `--since`…`--until`."""
    wanted = sorted({Month.parse(label) for label in labels or []})
    first = Month.parse(since) if since else None
    last = Month.parse(until) if until else None
    if wanted and (first or last):
        raise UsageError("use either --month or --since/--until, not both")
    if first and last and first > last:
        raise UsageError(f"--since {first.label} is after --until {last.label}")
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
                hint="fetch it with `cursor-billing fetch --month MM-YYYY`",
            )
        return wanted
    selected = [m for m in cached if (not first or m >= first) and (not last or m <= last)]
    if not selected:
        raise UsageError(
            f"no cached month between {since or 'the first'} and {until or 'the last'}",
            hint=f"cached: {', '.join(m.label for m in cached)}",
        )
    return selected


def build_report(
    settings: Settings, months: list[Month], warn: Callable[[str], None] = lambda message: None
) -> BillingReport:
    """Read the months one at a time and fold them into the report."""
    cache_dir = CacheDir(settings.cache_dir)
    calculator = BillingCalculator(
        cost_basis=settings.cost_basis,
        expensive_models=settings.expensive_models,
        expensive_models_count=settings.expensive_models_count,
        timezone=settings.timezone,
    )
    for month in months:
        cached = cache_dir.read_for_analysis(month)
        if cached.timezone and cached.timezone != settings.timezone:
            warn(
                f"{month.label} was cached in time zone {cached.timezone}, not "
                f"{settings.timezone}: fetch it again with --refresh to regroup its events"
            )
        calculator.add_month(month.label, cached.complete, cached.events)
    return calculator.report()
