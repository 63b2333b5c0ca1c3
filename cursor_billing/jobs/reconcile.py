"""The reconcile job (SPEC §10): Cursor's per-member spend of the current billing cycle, the
cache brought up to date for the months the cycle spans, and the two compared member by member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cursor_billing.errors import ApiError
from cursor_billing.fetcher import FetchObserver, MonthResult
from cursor_billing.jobs.analyze import MonthSelection, Warn, _ignore, load_ledger
from cursor_billing.jobs.fetch import api_client, fetch
from cursor_billing.months import Month, epoch_ms
from cursor_billing.settings import Settings
from cursor_billing.views.reconcile import Reconciliation, compare_spend

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ReconcileResult:
    reconciliation: Reconciliation
    fetched: list[MonthResult]


def reconcile(
    settings: Settings,
    now: datetime,
    observer: FetchObserver,
    results: list[MonthResult] | None = None,
    warn: Warn = _ignore,
) -> ReconcileResult:
    """Read every page of `/teams/spend`, fetch the cycle's months as `fetch` would (one
    throttle for both), and compare each member's charged cost from the cycle start on."""
    client = api_client(settings)
    with client:
        spend = client.team_spend()
        now_ms = epoch_ms(now)
        if spend.cycle_start_ms > now_ms:
            raise ApiError(
                f"the billing cycle starts at {_utc(spend.cycle_start_ms):%Y-%m-%dT%H:%M:%SZ}, "
                "after this computer's clock",
                hint="check the computer's date and time",
            )
        months = cycle_months(spend.cycle_start_ms, now, settings)
        fetched = fetch(settings, months, False, now, observer, results, client=client)
    ledger = load_ledger(
        settings, MonthSelection(months=tuple(months)), now, warn, since_ms=spend.cycle_start_ms
    )
    as_of_ms = min(ledger.as_of_ms if ledger.as_of_ms is not None else now_ms, now_ms)
    member_spend = {member.email: member.spend_cents for member in spend.members}
    reconciliation = compare_spend(member_spend, ledger, _utc(spend.cycle_start_ms), _utc(as_of_ms))
    return ReconcileResult(reconciliation, fetched)


def cycle_months(cycle_start_ms: int, now: datetime, settings: Settings) -> list[Month]:
    """The months of the configured zone from the one holding the cycle start to this one."""
    first = Month.containing(_utc(cycle_start_ms).astimezone(settings.zone))
    last = Month.containing(now.astimezone(settings.zone))
    months = [first]
    while months[-1] < last:
        months.append(months[-1].next())
    return months


def _utc(moment_ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=moment_ms)  # exact to the millisecond, unlike a float
