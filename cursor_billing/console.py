"""The two consoles of the CLI: stdout for what the user asked for, stderr for progress,
warnings and errors. The only module that creates rich consoles, when first used: a script's
run (`analyze --json | …`, warnings to a file) never imports rich."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from cursor_billing.text import printable

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    stdout: Console
    stderr: Console


def _consoles() -> dict[str, Console]:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1 here; a closed pipe (`… | head`) is handled once, at the top.
            raise BrokenPipeError

    return {
        "stdout": _Console(highlight=False),
        # Soft wrap: an error line stays one line whatever the width, on a terminal or not.
        "stderr": _Console(stderr=True, highlight=False, soft_wrap=True),
    }


def _console(name: Literal["stdout", "stderr"]) -> Console:
    made = globals().get(name)
    if made is None:
        globals().update(_consoles())
        made = globals()[name]
    return made


def __getattr__(name: str) -> Any:
    if name == "stdout":
        return _console("stdout")
    if name == "stderr":
        return _console("stderr")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def print_data(data: str | bytes | Iterable[bytes]) -> None:
    """Plain text for scripts (JSON, a path) on stdout: no styling, no wrapping, and none of
    rich's per-line work, which costs seconds on a large JSON document. UTF-8 bytes (a JSON
    document, whole or in pieces) go to the stream's buffer as they are, not copied to text
    first."""
    out = sys.stdout
    if isinstance(data, str):
        out.write(data + "\n")
        out.flush()
        return
    pieces = [data] if isinstance(data, bytes) else data
    buffer = getattr(out, "buffer", None)
    out.flush()
    for piece in pieces:
        if buffer is None:
            out.write(piece.decode())
        else:
            buffer.write(piece)
    if buffer is None:
        out.write("\n")
        out.flush()
    else:
        buffer.write(b"\n")
        buffer.flush()


def warn(message: str) -> None:
    _say("[yellow]Warning:[/]", "Warning:", message)


def error(message: str, hint: str | None = None) -> None:
    _say("[bold red]Error:[/]", "Error:", message)
    if hint:
        _say("[dim]Hint:[/]", "Hint:", hint)


def _say(styled: str, plain: str, message: str) -> None:
    """One line on stderr. Messages quote names, e-mails and the API's own words: what a
    terminal would obey is made printable, and rich markup in them is escaped. Styled on a
    terminal (or with FORCE_COLOR), plain text otherwise, as rich would write it there."""
    text = printable(message)
    if sys.stderr.isatty() or os.environ.get("FORCE_COLOR"):
        from rich.markup import escape

        _console("stderr").print(f"{styled} {escape(text)}", soft_wrap=True)
    else:
        sys.stderr.write(f"{plain} {text}\n")
        sys.stderr.flush()


def print_table(table: RenderableType, console: Console | None = None) -> None:
    """A table on a terminal as rich draws it; piped, without the spaces that pad its lines."""
    console = console or _console("stdout")
    if console.is_terminal:
        console.print(table)
        return
    with console.capture() as captured:
        console.print(table)
    lines = captured.get().split("\n")
    console.file.write("\n".join(line.rstrip() for line in lines))
    console.file.flush()
