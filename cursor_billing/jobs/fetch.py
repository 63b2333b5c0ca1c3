"""The fetch job shared by `fetch`, `run` and `demo`: bring the cache up to date for some months."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime

from cursor_billing.cache import CacheDir
from cursor_billing.client import AdminApiClient, Throttle, check_base_url
from cursor_billing.errors import UsageError
from cursor_billing.fetcher import Fetcher, FetchObserver, MonthResult
from cursor_billing.months import Month
from cursor_billing.settings import Settings
from cursor_billing.teams import save_billing_groups


def fetch(
    settings: Settings,
    months: list[Month],
    refresh: bool,
    now: datetime,
    observer: FetchObserver,
    results: list[MonthResult] | None = None,
    client: AdminApiClient | None = None,
) -> list[MonthResult]:
    """Fetch the months in turn. `results` (when given) receives each finished month as it
    ends, so a caller can report what was saved even when a later month fails. A `client`
    given by the caller (sharing its throttle with other requests) stays open."""
    own = client is None
    client = client or api_client(settings)
    cache_dir = CacheDir(settings.cache_dir)
    fetcher = Fetcher(client, cache_dir, settings.timezone, settings.page_size, now, observer)
    if results is not None:
        fetcher.results = results
    groups = settings.teams_source == "billing_groups"
    # Every month complete and no groups to save: nothing is written, so no lock (and no write
    # access needed).
    writes = groups or fetcher.has_work(months, refresh)
    with cache_dir.fetch_lock() if writes else nullcontext(), client if own else nullcontext():
        if groups:
            # First: a team without billing groups learns it before minutes of paging.
            save_billing_groups(settings.data_dir, client.billing_groups())
        fetcher.fetch(months, refresh)
    return fetcher.results


def api_client(settings: Settings) -> AdminApiClient:
    """The Admin API client of one run: one throttle for all its requests."""
    check_base_url(settings.base_url)
    if not settings.api_key:
        raise UsageError(
            "no API key: set CURSOR_API_KEY",
            hint="create an Admin API key in Cursor's team settings and put "
            "CURSOR_API_KEY=... in your environment or in a .env file",
        )
    return AdminApiClient(
        settings.base_url,
        settings.api_key,
        throttle=Throttle(settings.request_delay_seconds),
        timeout_seconds=settings.timeout_seconds,
        max_retries=settings.max_retries,
        rate_limit_patience_seconds=settings.rate_limit_patience_seconds,
        backoff_base_seconds=settings.backoff_base_seconds,
    )
