"""Options every command shares, and building the settings from them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cursor_billing.errors import UsageError

if TYPE_CHECKING:  # imported when a command runs: `--help` stays fast
    from cursor_billing.fetcher import MonthResult
    from cursor_billing.jobs.analyze import MonthSelection
    from cursor_billing.jobs.report import WrittenReport
    from cursor_billing.render.progress import FetchProgress
    from cursor_billing.settings import Settings


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="PATH",
        help="config.yaml to use (default: $CURSOR_BILLING_CONFIG, ./config.yaml, user config).",
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="PATH",
        help="Folder for the cache and the report (default: billing.data_dir, i.e. ./data).",
        show_default=False,
    ),
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show tracebacks (also CURSOR_BILLING_DEBUG=1).")
]
MonthOption = Annotated[
    list[str] | None,
    typer.Option(
        "--month",
        metavar="MM-YYYY",
        help="A month as MM-YYYY; repeat for several.",
        show_default=False,
    ),
]


def settings_for(
    ctx: typer.Context, config: Path | None, data_dir: Path | None, debug: bool, **flags: Any
) -> Settings:
    """Settings for this command, after the warnings of the config file went to stderr.
    `--config`/`--data-dir` given after the command win over the same given before it."""
    from cursor_billing.settings import load_settings

    if debug:
        ctx.find_root().ensure_object(dict)["debug"] = True
    config = config or root_option(ctx, "config")
    data_dir = data_dir or root_option(ctx, "data_dir")
    settings = load_settings(config=config, data_dir=data_dir).with_overrides(**flags)
    if settings.warnings:
        from cursor_billing import console

        for warning in settings.warnings:
            console.warn(warning)
    return settings


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
MonthsBackOption = Annotated[
    int | None,
    typer.Option(
        "--months-back",
        metavar="N",
        help="The current month and the N−1 before it.",
        show_default=False,
    ),
]
AnonymizeOption = Annotated[
    bool,
    typer.Option(
        "--anonymize",
        help="Replace every e-mail by a stable pseudonym (key in <data_dir>/.anonymize-key).",
    ),
]
RefreshOption = Annotated[bool, typer.Option("--refresh", help="Re-fetch even complete months.")]
PageSizeOption = Annotated[
    int | None,
    typer.Option(
        "--page-size", metavar="N", help="Events per API page (1–1000).", show_default=False
    ),
]
OutputOption = Annotated[
    str | None,  # a string: a trailing slash says "a folder", which Path would drop
    typer.Option(
        "--output",
        "-o",
        metavar="PATH",
        help="Where to write the dashboard (default: <data_dir>/<output_filename>).",
        show_default=False,
    ),
]


NOW_VARIABLE = "CURSOR_BILLING_NOW"


def now() -> datetime:
    """The one clock of the commands. `CURSOR_BILLING_NOW` (ISO-8601, e.g.
    `2026-12-01T08:00:00Z`) sets it: a testing aid for the date logic, documented as such."""
    fixed = os.environ.get(NOW_VARIABLE)
    if not fixed:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{NOW_VARIABLE} {fixed!r} is not an ISO-8601 moment such as 2026-12-01T08:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def selection(
    labels: list[str] | None, since: str | None = None, until: str | None = None
) -> MonthSelection:
    from cursor_billing.jobs.analyze import MonthSelection
    from cursor_billing.months import Month

    return MonthSelection(
        months=tuple(Month.parse(label) for label in labels or []),
        since=Month.parse(since) if since else None,
        until=Month.parse(until) if until else None,
    )


def fetch_months(
    settings: Settings, labels: list[str] | None, months_back: int | None, refresh: bool
) -> list[MonthResult]:
    """The fetch job with progress on stderr and, however it ends, the summary of what it saved."""
    from cursor_billing.fetcher import months_to_fetch
    from cursor_billing.jobs.fetch import fetch

    moment = now().astimezone(settings.zone)
    months = months_to_fetch(labels, months_back, settings.months_back, moment)
    with fetch_progress(settings) as (progress, results):
        fetch(settings, months, refresh, moment, progress, results)
    return results


@contextmanager
def fetch_progress(settings: Settings) -> Iterator[tuple[FetchProgress, list[MonthResult]]]:
    """Progress of a fetch on stderr, and at the end, also when it failed part-way, the summary
    of the months it saved (the job appends each finished month to the list)."""
    from cursor_billing import console
    from cursor_billing.months import Month
    from cursor_billing.render.progress import FetchProgress
    from cursor_billing.render.terminal import fetch_summary_table

    results: list[MonthResult] = []
    try:
        with FetchProgress(console.stderr) as progress:
            yield progress, results
    finally:
        if results:
            current = Month.containing(now().astimezone(settings.zone))
            console.print_table(fetch_summary_table(results, current), console.stderr)


def fail_if_unreliable(results: list[MonthResult]) -> None:
    """Exit 1 once the months are saved, when any of them is known to be wrong (SPEC §5)."""
    from cursor_billing.errors import ApiError

    unreliable = [r.month.label for r in results if r.unreliable]
    if unreliable:
        raise ApiError(
            f"the API's counts disagreed twice for {', '.join(unreliable)}: saved as unreliable",
            hint="run `cursor-billing fetch` again later: it reads those months whole",
        )


def report_path(settings: Settings, output: str | None) -> Path:
    """`--output` as a file, or as a folder when it is one or ends with a slash."""
    if output is None:
        return settings.report_path
    if not output.strip():
        raise UsageError("--output needs a file or folder name")
    path = Path(output).expanduser()
    if output.endswith(("/", os.sep)) or path.is_dir():
        return path / settings.output_filename
    if path.suffix.lower() not in (".html", ".htm"):
        from cursor_billing import console

        console.warn(f"{path} will hold HTML (the dashboard), whatever its name says")
    return path


def print_report(written: WrittenReport, top: int) -> None:
    """What `report`, `run` and `demo` print: the headline (SPEC §8), the top spenders on
    stdout, then the path."""
    from cursor_billing import console
    from cursor_billing.render.terminal import top_spenders_table
    from cursor_billing.render.text import headline
    from cursor_billing.text import printable

    sentence = printable(headline(written.report))
    if console.stdout.is_terminal:  # wrapped at words on a screen, one line in a pipe
        from rich.text import Text

        console.stdout.print(Text(sentence))
    else:
        console.print_data(sentence)
    console.stdout.print()
    console.print_table(top_spenders_table(written.report, top))
    console.stdout.print()
    console.print_data(str(written.path))


def root_option(ctx: typer.Context, name: str) -> Any:
    """An option given before the command (`cursor-billing --data-dir x cache ls`), or None."""
    return (ctx.find_root().obj or {}).get(name)
