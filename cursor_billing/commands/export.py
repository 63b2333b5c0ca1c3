"""`cursor-billing export`: usage rows as CSV or FinOps FOCUS, for spreadsheets and FinOps tools."""

from typing import Annotated

import typer

from cursor_billing.commands.common import (
    AnonymizeOption,
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    SinceOption,
    UntilOption,
    now,
    selection,
    settings_for,
)


def export(
    ctx: typer.Context,
    export_format: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="csv|focus",
            help="csv: one row per period, user, model and source; focus: FinOps FOCUS 1.2.",
        ),
    ] = "csv",
    grain: Annotated[
        str,
        typer.Option(
            "--grain", metavar="day|month", help="The CSV's periods (FOCUS rows are per day)."
        ),
    ] = "day",
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write to this file (created fresh, readable by you only) instead of stdout.",
            show_default=False,
        ),
    ] = None,
    month: MonthOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    anonymize: AnonymizeOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Export the cached on-demand usage as CSV or FOCUS (docs/export.md). No API call.

    Both cost columns count every on-demand event; they add up to `analyze --json`'s totals.

    Example: cursor-billing export --format focus --since 01-2026 --output cursor-focus.csv
    """
    from pathlib import Path

    from cursor_billing import console
    from cursor_billing.errors import UsageError
    from cursor_billing.jobs.export import ExportRequest
    from cursor_billing.jobs.export import export as export_cache
    from cursor_billing.text import printable
    from cursor_billing.views.export import EXPORT_FORMATS, EXPORT_GRAINS

    if export_format not in EXPORT_FORMATS:
        raise UsageError(f"--format must be csv or focus, not {export_format!r}")
    if grain not in EXPORT_GRAINS:
        raise UsageError(f"--grain must be day or month, not {grain!r}")
    if export_format == "focus" and grain != "day":
        raise UsageError("--grain is for --format csv: FOCUS rows are always per day")
    if output is not None and not output.strip():
        raise UsageError("--output needs a file name")
    settings = settings_for(ctx, config, data_dir, debug)
    request = ExportRequest(
        export_format,  # type: ignore[arg-type]
        grain,  # type: ignore[arg-type]
        selection(month, since, until),
        anonymize=anonymize,
    )
    if output is None:
        export_cache(settings, request, now(), out=console.stdout.file, warn=console.warn)
        return
    result = export_cache(
        settings, request, now(), path=Path(output).expanduser(), warn=console.warn
    )
    console.stderr.print(
        f"Exported {result.rows:,} rows to {printable(str(result.path))}",
        soft_wrap=True,
        markup=False,
    )
