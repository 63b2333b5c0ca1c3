"""Options every command shares, and building the settings from them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # imported when a command runs: `--help` stays fast
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


def root_option(ctx: typer.Context, name: str) -> Any:
    """An option given before the command (`cursor-billing --data-dir x cache ls`), or None."""
    return (ctx.find_root().obj or {}).get(name)
