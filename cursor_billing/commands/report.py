"""`cursor-billing report`: the top-spenders table, and the HTML dashboard for finance."""

import typer

from cursor_billing.commands.common import (
    AnonymizeOption,
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    OutputOption,
    SinceOption,
    TopOption,
    UntilOption,
    now,
    print_report,
    report_path,
    selection,
    settings_for,
)


def report(
    ctx: typer.Context,
    output: OutputOption = None,
    month: MonthOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    top: TopOption = None,
    anonymize: AnonymizeOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Print the top spenders and write the self-contained HTML dashboard. No API call.

    Example: cursor-billing report --since 01-2026 --output spend.html
    """
    from cursor_billing import console
    from cursor_billing.jobs.report import write_report

    settings = settings_for(ctx, config, data_dir, debug, top_spenders_count=top)
    path = report_path(settings, output)
    # Written before anything is printed: a path that cannot be written leaves stdout empty.
    written = write_report(
        settings,
        selection(month, since, until),
        path,
        now(),
        warn=console.warn,
        anonymize=anonymize,
    )
    print_report(written, settings.top_spenders_count)
