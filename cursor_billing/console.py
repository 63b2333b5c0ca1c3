"""The two consoles of the CLI: stdout for what the user asked for, stderr for progress,
warnings and errors. The only module that creates rich consoles."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from cursor_billing.text import printable

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)


def print_data(text: str) -> None:
    """Plain text for scripts (JSON, a path) on stdout: no styling, no wrapping, and none of
    rich's per-line work, which costs seconds on a large JSON document."""
    stdout.file.write(text + "\n")
    stdout.file.flush()


def warn(message: str) -> None:
    # Messages quote names, e-mails and the API's own words: escape what a terminal would obey.
    stderr.print(f"[yellow]Warning:[/] {escape(printable(message))}", soft_wrap=True)


def error(message: str, hint: str | None = None) -> None:
    stderr.print(f"[bold red]Error:[/] {escape(printable(message))}", soft_wrap=True)
    if hint:
        stderr.print(f"[dim]Hint:[/] {escape(printable(hint))}", soft_wrap=True)
