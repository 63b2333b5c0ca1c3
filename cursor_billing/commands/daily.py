"""`cursor-billing daily`: spend per day, one compact table (or `--json`). No API call."""

from typing import Annotated

import typer

from cursor_billing.commands.common import (
    AnonymizeOption,
    ConfigOption,
    DataDirOption,
    DebugOption,
    now,
    settings_for,
)


def daily(
    ctx: typer.Context,
    days: Annotated[
        int, typer.Option("--days", metavar="N", min=1, help="How many days, ending today.")
    ] = 31,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print the JSON document (docs/json.md) and nothing else."),
    ] = False,
    anonymize: AnonymizeOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Spend per day: cost, requests, users, top user and top model, from the cache.

    Example: cursor-billing daily --days 14
    """
    from cursor_billing import console
    from cursor_billing.jobs.daily import daily_spend

    settings = settings_for(ctx, config, data_dir, debug)
    result = daily_spend(settings, days, now(), warn=console.warn, anonymize=anonymize)
    if json_output:
        from cursor_billing.render.json import daily_document, dumps

        console.print_data(dumps(daily_document(result, decimals=True)))
        return
    from cursor_billing.render.terminal import daily_table

    console.print_table(daily_table(result))
