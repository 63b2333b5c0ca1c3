"""`cursor-billing fetch`: bring the monthly cache up to date from the Admin API."""

import typer

from cursor_billing.commands.common import (
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    MonthsBackOption,
    PageSizeOption,
    RefreshOption,
    fail_if_unreliable,
    fetch_months,
    now,
    settings_for,
)


def fetch(
    ctx: typer.Context,
    months_back: MonthsBackOption = None,
    month: MonthOption = None,
    refresh: RefreshOption = False,
    page_size: PageSizeOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Fetch on-demand usage events from the Cursor Admin API into the monthly cache.

    Needs CURSOR_API_KEY (an Admin API key) in the environment or in .env.

    Example: cursor-billing fetch --months-back 3
    """
    settings = settings_for(
        ctx, config, data_dir, debug, page_size=page_size, months_back=months_back
    )
    results = fetch_months(settings, month, months_back, refresh)
    fail_if_unreliable(results)
    if results:  # the headline of what is now cached, after the summary: on stderr, like it
        from cursor_billing import console
        from cursor_billing.jobs.analyze import MonthSelection, analyze
        from cursor_billing.render.text import headline
        from cursor_billing.text import printable

        fetched = MonthSelection(months=tuple(sorted({r.month for r in results})))
        report = analyze(settings, fetched, now(), warn=console.warn)
        console.stderr.print(
            printable(headline(report)),
            markup=False,
            highlight=False,
            soft_wrap=not console.stderr.is_terminal,  # words wrap on a screen, not in a log
        )
