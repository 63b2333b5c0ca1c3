"""SPEC §14: text from the cache (names, e-mails, models) never reaches a terminal raw: control
characters, bidirectional overrides and zero-width characters are shown escaped, in every command
that prints them."""

from __future__ import annotations

import pytest

from cursor_billing.months import Month
from tests.helpers import usage_event, write_cache_file

RAW = ("\x1b", "\x00", "\x07", "\u202e", "\u200b", "\x9b")
EMAIL = "eve\x1b[2J\x00\u202e@example.com"
MODEL = "gpt\x1b]8;;https://evil.example\x07-5\u200b"
NOW = "2026-01-20T12:00:00Z"


@pytest.fixture
def hostile_cache(isolated, monkeypatch):
    start = Month(2026, 1).start_ms(__import__("zoneinfo").ZoneInfo("UTC"))
    events = [
        usage_event(start + day * 86_400_000, email=EMAIL, model=MODEL, cents=900)
        for day in range(19)
    ] + [usage_event(start + 19 * 86_400_000, email=EMAIL, model=MODEL, cents=90_000)]
    write_cache_file(isolated / "data", "01-2026", events, complete=False)
    (isolated / "config.yaml").write_text(
        "billing:\n  budgets:\n    user_monthly_usd: 1\n  anomalies:\n    min_usd: 1\n"
    )
    monkeypatch.setenv("CURSOR_BILLING_NOW", NOW)


@pytest.mark.parametrize(
    "command",
    [("analyze",), ("daily", "--days", "5"), ("report",), ("check",), ("cache", "ls")],
)
def test_every_command_shows_hostile_names_escaped(cli, hostile_cache, command):
    result = cli(*command)
    assert result.exit_code in (0, 4), result.stderr
    for text in (result.stdout, result.stderr):
        assert not any(raw in text for raw in RAW), (command, text)
    if command[0] != "cache":
        assert "\\x1b" in result.stdout  # the name is there, escaped
