"""`cursor-billing cache ls` and `cache purge`: look at and clean the monthly cache."""

import sys
from typing import Annotated

import typer

from cursor_billing.commands.common import (
    ConfigOption,
    DataDirOption,
    DebugOption,
    MonthOption,
    now,
    settings_for,
)
from cursor_billing.errors import ExitCode, UsageError

app = typer.Typer(help="Look at and clean the local monthly cache.", no_args_is_help=True)


@app.command("ls")
def ls(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of a table.")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """List the cached months: events, on-demand cost, state, source, fetched at, size.

    Example: cursor-billing cache ls --json
    """
    from cursor_billing import console
    from cursor_billing.cache import CacheDir, list_entries
    from cursor_billing.render.json import dumps

    settings = settings_for(ctx, config, data_dir, debug)
    cache_dir = CacheDir(settings.cache_dir)
    entries = list_entries(cache_dir, settings.cost_basis, now())  # type: ignore[arg-type]
    strays = cache_dir.strays()
    if json_output:
        rows = [
            {
                "month": e.month.label,
                # An unreadable month says null, never a 0 that a script would add up.
                "events": None if e.error else e.events,
                "cost_cents": None if e.error else e.cost_cents,
                "complete": None if e.error else e.complete,
                "status": None if e.error else e.status,
                "fetched_at": None if e.error else e.fetched_at,
                "source": None if e.error else e.source,
                "size_bytes": e.size_bytes,
                "path": str(e.path),
                **({"error": e.error.message} if e.error else {}),
            }
            for e in entries
        ]
        console.print_data(dumps(rows))
        for stray in strays:  # stdout stays the months: the folder's other things go here
            console.warn(f"{stray.path}: {stray.kind}")
    elif entries or strays:
        from cursor_billing.render.terminal import cache_table

        console.print_table(cache_table(entries, strays))
    else:
        console.stderr.print(
            f"No cached months in {settings.cache_dir}. Run `cursor-billing fetch`."
        )
    for warning in (w for e in entries for w in e.warnings):
        console.warn(warning)
    errors = [e.error for e in entries if e.error]
    for error in errors:
        console.error(error.message, error.hint)
    if errors:
        raise typer.Exit(ExitCode.FAILED)


@app.command("purge")
def purge(
    ctx: typer.Context,
    month: MonthOption = None,
    all_months: Annotated[bool, typer.Option("--all", help="Delete every cached month.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    debug: DebugOption = False,
) -> None:
    """Delete cached months (and nothing else in the folder).

    Example: cursor-billing cache purge --month 01-2026 --yes
    """
    from cursor_billing import console
    from cursor_billing.cache import CacheDir
    from cursor_billing.months import Month

    settings = settings_for(ctx, config, data_dir, debug)
    if month and all_months:
        raise UsageError("give either --month or --all, not both")
    if not month and not all_months:
        raise UsageError("say which months to delete: --month MM-YYYY (repeatable) or --all")
    cache_dir = CacheDir(settings.cache_dir)
    cached = sorted(set(cache_dir.months()) | set(cache_dir.journal_months()))
    targets = cached if all_months else sorted({Month.parse(label) for label in month or []})
    for target in targets:
        if target not in cached:
            console.warn(f"{target.label} is not cached")
    targets = [t for t in targets if t in cached]
    if not targets:
        console.stderr.print("Nothing to delete.")
        return
    labels = ", ".join(t.label for t in targets)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("refusing to delete without confirmation: add --yes")
        if not typer.confirm(f"Delete the cache of {labels}?", err=True):
            console.stderr.print("Nothing deleted.")
            return
    with cache_dir.fetch_lock():  # never under a running fetch: it would write them back
        removed = [path for target in targets for path in cache_dir.remove(target)]
    console.stderr.print(f"Deleted {len(removed)} file(s): {labels}.")
