"""`cursor-billing report`: the top-spenders table, and the HTML dashboard for finance."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cursor_billing.commands.analyze import SinceOption, TopOption, UntilOption
from cursor_billing.commands.common import (
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    settings_for,
)
from cursor_billing.errors import UsageError

if TYPE_CHECKING:
    from cursor_billing.settings import Settings

OutputOption = Annotated[
    str | None,  # a string: a trailing slash says "a folder", which Path would drop
    typer.Option(
        "--output",
        "-o",
        metavar="PATH",
        help="Where to write the dashboard (default: <data_dir>/<output_filename>).",
        show_default=False,
    ),
]


def report(
    ctx: typer.Context,
    output: OutputOption = None,
    month: MonthOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    top: TopOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Print the top spenders and write the self-contained HTML dashboard. No API call.

    Example: cursor-billing report --since 01-2026 --output spend.html
    """
    settings = settings_for(ctx, config, data_dir, debug, top_spenders_count=top)
    write_report(settings, month, since, until, output)


def write_report(
    settings: Settings,
    labels: list[str] | None,
    since: str | None,
    until: str | None,
    output: Path | None,
) -> Path:
    """The report job shared by `report`, `run` and `demo`: returns the dashboard's path."""
    from datetime import datetime, timezone

    from cursor_billing import console
    from cursor_billing.analysis import analyze_cache
    from cursor_billing.dashboard import write_dashboard
    from cursor_billing.tables import top_spenders_table

    path = _dashboard_path(settings, output)
    billing = analyze_cache(settings, labels, since, until, warn=console.warn)
    # Written before anything is printed: a path that cannot be written leaves stdout empty.
    write_dashboard(
        billing, path, top=settings.top_spenders_count, generated_at=datetime.now(timezone.utc)
    )
    console.stdout.print(top_spenders_table(billing, settings.top_spenders_count))
    console.print_data(str(path))
    return path


def _dashboard_path(settings: Settings, output: str | None) -> Path:
    """`--output` as a file, or as a folder when it is one or ends with a slash."""
    if output is None:
        return settings.report_path
    if not output.strip():
        raise UsageError("--output needs a file or folder name")
    path = Path(output).expanduser()
    if output.endswith(("/", os.sep)) or path.is_dir():
        return path / settings.output_filename
    return path
