"""The demo job: the whole tool with no key and no network, against the bundled emulator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from cursor_billing.fetcher import FetchObserver, MonthResult
from cursor_billing.jobs.analyze import MonthSelection, Warn, _ignore
from cursor_billing.jobs.fetch import fetch
from cursor_billing.jobs.report import WrittenReport, write_report
from cursor_billing.months import epoch_ms, months_back
from cursor_billing.settings import Settings

DEMO_EVENTS_PER_MONTH = 4000
DEMO_USERS = 48
DEMO_REQUEST_DELAY_SECONDS = 0.02  # the emulator is local: no need to wait 3 s between requests


@dataclass(frozen=True)
class DemoResult:
    fetched: list[MonthResult]
    written: WrittenReport


def demo(
    settings: Settings,
    now: datetime,
    observer: FetchObserver,
    announce: Warn = _ignore,
    results: list[MonthResult] | None = None,
) -> DemoResult:
    """Generate realistic events for the last `months_back` months, serve them on 127.0.0.1,
    fetch them through the real client and write the dashboard into `settings.data_dir`."""
    from cursor_billing.emulator import Emulator, generate_events

    months = months_back(settings.months_back, now.astimezone(settings.zone))
    start_ms, end_ms = months[0].start_ms(settings.zone), epoch_ms(now)
    count = DEMO_EVENTS_PER_MONTH * len(months)
    announce(f"Generating {count:,} usage events for {len(months)} months...")
    events = generate_events(
        seed=2026, start_ms=start_ms, end_ms=end_ms, count=count, users=DEMO_USERS
    )
    api_key = f"key_demo_{secrets.token_hex(8)}"
    with Emulator(events, api_key=api_key, rate_limit=None) as emulator:
        announce(f"Emulated Cursor Admin API on {emulator.base_url}")
        demo_settings = replace(
            settings,
            api_key=api_key,
            base_url=emulator.base_url,
            request_delay_seconds=DEMO_REQUEST_DELAY_SECONDS,
            backoff_base_seconds=0.1,
        )
        fetched = fetch(demo_settings, months, False, now, observer, results)
    written = write_report(
        demo_settings, MonthSelection(months=tuple(months)), settings.report_path, now
    )
    return DemoResult(fetched, written)
