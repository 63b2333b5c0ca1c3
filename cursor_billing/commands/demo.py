"""`cursor-billing demo`: the whole job with no key and no network, against the bundled emulator."""

from pathlib import Path
from typing import Annotated

import typer

from cursor_billing.commands.common import (
    ConfigOption,
    DebugOption,
    MonthsBackOption,
    fetch_progress,
    now,
    print_report,
    root_option,
    settings_for,
)

DEMO_DIR = Path("cursor-billing-demo")


def demo(
    ctx: typer.Context,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "--data-dir",
            metavar="DIR",
            help="Where the demo's cache and dashboard go (default: ./cursor-billing-demo).",
            show_default=False,
        ),
    ] = None,
    months_back: MonthsBackOption = None,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Try the tool with no API key: a local emulator of the Admin API, then fetch and report.

    Example: cursor-billing demo --output-dir /tmp/cursor-demo
    """
    from cursor_billing import console
    from cursor_billing.jobs.demo import demo as run_demo

    output_dir = output_dir or root_option(ctx, "data_dir") or DEMO_DIR
    settings = settings_for(ctx, config, output_dir, debug, months_back=months_back)
    with fetch_progress(settings) as (progress, results):
        result = run_demo(settings, now(), progress, announce=console.stderr.print, results=results)
    print_report(result.written, settings.top_spenders_count)  # the path, on stdout
    reconciliation = result.reconciliation
    if reconciliation.ok:
        console.stderr.print(
            f"Reconciled: the cache matches Cursor's per-member spend "
            f"({len(reconciliation.members)} members since "
            f"{reconciliation.cycle_start:%Y-%m-%d %H:%M} UTC).",
            soft_wrap=True,
        )
    else:
        console.stderr.print(
            f"Reconciled: the cache does NOT match Cursor's per-member spend for "
            f"{len(reconciliation.findings)} member(s); `cursor-billing reconcile` shows them.",
            soft_wrap=True,
        )
    console.stderr.print(
        "\n[bold green]Done.[/] Open the dashboard above in a browser. Explore further: "
        f"cd {output_dir} && cursor-billing analyze",
        soft_wrap=True,
    )
