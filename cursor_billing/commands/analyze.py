"""`cursor-billing analyze`: the cost analytics of the cache, as terminal tables or JSON."""

from typing import Annotated

import typer

from cursor_billing.commands.common import (
    AnonymizeOption,
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    SinceOption,
    TopOption,
    UntilOption,
    now,
    selection,
    settings_for,
)


def analyze(
    ctx: typer.Context,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print the JSON document (docs/json.md) and nothing else."),
    ] = False,
    month: MonthOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    top: TopOption = None,
    anonymize: AnonymizeOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Who spends, on which models, and is it growing: tables from the cache, no API call.

    Example: cursor-billing analyze --since 01-2026 --top 10 --anonymize
    """
    from cursor_billing import console
    from cursor_billing.jobs.analyze import analyze as analyze_cache

    settings = settings_for(ctx, config, data_dir, debug, top_spenders_count=top)
    report = analyze_cache(
        settings, selection(month, since, until), now(), warn=console.warn, anonymize=anonymize
    )
    if json_output:
        from cursor_billing.render.json import analysis_chunks

        console.print_data(analysis_chunks(report))
        return
    from cursor_billing.render.terminal import analysis_tables

    tables = analysis_tables(report, settings.top_spenders_count, width=console.stdout.width)
    for index, table in enumerate(tables):
        if index:
            console.stdout.print()
        console.print_table(table)
