"""`cursor-billing emulator`: the bundled Admin API emulator in the foreground, for trying the
tool (or a script) against realistic data without a key."""

from typing import Annotated

import typer

from cursor_billing.commands.common import ConfigOption, DataDirOption, DebugOption


def emulator(
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1; 0 picks a free one.")
    ] = 8787,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    months: Annotated[
        int, typer.Option("--months", min=1, max=120, help="Calendar months of data up to now.")
    ] = 3,
    events_per_month: Annotated[int, typer.Option("--events-per-month", min=0)] = 2000,
    users: Annotated[int, typer.Option("--users", min=1, help="Human users on the team.")] = 40,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same data.")] = 1,
    rate_limit: Annotated[
        int, typer.Option("--rate-limit", min=0, help="Usage requests per minute; 0 = no limit.")
    ] = 20,
    request_based: Annotated[
        bool, typer.Option("--request-based", help="A team billed per request, not per token.")
    ] = False,
    kind_label: Annotated[
        bool, typer.Option("--kind-label", help="Send `kindLabel` instead of `kind`.")
    ] = False,
    no_groups: Annotated[
        bool, typer.Option("--no-groups", help="Play a non-Enterprise team: /teams/groups is 403.")
    ] = False,
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="The key to accept (default: a random one).")
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Run the bundled emulator of Cursor's Admin API until Ctrl-C, printing the
    CURSOR_API_BASE_URL and CURSOR_API_KEY to use. --config and --data-dir are accepted like
    everywhere, but the emulator needs neither.

    Example: cursor-billing emulator --port 8787 --months 3 --request-based
    """
    import sys

    from cursor_billing.emulator.serve import ServeOptions, build, serve
    from cursor_billing.errors import CursorBillingError

    options = ServeOptions(
        host=host,
        port=port,
        seed=seed,
        months=months,
        events_per_month=events_per_month,
        users=users,
        rate_limit=rate_limit,
        request_based=1.0 if request_based else 0.0,
        kind_label=kind_label,
        enterprise=not no_groups,
        api_key=api_key,
    )
    try:
        emulator, description = build(options)
        serve(emulator, description, sys.stdout, info=sys.stderr)
    except KeyboardInterrupt:  # still generating: nothing to stop
        raise typer.Exit(130) from None
    except OSError as error:
        raise CursorBillingError(
            f"cannot listen on {host}:{port}: {error.strerror or error}",
            "choose another --port (0 picks a free one)",
        ) from None
