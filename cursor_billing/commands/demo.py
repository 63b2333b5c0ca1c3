"""`cursor-billing demo`: the whole job with no key and no network, against the bundled emulator."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from cursor_billing.commands.common import ConfigOption, DebugOption, root_option, settings_for
from cursor_billing.commands.fetch import MonthsBackOption

DEMO_EVENTS_PER_MONTH = 4000
DEMO_REQUEST_DELAY_SECONDS = 0.02  # the emulator is local: no need to wait 3 s between requests
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
    import secrets
    from datetime import datetime

    from cursor_billing import console
    from cursor_billing.commands.fetch import run_fetch
    from cursor_billing.commands.report import write_report
    from cursor_billing.emulator import Emulator, generate_events
    from cursor_billing.months import epoch_ms
    from cursor_billing.months import months_back as last_months

    output_dir = output_dir or root_option(ctx, "data_dir") or DEMO_DIR
    settings = settings_for(ctx, config, output_dir, debug, months_back=months_back)
    now = datetime.now(settings.zone)
    months = last_months(settings.months_back, now)
    start_ms, end_ms = months[0].start_ms(settings.zone), epoch_ms(now)
    count = DEMO_EVENTS_PER_MONTH * len(months)
    console.stderr.print(f"Generating {count:,} usage events for {len(months)} months...")
    events = generate_events(seed=2026, start_ms=start_ms, end_ms=end_ms, count=count, users=48)
    api_key = f"key_demo_{secrets.token_hex(8)}"
    with Emulator(events, api_key=api_key, rate_limit=None) as emulator:
        console.stderr.print(f"Emulated Cursor Admin API on {emulator.base_url}")
        demo_settings = replace(
            settings,
            api_key=api_key,
            base_url=emulator.base_url,
            request_delay_seconds=DEMO_REQUEST_DELAY_SECONDS,
            backoff_base_seconds=0.1,
        )
        run_fetch(demo_settings, None, None, refresh=False)
    path = write_report(demo_settings, [m.label for m in months], None, None, None)
    console.stderr.print(
        f"\n[bold green]Done.[/] Open the dashboard: [link=file://{path.resolve()}]{path}[/]\n"
        f"Explore further: cursor-billing analyze --data-dir {output_dir}"
    )
