"""The shape STYLE.md asks for: a core without Typer or rich, every command documented."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

import cursor_billing
from cursor_billing.cli import app

# The terminal side: everything else is the core, which a Python user can import alone.
UI_MODULES = ("cli", "commands", "console", "render.terminal", "render.progress")
PACKAGE = Path(cursor_billing.__file__).parent
CORE_MODULES = sorted(
    module.name
    for module in pkgutil.walk_packages(cursor_billing.__path__, "cursor_billing.")
    if not any(
        module.name == f"cursor_billing.{ui}" or module.name.startswith(f"cursor_billing.{ui}.")
        for ui in UI_MODULES
    )
    and not module.name.endswith("__main__")
)
README = (Path(__file__).parent.parent / "README.md").read_text()


def test_the_core_imports_neither_typer_nor_rich():
    assert {
        "cursor_billing.fetcher",
        "cursor_billing.ledger",
        "cursor_billing.views.report",
        "cursor_billing.jobs.analyze",
        "cursor_billing.render.html",
        "cursor_billing.render.json",
    } <= set(CORE_MODULES)
    code = (
        f"import sys; import {', '.join(CORE_MODULES)}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


def all_commands() -> list[tuple[str, object]]:
    root = get_command(app)
    found = []
    for name, command in root.commands.items():
        if hasattr(command, "commands"):
            found += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
        else:
            found.append((name, command))
    return found


@pytest.mark.parametrize(("name", "command"), all_commands())
def test_every_command_has_help_with_an_example_and_is_in_the_readme(name, command):
    assert command.help and "Example: cursor-billing " + name in command.help
    assert f"cursor-billing {name}" in README


def test_the_commands_are_the_ones_spec_lists():
    assert sorted(name for name, _ in all_commands()) == [
        "analyze",
        "cache ls",
        "cache purge",
        "check",
        "daily",
        "demo",
        "emulator",
        "export",
        "fetch",
        "import-csv",
        "reconcile",
        "report",
        "run",
    ]


def test_version_and_module_entry_point():
    from cursor_billing import __version__

    output = subprocess.run(
        [sys.executable, "-m", "cursor_billing", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == f"cursor-billing {__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


@pytest.mark.parametrize(("name", "command"), all_commands())
def test_every_command_takes_config_and_data_dir(name, command):
    options = {option for param in command.params for option in param.opts}
    assert {"--config", "--data-dir"} <= options


def test_no_command_imports_another_command():
    import ast

    for path in sorted((PACKAGE / "commands").glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        others = {
            name
            for name in imported
            if name.startswith("cursor_billing.commands.")
            and name
            not in ("cursor_billing.commands.common", f"cursor_billing.commands.{path.stem}")
        }
        assert not others, f"{path.name} imports {others}"


def test_a_piped_analyze_json_loads_only_what_it_uses(isolated):
    """A script's `analyze --json` (stdout and stderr piped) pays for no rich, no hashing and
    no .env reader: each costs start-up time on every run of a cron job."""
    from tests.helpers import usage_event, write_cache_file

    write_cache_file(isolated / "data", "01-2026", [usage_event(1767225600000)], complete=True)
    code = (
        "import sys; from cursor_billing.cli import main; "
        "sys.argv = ['cursor-billing', 'analyze', '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "sys.stderr.write(repr(sorted(loaded & {'rich', 'hashlib', 'secrets', 'dotenv'})))"
    )
    runs = [  # the first run writes the ledger file (a fresh name: `secrets`), the second reads it
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        for _ in range(2)
    ]
    assert all('"schema_version": 2' in run.stdout for run in runs)
    assert runs[0].stderr.endswith("['hashlib', 'secrets']"), runs[0].stderr
    assert runs[1].stderr.endswith("[]"), runs[1].stderr


def test_warnings_are_styled_on_a_terminal_and_plain_in_a_pipe(monkeypatch, capsys):
    from cursor_billing import console

    console.warn("[b]bold?[/b] \x1b[31mred")
    assert capsys.readouterr().err == "Warning: [b]bold?[/b] \\x1b[31mred\n"
    from rich.console import Console

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setattr(console, "stderr", Console(stderr=True), raising=False)  # sees it
    console.error("it failed", hint="try again")
    err = capsys.readouterr().err
    assert "\x1b[" in err and "Error:" in err and "it failed" in err and "try again" in err
