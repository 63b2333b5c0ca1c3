"""`cursor-billing fetch`: bring the monthly cache up to date from the Admin API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cursor_billing.commands.common import (
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    settings_for,
)

if TYPE_CHECKING:
    from cursor_billing.fetcher import MonthResult
    from cursor_billing.settings import Settings

MonthsBackOption = Annotated[
    int | None,
    typer.Option(
        "--months-back",
        metavar="N",
        help="The current month and the N−1 before it.",
        show_default=False,
    ),
]
RefreshOption = Annotated[bool, typer.Option("--refresh", help="Re-fetch even complete months.")]
PageSizeOption = Annotated[
    int | None,
    typer.Option(
        "--page-size", metavar="N", help="Events per API page (1–1000).", show_default=False
    ),
]


def fetch(
    ctx: typer.Context,
    months_back: MonthsBackOption = None,
    month: MonthOption = None,
    refresh: RefreshOption = False,
    page_size: PageSizeOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Fetch on-demand usage events from the Cursor Admin API into the monthly cache.

    Needs CURSOR_API_KEY (an Admin API key) in the environment or in .env.

    Example: cursor-billing fetch --months-back 3
    """
    settings = settings_for(ctx, config, data_dir, debug, page_size=page_size)
    run_fetch(settings, month, months_back, refresh)


def run_fetch(
    settings: Settings, labels: list[str] | None, months_back: int | None, refresh: bool
) -> list[MonthResult]:
    """The fetch job shared by `fetch`, `run` and `demo`: returns the per-month results."""
    from datetime import datetime

    from cursor_billing import console
    from cursor_billing.cache import CacheDir
    from cursor_billing.client import AdminApiClient, Throttle, check_base_url
    from cursor_billing.errors import UsageError
    from cursor_billing.fetcher import Fetcher, months_to_fetch
    from cursor_billing.progress import FetchProgress
    from cursor_billing.tables import fetch_summary_table

    now = datetime.now(settings.zone)
    months = months_to_fetch(labels, months_back, settings.months_back, now)
    check_base_url(settings.base_url)
    if not settings.api_key:
        raise UsageError(
            "no API key: set CURSOR_API_KEY",
            hint="create an Admin API key in Cursor's team settings and put "
            "CURSOR_API_KEY=... in your environment or in a .env file",
        )
    client = AdminApiClient(
        settings.base_url,
        settings.api_key,
        throttle=Throttle(settings.request_delay_seconds),
        timeout_seconds=settings.timeout_seconds,
        max_retries=settings.max_retries,
        rate_limit_patience_seconds=settings.rate_limit_patience_seconds,
        backoff_base_seconds=settings.backoff_base_seconds,
    )
    cache_dir = CacheDir(settings.cache_dir)
    progress = FetchProgress(console.stderr)
    fetcher = Fetcher(client, cache_dir, settings.timezone, settings.page_size, now, progress)
    try:
        with cache_dir.fetch_lock(), client, progress:
            fetcher.fetch(months, refresh)
    finally:
        if fetcher.results:  # also when a later month failed: say what is saved
            console.stderr.print(fetch_summary_table(fetcher.results))
    return fetcher.results
