"""`cursor-billing run`: fetch, then report — the whole two-part job in one command."""

import typer

from cursor_billing.commands.common import (
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    MonthsBackOption,
    OutputOption,
    PageSizeOption,
    RefreshOption,
    TopOption,
    fail_if_unreliable,
    fetch_months,
    now,
    print_report,
    report_path,
    settings_for,
)


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
    from cursor_billing import console
    from cursor_billing.jobs.analyze import MonthSelection
    from cursor_billing.jobs.report import write_report

    settings = settings_for(
        ctx,
        config,
        data_dir,
        debug,
        page_size=page_size,
        top_spenders_count=top,
        months_back=months_back,
    )
    path = report_path(settings, output)
    results = fetch_months(settings, month, months_back, refresh)
    months = MonthSelection(months=tuple(r.month for r in results))
    written = write_report(settings, months, path, now(), warn=console.warn)
    print_report(written, settings.top_spenders_count)
    fail_if_unreliable(results)  # after the report, which marks those months
