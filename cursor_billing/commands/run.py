"""`cursor-billing run`: fetch, then report — the whole two-part job in one command."""

from __future__ import annotations

import typer

from cursor_billing.commands.analyze import TopOption
from cursor_billing.commands.common import (
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    settings_for,
)
from cursor_billing.commands.fetch import MonthsBackOption, PageSizeOption, RefreshOption, run_fetch
from cursor_billing.commands.report import OutputOption, write_report


def run(
    ctx: typer.Context,
    months_back: MonthsBackOption = None,
    month: MonthOption = None,
    refresh: RefreshOption = False,
    page_size: PageSizeOption = None,
    output: OutputOption = None,
    top: TopOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Fetch the months from the API, then report on them: tables and the HTML dashboard.

    Example: cursor-billing run --months-back 3
    """
    settings = settings_for(
        ctx,
        config,
        data_dir,
        debug,
        page_size=page_size,
        top_spenders_count=top,
        months_back=months_back,
    )
    results = run_fetch(settings, month, months_back, refresh)
    write_report(settings, [r.month.label for r in results], None, None, output)
