"""`cursor-billing daily` through the CLI with an injected clock: the last N days, the JSON
document (validated against docs/schemas/daily.schema.json) and the compact table."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import jsonschema

from cursor_billing.months import epoch_ms
from tests.helpers import usage_event, write_cache_file
from tests.time_aware import clock

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "docs" / "schemas" / "daily.schema.json").read_text()
)
NOW = datetime(2026, 3, 3, 9, tzinfo=timezone.utc)


def at(day: int, month: int = 3, hour: int = 8) -> int:
    return epoch_ms(datetime(2026, month, day, hour, tzinfo=timezone.utc))


def write_days(data: Path) -> None:
    write_cache_file(
        data,
        "02-2026",
        [
            usage_event(at(27, 2), "bob@example.com", "gpt-5", cents=300, fee=0),
            usage_event(at(28, 2), "ada@example.com", cents=100, fee=0),
            usage_event(at(28, 2), "bob@example.com", "gpt-5", cents=50, fee=0),
        ],
    )
    write_cache_file(
        data,
        "03-2026",
        [usage_event(at(2), "ada@example.com", cents=20, fee=0.5)],
        complete=False,
        covered={"start_ms": at(1, hour=0), "end_ms": epoch_ms(NOW) - 1},
    )


def test_daily_json_has_every_day_ending_today(cli, isolated):
    write_days(isolated / "data")
    result = cli("daily", "--days", "4", "--json", env=clock(NOW))
    assert result.exit_code == 0, result.stderr
    jsonschema.validate(json.loads(result.stdout), SCHEMA)
    doc = json.loads(result.stdout, parse_float=Decimal)
    assert (doc["schema_version"], doc["timezone"], doc["cost_basis"]) == (2, "UTC", "list")
    assert [row["date"] for row in doc["daily"]] == [
        "2026-02-28",
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
    ]
    feb28, mar1, mar2, _ = doc["daily"]
    assert feb28 == {
        "date": "2026-02-28",
        "cost_cents": 150,
        "requests": 2,
        "users": 2,
        "top_user": "ada@example.com",
        "top_model": "claude-4.5-sonnet",  # a tie on requests goes to the higher cost
    }
    assert mar1 == {
        "date": "2026-03-01",
        "cost_cents": 0,
        "requests": 0,
        "users": 0,
        "top_user": None,
        "top_model": None,
    }
    assert mar2["cost_cents"] == Decimal("20.5")


def test_daily_table_and_the_default_of_31_days(cli, isolated):
    write_days(isolated / "data")
    result = cli("daily", env={**clock(NOW), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    assert "2026-02-01" in result.stdout and "2026-01-31" not in result.stdout
    assert "2026-02-27 Fri" in result.stdout
    assert "$3.00" in result.stdout and "bob@example.com" in result.stdout
    assert "Total" in result.stdout and "$4.71" in result.stdout  # 470.5 cents
    assert "list price" in result.stdout
    assert "not cached: 01-2026" not in result.stderr  # 31 days back from 3 March: 1 Feb


def test_daily_without_a_cached_month_in_range(cli, isolated):
    write_days(isolated / "data")
    result = cli("daily", "--days", "2", env=clock(datetime(2026, 6, 1, tzinfo=timezone.utc)))
    assert result.exit_code == 1
    assert "no cached month covers 2026-05-31 to 2026-06-01" in result.stderr
    assert result.stdout == ""
