"""`cursor-billing reconcile`: the cache held against Cursor's per-member spend of the cycle."""

from typing import Annotated

import typer

from cursor_billing.commands.common import (
    ConfigOption,
    DataDirOption,
    DebugOption,
    fetch_progress,
    now,
    settings_for,
)


def reconcile(
    ctx: typer.Context,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print the JSON document (docs/json.md) and nothing else."),
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Compare the cache with Cursor's own per-member spend of the current billing cycle.

    Reads /teams/spend, brings the cache up to date for the cycle's months (as fetch does) and
    compares what Cursor charged each member since the cycle start. Needs CURSOR_API_KEY.
    Exits 4 when a member does not match.

    Example: cursor-billing reconcile --json
    """
    from cursor_billing import console
    from cursor_billing.errors import ExitCode
    from cursor_billing.jobs.reconcile import reconcile as run_reconcile

    settings = settings_for(ctx, config, data_dir, debug)
    with fetch_progress(settings) as (progress, results):
        result = run_reconcile(settings, now(), progress, results, warn=console.warn)
    reconciliation = result.reconciliation
    if json_output:
        from cursor_billing.render.json import dumps, reconcile_document

        console.print_data(dumps(reconcile_document(reconciliation, decimals=True)))
    else:
        from cursor_billing.render.terminal import reconcile_table

        console.print_table(reconcile_table(reconciliation))
    if not reconciliation.ok:
        raise typer.Exit(ExitCode.FINDING)
