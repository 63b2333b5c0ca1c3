"""How a fetch looks while it runs: rich progress bars on a terminal, plain lines otherwise.
All of it on stderr."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from cursor_billing.fetcher import MonthResult
from cursor_billing.months import Month

PLAIN_EVERY_SECONDS = 30  # without a terminal: a line at most every 10 % of the pages or 30 s


_DOING = {"fetched": "fetching", "refreshed": "refreshing", "resumed": "resuming"}


class FetchProgress:
    """A `FetchObserver` for the terminal; use it as a context manager."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.live = console.is_terminal
        self.clock = clock
        self._last_line = (0, 0.0)  # pages done and the clock when the last plain line went out
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._months: TaskID | None = None
        self._pages: TaskID | None = None

    def __enter__(self) -> FetchProgress:
        if self.live:
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.live:
            self._progress.stop()

    def month_started(self, month: Month, action: str, months_done: int, months_total: int) -> None:
        if not self.live:
            if action == "skipped":
                self.console.print(f"{month.title}: complete in the cache, skipped.")
            else:
                self.console.print(f"{month.title}: {_DOING[action]}...")
                self._last_line = (0, self.clock())
            return
        if self._months is None:
            self._months = self._progress.add_task("", total=months_total)
        description = f"Months {months_done}/{months_total}"
        self._progress.update(self._months, completed=months_done, description=description)
        if self._pages is not None:
            self._progress.remove_task(self._pages)
        self._pages = self._progress.add_task(f"{month.title} · {action}", total=None)

    def page_fetched(self, month: Month, pages_done: int, pages_total: int) -> None:
        if not self.live:
            done_before, printed_at = self._last_line
            tenth = max(pages_total, 1) / 10
            if (
                int(pages_done / tenth) > int(done_before / tenth)
                or self.clock() - printed_at >= PLAIN_EVERY_SECONDS
            ):
                self.console.print(f"Fetching page {pages_done}/{pages_total} for {month.title}...")
                self._last_line = (pages_done, self.clock())
            return
        if self._pages is not None:
            self._progress.update(
                self._pages,
                description=f"{month.title} · page {pages_done}/{pages_total}",
                completed=pages_done,
                total=pages_total,
            )

    def retrying(self, reason: str, wait_seconds: float) -> None:
        self.console.print(f"[yellow]Retrying[/] in {wait_seconds:.1f} s: {escape(reason)}")

    def warning(self, message: str) -> None:
        self.console.print(f"[yellow]Warning:[/] {escape(message)}", soft_wrap=True)

    def month_finished(self, result: MonthResult) -> None:
        if not self.live and result.action != "skipped":
            state = "unreliable" if result.unreliable else "done"
            self.console.print(
                f"{result.month.title}: {state}, {result.events:,} events kept, "
                f"{result.requests:,} request{'' if result.requests == 1 else 's'}."
            )
        if self.live and self._months is not None:
            self._progress.advance(self._months)
            task = self._progress.tasks[self._months]
            self._progress.update(
                self._months, description=f"Months {task.completed:.0f}/{task.total:.0f}"
            )
