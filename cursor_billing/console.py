"""The two consoles of the CLI: stdout for what the user asked for, stderr for progress,
warnings and errors. The only module that creates rich consoles."""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.markup import escape

from cursor_billing.text import printable


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich would exit 1 here; a closed pipe (`… | head`) is handled once, at the top (cli).
        raise BrokenPipeError


stdout = _Console(highlight=False)
# Soft wrap: an error line stays one line whatever the width, on a terminal or not.
stderr = _Console(stderr=True, highlight=False, soft_wrap=True)


def print_data(data: str | bytes) -> None:
    """Plain text for scripts (JSON, a path) on stdout: no styling, no wrapping, and none of
    rich's per-line work, which costs seconds on a large JSON document. UTF-8 bytes (a JSON
    document) go to the stream's buffer as they are, not copied to text first."""
    out = stdout.file
    buffer = getattr(out, "buffer", None)
    if isinstance(data, bytes) and buffer is not None:
        out.flush()
        buffer.write(data)
        buffer.write(b"\n")
        buffer.flush()
        return
    out.write((data.decode() if isinstance(data, bytes) else data) + "\n")
    out.flush()


def warn(message: str) -> None:
    # Messages quote names, e-mails and the API's own words: escape what a terminal would obey.
    stderr.print(f"[yellow]Warning:[/] {escape(printable(message))}", soft_wrap=True)


def error(message: str, hint: str | None = None) -> None:
    stderr.print(f"[bold red]Error:[/] {escape(printable(message))}", soft_wrap=True)
    if hint:
        stderr.print(f"[dim]Hint:[/] {escape(printable(hint))}", soft_wrap=True)


def print_table(table: RenderableType, console: Console | None = None) -> None:
    """A table on a terminal as rich draws it; piped, without the spaces that pad its lines."""
    console = console or stdout
    if console.is_terminal:
        console.print(table)
        return
    with console.capture() as captured:
        console.print(table)
    lines = captured.get().split("\n")
    console.file.write("\n".join(line.rstrip() for line in lines))
    console.file.flush()
