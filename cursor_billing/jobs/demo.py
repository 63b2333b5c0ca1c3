"""The demo job: the whole tool with no key and no network, against the bundled emulator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from cursor_billing.cache import write_private
from cursor_billing.fetcher import FetchObserver, MonthResult
from cursor_billing.jobs.analyze import MonthSelection, Warn, _ignore
from cursor_billing.jobs.fetch import fetch
from cursor_billing.jobs.reconcile import reconcile
from cursor_billing.jobs.report import WrittenReport, write_report
from cursor_billing.months import epoch_ms, months_back
from cursor_billing.settings import Budgets, Settings
from cursor_billing.views.reconcile import Reconciliation

DEMO_EVENTS_PER_MONTH = 4000
DEMO_USERS = 48
DEMO_REQUEST_DELAY_SECONDS = 0.02  # the emulator is local: no need to wait 3 s between requests


@dataclass(frozen=True)
class DemoResult:
    fetched: list[MonthResult]
    written: WrittenReport
    reconciliation: Reconciliation  # the cache against the emulator's /teams/spend


def demo(
    settings: Settings,
    now: datetime,
    observer: FetchObserver,
    announce: Warn = _ignore,
    results: list[MonthResult] | None = None,
) -> DemoResult:
    """Generate realistic events for the last `months_back` months, serve them on 127.0.0.1,
    fetch them through the real client, write the dashboard into `settings.data_dir`, and
    reconcile the cache with the emulator's per-member spend."""
    from cursor_billing.emulator import Emulator, generate

    months = months_back(settings.months_back, now.astimezone(settings.zone))
    start_ms, end_ms = months[0].start_ms(settings.zone), epoch_ms(now)
    count = DEMO_EVENTS_PER_MONTH * len(months)
    announce(f"Generating {count:,} usage events for {len(months)} months...")
    data = generate(seed=2026, start_ms=start_ms, end_ms=end_ms, count=count, users=DEMO_USERS)
    api_key = f"key_demo_{secrets.token_hex(8)}"
    # The billing cycle holding `now`, cut to the demo's months: reconcile fetches no more.
    cycle_start = max(data.team.cycle_containing(end_ms)[0], start_ms)
    with Emulator(
        data.events,
        api_key=api_key,
        team=data.team,
        rate_limit=None,
        admin_rate_limit=None,
        cycle_start_ms=cycle_start,
        wall_clock_ms=lambda: end_ms,
    ) as emulator:
        announce(f"Emulated Cursor Admin API on {emulator.base_url}")
        demo_settings = replace(
            settings,
            api_key=api_key,
            base_url=emulator.base_url,
            request_delay_seconds=DEMO_REQUEST_DELAY_SECONDS,
            backoff_base_seconds=0.1,
            # Teams from the emulator's billing groups, unless the config names a teams file;
            # a monthly budget for the whole account, unless the config sets budgets.
            teams_source="file" if settings.teams_file else "billing_groups",
            budgets=settings.budgets if _has_budgets(settings) else DEMO_BUDGETS,
        )
        fetched = fetch(demo_settings, months, False, now, observer, results)
        written = write_report(
            demo_settings, MonthSelection(months=tuple(months)), settings.report_path, now
        )
        reconciled = reconcile(demo_settings, now, observer)
    _write_demo_config(settings)
    return DemoResult(fetched, written, reconciled.reconciliation)


DEMO_CONFIG = """\
# Written by `cursor-billing demo`: run the other commands from this folder
# (`cd` here, then `cursor-billing analyze`) to explore the demo's cache.
billing:
  data_dir: "."
  teams_source: billing_groups   # the emulator's billing groups, saved by the demo's fetch
  budgets:
    total_monthly_usd: 600       # try `cursor-billing check`
"""
DEMO_BUDGETS = Budgets(total_monthly_usd=Decimal(600))


def _has_budgets(settings: Settings) -> bool:
    budgets = settings.budgets
    return bool(
        budgets.total_monthly_usd is not None
        or budgets.user_monthly_usd is not None
        or budgets.users
        or budgets.teams
    )


def _write_demo_config(settings: Settings) -> None:
    """A config.yaml in the demo's folder, unless there is one: the commands run from there read
    the demo's cache with its teams."""
    path = settings.data_dir / "config.yaml"
    if not path.exists():
        write_private(path, DEMO_CONFIG.encode())
