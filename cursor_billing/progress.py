"""How a fetch looks while it runs: rich progress bars on a terminal, plain lines otherwise,
and the summary table at the end. All of it on stderr."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from cursor_billing.fetcher import MonthResult
from cursor_billing.formatting import count
from cursor_billing.months import Month


class FetchProgress:
    """A `FetchObserver` for the terminal; use it as a context manager."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
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
            self._months = self._progress.add_task("Months", total=months_total)
        self._progress.update(self._months, completed=months_done)
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


def summary_table(results: list[MonthResult]) -> Table:
    table = Table(title="Fetch summary")
    table.add_column("month")
    table.add_column("action")
    table.add_column("events", justify="right")
    table.add_column("requests", justify="right")
    table.add_column("retries", justify="right")
    table.add_column("state")
    for r in results:
        state = "complete" if r.complete else "[yellow]partial[/]"
        if r.warnings:
            state += " [red]⚠ counts disagree (see warning)[/]"
        table.add_row(
            r.month.label, r.action, count(r.events), count(r.requests), count(r.retries), state
        )
    return table
