"""`cursor-billing check`: budgets and anomalies for cron, exit 4 on a finding, and `--notify`
to a webhook. No API call."""

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


def check(
    ctx: typer.Context,
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            metavar="MM-YYYY",
            help="The month to check (default: the month in progress).",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print the JSON document (docs/json.md) and nothing else."),
    ] = False,
    notify: Annotated[
        bool,
        typer.Option(
            "--notify", help="Post findings to CURSOR_BILLING_WEBHOOK_URL (only when there are)."
        ),
    ] = False,
    notify_always: Annotated[
        bool, typer.Option("--notify-always", help="Post the result even when all is well.")
    ] = False,
    anonymize: AnonymizeOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> object:  # the CheckResult: the top level reads `ok` for the exit code
    """Budgets and spending spikes of the month: exit 4 when something needs attention.

    Example: cursor-billing check --notify

    In cron: cursor-billing fetch && cursor-billing check --notify
    """
    from cursor_billing import console
    from cursor_billing.jobs.check import check as run_check
    from cursor_billing.months import Month

    settings = settings_for(ctx, config, data_dir, debug)
    if notify or notify_always:  # a missing or unsafe URL is refused before any work
        from cursor_billing.notify import check_webhook_url

        check_webhook_url(settings.webhook_url)
    chosen = Month.parse(month) if month else None
    result = run_check(settings, chosen, now(), warn=console.warn, anonymize=anonymize)
    if json_output:
        from cursor_billing.render.json import check_document, dumps

        console.print_data(dumps(check_document(result, decimals=True)))
    else:
        from cursor_billing.render.terminal import check_tables

        for index, table in enumerate(check_tables(result)):
            if index:
                console.stdout.print()
            console.print_table(table)
    if notify_always or (notify and not result.ok):
        from cursor_billing.notify import post_webhook
        from cursor_billing.render.json import webhook_body

        host = post_webhook(
            settings.webhook_url,
            webhook_body(result, settings.notify_format),
            timeout_seconds=settings.timeout_seconds,
            max_retries=settings.max_retries,
            backoff_base_seconds=settings.backoff_base_seconds,
        )
        console.stderr.print(f"Posted to the webhook at {host}.", soft_wrap=True, markup=False)
    return result
