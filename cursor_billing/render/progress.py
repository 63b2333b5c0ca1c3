"""How a fetch looks while it runs: rich progress bars on a terminal, plain lines otherwise.
All of it on stderr."""

from __future__ import annotations

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


class FetchProgress:
    """A `FetchObserver` for the terminal; use it as a context manager."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
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
            self.console.print(f"Fetching page {pages_done}/{pages_total} for {month.title}...")
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
        if self.live and self._months is not None:
            self._progress.advance(self._months)
            task = self._progress.tasks[self._months]
            self._progress.update(
                self._months, description=f"Months {task.completed:.0f}/{task.total:.0f}"
            )
