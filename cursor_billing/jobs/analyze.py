"""Pick the cached months a user asked for and fold them, one at a time, into the ledger; then
the report views. Never calls the API."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from cursor_billing import ledger_file
from cursor_billing.cache import CacheDir
from cursor_billing.choices import CostBasis
from cursor_billing.errors import CacheError, UsageError
from cursor_billing.ledger import Ledger, MonthLedger, fold_month
from cursor_billing.months import Month
from cursor_billing.settings import Settings
from cursor_billing.teams import TeamMapping, team_mapping
from cursor_billing.views.report import BillingReport, ReportOptions, billing_report

Warn = Callable[[str], None]


def _ignore(message: str) -> None:
    pass


@dataclass(frozen=True)
class MonthSelection:
    """`--month` (any number), or `--since`/`--until`; nothing = every cached month."""

    months: tuple[Month, ...] = ()
    since: Month | None = None
    until: Month | None = None

    def __post_init__(self) -> None:
        if self.months and (self.since or self.until):
            raise UsageError("use either --month or --since/--until, not both")
        if self.since and self.until and self.since > self.until:
            raise UsageError(f"--since {self.since.label} is after --until {self.until.label}")


def analyze(
    settings: Settings,
    selection: MonthSelection,
    now: datetime,
    warn: Warn = _ignore,
    *,
    anonymize: bool = False,
) -> BillingReport:
    """The report on the cached months the selection picks (`analyze` and `report`)."""
    with cycles_uncollected():
        ledger = load_ledger(settings, selection, now, warn, anonymize=anonymize)
        report = billing_report(
            ledger, report_options(settings, anonymize), recent_ledger(settings, ledger, now)
        )
    left_out = not_counted_warning(report)
    if left_out:
        warn(left_out)
    return report


@contextmanager
def cycles_uncollected() -> Iterator[None]:
    """No cyclic garbage collection inside the block: reading a month allocates hundreds of
    thousands of objects that live on, and each collection would walk them all again (a
    tenth to a fifth of `analyze`, far more with a million users). Reference counting still
    frees everything; the folds make no cycles. What is alive when the block ends (the
    ledger, the report) is frozen out of later collections, which would only walk it again
    while the report is rendered; the collector is back on (if it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def not_counted_warning(report: BillingReport) -> str | None:
    """What the chosen basis leaves out of on-demand money (SPEC §7), or None."""
    from cursor_billing.render.text import count, money

    left_out = report.summary.not_counted
    if not left_out.events:
        return None
    plural = left_out.events != 1
    return (
        f"{count(left_out.events)} request-based on-demand event{'s' if plural else ''}, "
        f"{money(left_out.charged_cents)} charged, {'are' if plural else 'is'} not counted "
        f"with cost_basis: {report.cost_basis}; "
        "set cost_basis: charged"
    )


def report_options(settings: Settings, anonymized: bool = False) -> ReportOptions:
    return ReportOptions(
        cost_basis=settings.cost_basis,
        expensive_models=tuple(settings.expensive_models),
        expensive_models_count=settings.expensive_models_count,
        anonymized=anonymized,
        budgets=settings.budgets,
        anomalies=settings.anomalies,
    )


def load_ledger(
    settings: Settings,
    selection: MonthSelection,
    now: datetime,
    warn: Warn = _ignore,
    *,
    teams: TeamMapping | None = None,
    anonymize: bool = False,
    since_ms: int | None = None,
) -> Ledger:
    """Read the selected months one at a time and fold each into the ledger; with `since_ms`
    only the events from that instant on.

    `teams` assigns each event its team (SPEC §11); by default the mapping the settings
    configure (`team_mapping(settings)`, None without teams). Its `fingerprint` names what it
    was built from, so anything caching folded months can key on it. `anonymize` replaces every
    e-mail by its pseudonym (SPEC §14), keyed by `<data_dir>/.anonymize-key`.

    Months are grouped in the time zone they were fetched in; when the config names another
    one, the ledger follows the zone of its months, and a warning says how to regroup."""
    if teams is None:
        teams = team_mapping(settings)
    cache_dir = CacheDir(settings.cache_dir)
    today = Month.containing(now.astimezone(settings.zone))
    months = select_months(cache_dir, selection, today, warn)
    folded: list[MonthLedger] = []
    zones: set[str] = set()
    with cycles_uncollected():
        for month in months:
            month_ledger, zone = _fold_cached(
                cache_dir, month, now, warn, settings.cost_basis, teams, since_ms, settings.timezone
            )
            zones.add(zone)
            folded.append(month_ledger)
    if len(zones) > 1:
        raise UsageError(
            f"the selected months were fetched in different time zones "
            f"({', '.join(sorted(zones))}), so their months do not line up",
            hint="fetch them again with `cursor-billing fetch --refresh --month MM-YYYY`",
        )
    zone = zones.pop() if zones else settings.timezone
    if zone != settings.timezone:
        warn(
            f"the cached months were fetched in time zone {zone}, not {settings.timezone}: "
            f"they are reported in {zone} (`cursor-billing fetch --refresh` regroups them)"
        )
    ledger = Ledger(zone, tuple(folded), has_teams=teams is not None)
    if anonymize:
        from cursor_billing.anonymize import pseudonyms

        pseudonym = pseudonyms(settings.data_dir)
        ledger = ledger.relabel_users(lambda row: pseudonym(row.user))
    return ledger


def recent_ledger(
    settings: Settings, ledger: Ledger, now: datetime, warn: Warn = _ignore
) -> Ledger:
    """The ledger's latest month with the calendar month before it, read from the cache when it
    was not selected: what the forecast and the anomalies of a young month need. Only the
    report's `recent` sections read it; the report's months stay the selected ones."""
    if not ledger.months:
        return ledger
    latest = ledger.months[-1]
    previous = latest.month.previous()
    months = {m.month: m for m in ledger.months}
    if previous not in months and previous in CacheDir(settings.cache_dir).months():
        teams = team_mapping(settings) if ledger.has_teams else None
        cache_dir = CacheDir(settings.cache_dir)
        month_ledger, zone = _fold_cached(
            cache_dir, previous, now, warn, settings.cost_basis, teams, timezone=settings.timezone
        )
        if zone == ledger.timezone:
            months[previous] = month_ledger
    chosen = tuple(months[m] for m in (previous, latest.month) if m in months)
    # The same relabelling (pseudonyms) as the ledger's own months.
    return Ledger(ledger.timezone, chosen, ledger._relabel, has_teams=ledger.has_teams)


def _fold_cached(
    cache_dir: CacheDir,
    month: Month,
    now: datetime,
    warn: Warn,
    basis: CostBasis,
    teams: TeamMapping | None = None,
    since_ms: int | None = None,
    timezone: str = "UTC",
) -> tuple[MonthLedger, str]:
    """One cached month read and folded, and the zone it was fetched in. The month is read from
    its derived ledger file when that was folded from the month file as it is now (same file,
    time zone and teams); otherwise from the month file, and the ledger file is (re)written,
    with the rows summed on `basis` (what the report reads). `since_ms` always reads the month
    file."""
    key = None
    if since_ms is None:
        fingerprint = teams.fingerprint if teams else None
        key = ledger_file.month_key(cache_dir, month, timezone, fingerprint)
        stored = None if key is None else ledger_file.load(cache_dir, month, key, now)
        if key is not None and stored is not None:
            if stored.read_warning:
                warn(stored.read_warning)
            for warning in stored.ledger.warnings:
                warn(warning)
            if stored.sums_basis != basis:  # summed on the other basis: store this one
                ledger_file.save(
                    cache_dir,
                    key,
                    stored.ledger,
                    stored.zone,
                    stored.read_warning,
                    basis,
                    stored.state,
                )
            return stored.ledger, stored.zone
    cached = cache_dir.read_for_analysis(month)
    zone = cached.timezone or "UTC"  # files of the original script: UTC
    month_ledger = fold_month(
        month,
        cached.events,
        ZoneInfo(zone),
        status=cached.status(now),
        source=cached.source,
        covered_end_ms=cached.covered.end_ms if cached.covered else None,
        team_of=teams.team_of if teams else None,
        since_ms=since_ms,
    )
    if cached.warning:  # known once the fold has read the events
        warn(cached.warning)
    for warning in month_ledger.warnings:
        warn(warning)
    if key is not None:  # the rows then kept as the file keeps them, not a million objects
        kept = ledger_file.save(
            cache_dir, key, month_ledger, zone, cached.warning, basis, cached.state
        )
        month_ledger = replace(month_ledger, rows=kept)
    return month_ledger, zone


def select_months(
    cache_dir: CacheDir, selection: MonthSelection, today: Month, warn: Warn = _ignore
) -> list[Month]:
    """The cached months to analyze: `--month` labels, else `--since`…`--until`. A month
    missing between two selected ones is warned about: the trend then skips over it."""
    wanted = sorted(set(selection.months))
    first, last = selection.since, selection.until
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
            f"no cached month between {first.label if first else 'the first'} and "
            f"{last.label if last else 'the last'}",
            hint=f"cached: {', '.join(m.label for m in cached)}",
        )
    gaps = _missing_between(selected)
    if gaps:
        warn(
            f"not cached: {', '.join(m.label for m in gaps)}; month-over-month changes skip "
            f"over them (fetch them with `cursor-billing fetch --month {gaps[0].label}`)"
        )
    return selected


def _missing_between(months: list[Month]) -> list[Month]:
    present = set(months)
    missing, month = [], months[0]
    while month < months[-1]:
        month = month.next()
        if month not in present:
            missing.append(month)
    return missing
