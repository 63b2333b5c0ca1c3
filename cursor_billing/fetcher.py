"""Part 1 of the job: bring the monthly cache up to date from the API (SPEC §4–6).

Each month is fetched in windows of at most 30 days, page by page. Every page is appended to a
journal before the next request, so a fetch killed at any moment resumes where it stopped; the
month's cache file is written whole at the end, then the journal is removed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol

import msgspec

from cursor_billing import jsonout
from cursor_billing.cache import CacheDir, MonthlyCache, write_private
from cursor_billing.client import AdminApiClient
from cursor_billing.errors import CacheError, UsageError
from cursor_billing.events import is_kept
from cursor_billing.months import (
    DAY_MS,
    Month,
    MonthWindow,
    check_fetchable,
    epoch_ms,
    months_back,
    split_windows,
)


@dataclass
class MonthResult:
    """What the fetch did for one month, for the summary."""

    month: Month
    action: FetchAction
    events: int = 0  # kept events in the cache afterwards
    requests: int = 0
    retries: int = 0
    complete: bool = False
    warnings: list[str] = field(default_factory=list)
    unreliable: list[str] = field(default_factory=list)  # saved in the file as its `warnings`


FetchAction = Literal["skipped", "fetched", "refreshed", "resumed"]


class FetchObserver(Protocol):
    """Progress reports; the command renders them (rich bars or plain lines)."""

    def month_started(
        self, month: Month, action: str, months_done: int, months_total: int
    ) -> None: ...
    def page_fetched(self, month: Month, pages_done: int, pages_total: int) -> None: ...
    def retrying(self, reason: str, wait_seconds: float) -> None: ...
    def warning(self, message: str) -> None: ...
    def month_finished(self, result: MonthResult) -> None: ...


class Plan(msgspec.Struct):
    """One run's work on a month: the range to fetch and how. Saved as the journal's first line."""

    month: str
    timezone: str
    mode: str  # "full" or "tail"
    start_ms: int
    end_ms: int
    started_ms: int  # when this fetch started: decides whether the month is complete
    page_size: int


class _PageRecord(msgspec.Struct, omit_defaults=True):
    window: int
    page: int = 0
    total: int = 0
    num_pages: int = 0
    received: int = 0
    has_next: bool = False
    events: list[dict[str, Any]] = []
    restart: bool = False
    size: int = 0  # the page size asked for; 0 in journals written before it was recorded


@dataclass
class _WindowState:
    pages: list[_PageRecord] = field(default_factory=list)
    attempts: int = 1


def months_to_fetch(
    labels: list[str] | None, count: int | None, default_count: int, now: datetime
) -> list[Month]:
    """The months a fetch covers: `--month` labels, else the last `--months-back` months."""
    if labels and count is not None:
        raise UsageError("use either --month or --months-back, not both")
    if labels:
        return sorted({check_fetchable(Month.parse(label), now) for label in labels})
    return months_back(count if count is not None else default_count, now)


class Fetcher:
    def __init__(
        self,
        client: AdminApiClient,
        cache_dir: CacheDir,
        timezone_name: str,
        page_size: int,
        now: datetime,
        observer: FetchObserver,
    ) -> None:
        from zoneinfo import ZoneInfo

        self.client = client
        self.cache_dir = cache_dir
        self.timezone_name = timezone_name
        self.zone = ZoneInfo(timezone_name)
        self.page_size = page_size
        self.now_ms = epoch_ms(now)
        self.observer = observer
        self.results: list[MonthResult] = []
        client.on_retry = observer.retrying

    def has_work(self, months: list[Month], refresh: bool = False) -> bool:
        """Whether fetching the months would write anything. When not (every month complete),
        the fetch needs neither the lock nor write access to the folder."""
        leftovers = [s for s in self.cache_dir.strays() if s.kind == "leftover temporary file"]
        if refresh or leftovers or self.cache_dir.journal_months():
            return True
        for month in months:
            if not self.cache_dir.path_for(month).exists():
                return True
            cached = self.cache_dir.read(month, with_events=False)
            if cached.timezone != self.timezone_name or self._plan(month, cached) is not None:
                return True
        return False

    def fetch(self, months: list[Month], refresh: bool = False) -> list[MonthResult]:
        """Fetch the months in turn; `self.results` holds the finished ones even if one fails.
        Run it under the cache's fetch lock."""
        for path in self.cache_dir.remove_leftovers():
            self.observer.warning(f"removed {path.name}, left by a write that was killed")
        for done, month in enumerate(months):
            self.results.append(self.fetch_month(month, refresh, done, len(months)))
        return self.results

    def fetch_month(
        self, month: Month, refresh: bool, done: int = 0, total: int = 1
    ) -> MonthResult:
        stats_before = (self.client.stats.requests, self.client.stats.retries)
        journal = _Journal(self.cache_dir.journal_path(month))
        plan = journal.plan(month, self.timezone_name)
        cached = self._cached(month, refresh)
        if plan is not None and plan.mode == "tail" and cached is None:
            # A tail refresh cannot go on without the month it refreshes (gone, or being
            # re-fetched whole with --refresh); an unfinished whole fetch resumes either way.
            journal.remove()
            plan = None
        result = MonthResult(month, "resumed" if plan else "skipped")
        if plan is None:
            plan = self._plan(month, cached)
            if plan is None:
                assert cached is not None  # only a cached month needs no plan
                result.events, result.complete = len(cached.events), cached.complete
                self.observer.month_started(month, "skipped", done, total)
                self.observer.month_finished(result)
                return result
            result.action = "refreshed" if plan.mode == "tail" else "fetched"
            journal.start(plan)
        elif plan.page_size != self.page_size:
            self.observer.warning(
                f"{month.title}: resuming a fetch started with page size {plan.page_size}; "
                f"page size {self.page_size} applies from its next window"
            )
        self.observer.month_started(month, result.action, done, total)
        cached = self._run(month, plan, cached, journal, result)
        if result.action == "resumed" and not cached.complete and not cached.warnings:
            follow_up = self._plan(month, cached)  # bring a resumed current month up to now
            if follow_up is not None:
                journal.start(follow_up)
                cached = self._run(month, follow_up, cached, journal, result)
        result.events, result.complete = len(cached.events), cached.complete
        result.requests = self.client.stats.requests - stats_before[0]
        result.retries = self.client.stats.retries - stats_before[1]
        self.observer.month_finished(result)
        return result

    def _cached(self, month: Month, refresh: bool) -> MonthlyCache | None:
        if not self.cache_dir.path_for(month).exists():
            return None
        try:
            cached = self.cache_dir.read(month)
        except CacheError:
            if refresh:
                return None  # about to be replaced whole
            raise
        if cached.source == "csv" and not refresh:  # only --refresh replaces an imported month
            if cached.timezone != self.timezone_name:
                self.observer.warning(
                    f"{month.label} was imported from CSV in time zone {cached.timezone}, the "
                    f"config says {self.timezone_name}: left alone (--refresh fetches it whole)"
                )
            return cached
        if cached.timezone != self.timezone_name:
            self.observer.warning(
                f"{month.label} was cached in time zone {cached.timezone}, the config says "
                f"{self.timezone_name}: fetching it again whole"
            )
            return None
        return None if refresh else cached

    def _plan(self, month: Month, cached: MonthlyCache | None) -> Plan | None:
        """None when there is nothing to fetch (the cached month is complete); a tail refresh
        for a partial one; the whole month otherwise."""
        month_start, month_end = month.start_ms(self.zone), month.end_ms(self.zone)
        end_ms = min(self.now_ms, month_end)
        if cached is None:
            start_ms, mode = month_start, "full"
        elif cached.warnings:  # unreliable: its counts disagreed, so none of it is trusted
            start_ms, mode = month_start, "full"
        elif cached.complete:
            return None
        else:
            start_ms, mode = max(month_start, cached.covered_end_ms - DAY_MS), "tail"
            if start_ms > end_ms:
                return None  # the clock is behind the last fetch: nothing newer to ask for
        return Plan(
            month.label, self.timezone_name, mode, start_ms, end_ms, self.now_ms, self.page_size
        )

    def _run(
        self,
        month: Month,
        plan: Plan,
        cached: MonthlyCache | None,
        journal: _Journal,
        result: MonthResult,
    ) -> MonthlyCache:
        windows = split_windows(plan.start_ms, plan.end_ms)
        states = journal.windows
        fetched: list[dict[str, Any]] = []
        trusted_end_ms = plan.end_ms  # the data of a window that disagreed twice is suspect
        unreliable = []
        for index, window in enumerate(windows):
            events, problem = self._window(
                month, plan, index, window, windows, states, journal, result
            )
            fetched.extend(events)
            if problem:
                unreliable.append(problem)
                trusted_end_ms = min(trusted_end_ms, window.start_ms - 1)
        result.unreliable = unreliable
        month_start, month_end = month.start_ms(self.zone), month.end_ms(self.zone)
        kept_before = (
            []
            if plan.mode == "full" or cached is None
            else [e for e in cached.events if (timestamp_ms(e) or 0) < plan.start_ms]
        )
        events = _newest_first(fetched + kept_before)
        updated = MonthlyCache(
            month=month,
            timezone=self.timezone_name,
            fetched_at=datetime.fromtimestamp(plan.started_ms / 1000, timezone.utc),
            # Covered only up to a suspect window; the warnings make the next fetch read it
            # whole again.
            complete=trusted_end_ms == month_end and plan.started_ms > month_end + DAY_MS,
            covered_start_ms=month_start,
            covered_end_ms=trusted_end_ms,
            events=events,
            warnings=unreliable,
        )
        self.cache_dir.write(updated)
        journal.remove()
        return updated

    def _window(
        self,
        month: Month,
        plan: Plan,
        index: int,
        window: MonthWindow,
        windows: list[MonthWindow],
        states: dict[int, _WindowState],
        journal: _Journal,
        result: MonthResult,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The window's kept events, and why their count cannot be trusted (None: it can)."""
        state = states.setdefault(index, _WindowState())
        while True:
            page = len(state.pages) + 1
            # A window goes on with the page size it started with: its pages are numbered in it.
            page_size = (state.pages[0].size or plan.page_size) if state.pages else self.page_size
            while not state.pages or state.pages[-1].has_next:
                response = self.client.usage_page(window.start_ms, window.end_ms, page, page_size)
                kept = [e for e in response.events if is_kept(e)]
                outside = [e for e in kept if not _inside(e, window)]
                if outside:
                    kept = [e for e in kept if _inside(e, window)]
                    result.warnings.append(
                        f"{month.title}: left out {len(outside)} event(s) whose timestamp is "
                        f"missing, unreadable or outside the requested range"
                    )
                    self.observer.warning(result.warnings[-1])
                record = _PageRecord(
                    index,
                    page,
                    response.total_events,
                    response.num_pages,
                    len(response.events),
                    response.has_next_page,
                    kept,
                    size=page_size,
                )
                stop = _stop_reason(record, page_size)
                if stop:
                    record.has_next = False
                    self.observer.warning(f"{month.title}: {stop}; stopping at page {page}")
                journal.append(record)
                state.pages.append(record)
                self.observer.page_fetched(month, *_page_progress(states, len(windows)))
                page += 1
            problem = _count_problem(state.pages)
            if problem is None:
                break
            message = f"{month.title}, {_day(window.start_ms)}–{_day(window.end_ms)}: {problem}"
            if state.attempts >= 2:
                result.warnings.append(
                    message + ", twice: saved as unreliable, the next fetch reads it whole again"
                )
                self.observer.warning(result.warnings[-1])
                return _kept_events(state.pages), message + " (twice)"
            self.observer.warning(message + "; fetching that window once more")
            journal.append(_PageRecord(index, restart=True))
            state.pages, state.attempts = [], state.attempts + 1
        return _kept_events(state.pages), None


def _count_problem(pages: list[_PageRecord]) -> str | None:
    """Why a window's pages cannot be trusted: the total changed between pages (events
    landed while paging, so pages shifted), or the events received do not add up to it."""
    totals = {page.total for page in pages}
    if len(totals) > 1:
        return f"the announced total changed while paging ({min(totals)} → {max(totals)})"
    received = sum(page.received for page in pages)
    if received != pages[-1].total:
        return f"the API announced {pages[-1].total} events but sent {received}"
    return None


def _stop_reason(record: _PageRecord, page_size: int) -> str | None:
    """Guards against a server that never says it is done."""
    if not record.has_next:
        return None
    if record.received == 0:
        return "the API sent an empty page but said there were more"
    pages = max(record.num_pages, -(-record.total // page_size))
    if record.page >= pages:
        return f"the API said there were more pages than its own counts allow ({pages})"
    return None


def _kept_events(pages: list[_PageRecord]) -> list[dict[str, Any]]:
    return [event for record in pages for event in record.events]


def timestamp_ms(event: dict[str, Any]) -> int | None:
    """The event's epoch-ms `timestamp` (a string, sometimes a number); None if unreadable."""
    value = event.get("timestamp")
    if isinstance(value, bool):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pass
    try:
        return int(Decimal(value))  # type: ignore[arg-type]  # "1767225600001.0"
    except (TypeError, ValueError, ArithmeticError):
        return None


def _inside(event: dict[str, Any], window: MonthWindow) -> bool:
    moment = timestamp_ms(event)
    return moment is not None and window.start_ms <= moment <= window.end_ms


def _newest_first(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda event: timestamp_ms(event) or 0, reverse=True)


def _page_progress(states: dict[int, _WindowState], window_count: int) -> tuple[int, int]:
    done = sum(len(s.pages) for s in states.values())
    known = sum(max(s.pages[0].num_pages, len(s.pages)) for s in states.values() if s.pages)
    unknown = window_count - sum(1 for s in states.values() if s.pages)
    return done, known + unknown


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _day(epoch_ms_value: int) -> str:
    return datetime.fromtimestamp(epoch_ms_value / 1000, timezone.utc).strftime("%Y-%m-%d")


_RECORD_DECODER = jsonout.exact_decoder(_PageRecord)  # events keep every digit, as in the cache


class _Journal:
    """An append-only file of the pages saved so far; a line cut short by a kill is ignored."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.windows: dict[int, _WindowState] = {}

    def plan(self, month: Month, timezone_name: str) -> Plan | None:
        """The plan of an unfinished fetch of this month, with its saved pages loaded."""
        try:
            lines = self.path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return None
        try:
            plan = msgspec.json.decode(lines[0], type=Plan)
        except msgspec.MsgspecError:
            self.remove()
            return None
        if plan.month != month.label or plan.timezone != timezone_name:
            self.remove()
            return None
        good_bytes = len(lines[0]) + 1
        for line in lines[1:]:
            try:
                record = _RECORD_DECODER.decode(line)
            except msgspec.MsgspecError:
                # The end of the file, or a line cut short by a kill: cut it off so that
                # the pages appended next follow the last whole line.
                os.truncate(self.path, good_bytes)
                break
            good_bytes += len(line) + 1
            state = self.windows.setdefault(record.window, _WindowState())
            if record.restart:
                state.pages, state.attempts = [], state.attempts + 1
            elif 1 <= record.page <= len(state.pages) + 1:
                # By its page number, never by its place: a page written twice replaces the
                # first copy (and what followed it), so no event counts twice.
                del state.pages[record.page - 1 :]
                state.pages.append(record)
            # A page after a gap is left out: the fetch asks for the missing page again.
        return plan

    def start(self, plan: Plan) -> None:
        self.windows = {}
        write_private(self.path, jsonout.encode(plan) + b"\n")

    def append(self, record: _PageRecord) -> None:
        self._append(jsonout.encode(record))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.windows = {}

    def _append(self, line: bytes) -> None:
        """Append one whole line; a line a full disk cut short is cut off again, so the journal
        stays whole lines, and the error names the file."""
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | _NOFOLLOW)
        except OSError as error:
            raise CacheError(f"cannot write {self.path}: {error.strerror or error}") from None
        size = os.fstat(descriptor).st_size
        try:
            data = memoryview(line + b"\n")
            while data:
                data = data[os.write(descriptor, data) :]
            os.fsync(descriptor)
        except OSError as error:
            try:
                os.ftruncate(descriptor, size)
            except OSError:
                pass  # a cut line is dropped when the journal is read again
            raise CacheError(f"cannot write {self.path}: {error.strerror or error}") from None
        finally:
            os.close(descriptor)
