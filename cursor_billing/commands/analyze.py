"""`cursor-billing analyze`: the cost analytics of the cache, as terminal tables or JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from cursor_billing.commands.common import (
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    settings_for,
)

SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since", metavar="MM-YYYY", help="First month to analyze (MM-YYYY).", show_default=False
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until", metavar="MM-YYYY", help="Last month to analyze (MM-YYYY).", show_default=False
    ),
]
TopOption = Annotated[
    int | None,
    typer.Option(
        "--top",
        metavar="N",
        min=1,
        help="Rows in the top tables (default: top_spenders_count).",
        show_default=False,
    ),
]


def analyze(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the JSON document (SPEC §7) and nothing else.")
    ] = False,
    month: MonthOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    top: TopOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Who spends, on which models, and is it growing: tables from the cache, no API call.

    Example: cursor-billing analyze --since 01-2026 --top 10
    """
    from cursor_billing import console
    from cursor_billing.analysis import analyze_cache

    settings = settings_for(ctx, config, data_dir, debug, top_spenders_count=top)
    report = analyze_cache(settings, month, since, until, warn=console.warn)
    if json_output:
        from cursor_billing.jsonout import dumps

        console.print_data(dumps(report.to_json(decimals=True)))
        return
    from cursor_billing.tables import analysis_tables

    tables = analysis_tables(report, settings.top_spenders_count, width=console.stdout.width)
    for index, table in enumerate(tables):
        if index:
            console.stdout.print()
        console.stdout.print(table)
