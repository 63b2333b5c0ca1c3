"""`cursor-billing import-csv`: load Cursor's dashboard usage export into the monthly cache."""

from pathlib import Path
from typing import Annotated

import typer

from cursor_billing.commands.common import (
    ConfigOption,
    DataDirOption,
    DebugOption,
    now,
    settings_for,
)


def import_csv(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE", help="CSV files downloaded from Cursor's usage dashboard."),
    ],
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            metavar="EMAIL",
            help="Whose usage a personal export (no User column) holds.",
            show_default=False,
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite months that are already cached.")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Import Cursor's dashboard usage export (CSV) into the cache, as complete months.

    On-demand rows are kept, the others counted. Months already cached are left alone
    unless --replace; `fetch` leaves imported months alone unless --refresh. No API call.

    Example: cursor-billing import-csv usage-events-2025.csv --user ada@example.com
    """
    from cursor_billing import console
    from cursor_billing.cache import CacheDir
    from cursor_billing.csv_import import import_exports
    from cursor_billing.errors import UsageError
    from cursor_billing.render.terminal import import_summary_table

    settings = settings_for(ctx, config, data_dir, debug)
    if user is not None and "@" not in user:
        raise UsageError(f"--user {user!r} is not an e-mail address")
    result = import_exports(
        files,
        CacheDir(settings.cache_dir),
        settings.timezone,
        now().astimezone(settings.zone),
        user=user,
        replace=replace,
    )
    for warning in result.warnings:
        console.warn(warning)
    if result.months:
        console.print_table(import_summary_table(result))
    else:
        console.stderr.print("The files hold no usage rows: nothing imported.")
