"""The `cursor-billing` Typer app: registers one module per command and is the one place
where errors become exit codes (SPEC §9)."""

import os
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from cursor_billing import __version__
from cursor_billing.commands import (
    analyze,
    cache,
    check,
    daily,
    demo,
    emulator,
    export,
    fetch,
    import_csv,
    reconcile,
    report,
    run,
)
from cursor_billing.commands.common import ConfigOption, DataDirOption
from cursor_billing.errors import (
    CursorBillingError,
    ExitCode,
    exit_code_for,
    exit_code_for_result,
)


class _ErrorHandlingGroup(TyperGroup):
    """Catches our errors once, at the top: one line on stderr and the right exit code."""

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            result = super().invoke(ctx)
        except CursorBillingError as failure:
            from cursor_billing import console

            console.error(failure.message, failure.hint)
            if debug_enabled(ctx):
                console.stderr.print_exception(show_locals=False)
            raise typer.Exit(exit_code_for(failure)) from None
        except KeyboardInterrupt:
            from cursor_billing import console

            console.error(
                "interrupted", "run the same command again: a fetch resumes where it stopped"
            )
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except BrokenPipeError:  # `… | head` closed stdout: what was wanted has been read
            _discard_stdout()
            raise typer.Exit(ExitCode.OK) from None
        except (typer.Exit, typer.Abort, typer.TyperException) as stop:  # Typer reports its own
            raise stop
        except Exception as failure:
            if debug_enabled(ctx):
                raise
            from cursor_billing import console

            console.error(
                f"unexpected {type(failure).__name__}: {failure}",
                "run again with --debug for the traceback",
            )
            raise typer.Exit(ExitCode.FAILED) from None
        code = exit_code_for_result(result)
        if code != ExitCode.OK:
            raise typer.Exit(code)
        return result


def _discard_stdout() -> None:
    """Point stdout at the null device, so that Python's flush at exit finds no closed pipe
    and prints no 'Exception ignored' complaint."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def debug_enabled(ctx: typer.Context) -> bool:
    root = ctx.find_root()
    return bool((root.obj or {}).get("debug")) or os.environ.get("CURSOR_BILLING_DEBUG") == "1"


app = typer.Typer(
    cls=_ErrorHandlingGroup,
    help="Who spends your Cursor on-demand money, on which models, and is it growing?",
    epilog="Start with `cursor-billing demo`: no API key needed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"cursor-billing {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (also CURSOR_BILLING_DEBUG=1).")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    # Given before the command (`cursor-billing --config x.yaml analyze`): the command's own win.
    ctx.obj = {"debug": debug, "config": config, "data_dir": data_dir}


app.command("fetch")(fetch.fetch)
app.command("analyze")(analyze.analyze)
app.command("daily")(daily.daily)
app.command("report")(report.report)
app.command("check")(check.check)
app.command("run")(run.run)
app.command("demo")(demo.demo)
app.command("emulator")(emulator.emulator)
app.command("import-csv")(import_csv.import_csv)
app.command("reconcile")(reconcile.reconcile)
app.command("export")(export.export)
app.add_typer(cache.app, name="cache")


def main() -> None:
    try:
        try:
            app(prog_name="cursor-billing")
        finally:
            sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
    except BrokenPipeError:
        _discard_stdout()
        sys.exit(ExitCode.OK)
