"""Every test runs in its own empty working folder, with no user config and no Cursor
variables from the developer's environment."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cursor_billing import console
from cursor_billing.cli import app

CURSOR_VARIABLES = (
    "CURSOR_API_KEY",
    "CURSOR_API_BASE_URL",
    "CURSOR_BILLING_CONFIG",
    "CURSOR_BILLING_DATA_DIR",
    "CURSOR_BILLING_DEBUG",
    "CURSOR_BILLING_NOW",
    "CURSOR_BILLING_WEBHOOK_URL",
    "NO_COLOR",
)


@pytest.fixture(autouse=True, scope="session")
def private_cache_folder(tmp_path_factory):
    """Compiled templates are kept in a folder of the test session, never in the user's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    for name in CURSOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("COLUMNS", "120")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
    # The consoles are made when first used and then read their width from the environment
    # of that moment: each test gets its own, as each run of the CLI does.
    for name in ("stdout", "stderr"):
        vars(console).pop(name, None)


@pytest.fixture
def cli():
    """Run the CLI in-process: `cli("cache", "ls")` → a result with exit_code, stdout, stderr."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    return invoke
