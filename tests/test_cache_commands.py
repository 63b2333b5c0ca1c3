"""`cursor-billing cache ls` and `cache purge` (SPEC §2, §6) on real files in a temporary folder."""

from __future__ import annotations

import json
import os
import stat
from decimal import Decimal

import msgspec

from cursor_billing.cache import CacheDir, MonthlyCache
from cursor_billing.months import Month
from tests.helpers import usage_event, write_cache_file


def test_ls_on_an_empty_folder(cli):
    result = cli("cache", "ls")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No cached months" in result.stderr
    assert json.loads(cli("cache", "ls", "--json").stdout) == []


def test_ls_lists_several_months_with_cost_and_state(cli, isolated):
    january = [
        usage_event(1767225600000, cents=100.5, fee=0.25),
        usage_event(1767225600001, cents=1, fee=None, kind="Included in Business"),
        usage_event(1767225600002, cents=7, fee=None, isTokenBasedCall=False),
    ]
    write_cache_file(isolated / "data", "01-2026", january)
    write_cache_file(
        isolated / "data", "02-2026", [usage_event(1769904000000, cents=0.1)], complete=False
    )
    legacy = {
        "month": "12-2025",
        "fetched_at": "2026-01-02T00:00:00Z",
        "total_events": 0,
        "events": [],
    }
    (isolated / "data" / "monthly_usage_data" / "12-2025-usage-based-data.json").write_text(
        json.dumps(legacy)
    )
    rows = json.loads(cli("cache", "ls", "--json").stdout)
    assert [r["month"] for r in rows] == ["12-2025", "01-2026", "02-2026"]
    assert [r["events"] for r in rows] == [0, 3, 1]
    assert [Decimal(str(r["cost_cents"])) for r in rows] == [0, Decimal("100.75"), Decimal("0.35")]
    assert [r["complete"] for r in rows] == [True, True, False]  # legacy files are complete
    assert [r["status"] for r in rows] == ["complete", "complete", "closing"]
    assert all(r["size_bytes"] > 0 for r in rows)
    table = cli("cache", "ls")
    assert table.exit_code == 0
    for text in ("01-2026", "$1.01", "closing", "complete", "2026-02-24T16:30:00Z"):
        assert text in table.stdout


def test_ls_names_a_corrupt_file_and_the_purge_command(cli, isolated):
    path = write_cache_file(isolated / "data", "01-2026", [usage_event(1767225600000)])
    write_cache_file(isolated / "data", "02-2026", [usage_event(1769904000000)])
    path.write_text(path.read_text()[:-20])
    result = cli("cache", "ls")
    assert result.exit_code == 1
    assert "unreadable" in result.stdout and "02-2026" in result.stdout  # the others still show
    rows = json.loads(cli("cache", "ls", "--json").stdout)
    assert "not valid JSON" in rows[0]["error"] and "error" not in rows[1]
    assert rows[0]["events"] is None and rows[0]["cost_cents"] is None
    assert "01-2026-usage-based-data.json is not valid JSON" in result.stderr
    assert "cursor-billing cache purge --month 01-2026" in result.stderr


def test_ls_rejects_a_file_whose_total_disagrees(cli, isolated):
    write_cache_file(isolated / "data", "01-2026", [usage_event(1767225600000)], total_events=5)
    result = cli("cache", "ls")
    assert result.exit_code == 1
    assert "total_events=5 but holds 1 events" in result.stderr


def test_purge_by_month_keeps_other_months_and_other_files(cli, isolated):
    for label in ("01-2026", "02-2026"):
        write_cache_file(isolated / "data", label, [])
    folder = isolated / "data" / "monthly_usage_data"
    (folder / "notes.txt").write_text("mine")
    (isolated / "data" / "billing_dashboard.html").write_text("<html>")
    result = cli("cache", "purge", "--month", "01-2026", "--yes")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir() if p.name != ".fetch.lock") == [
        "02-2026-usage-based-data.json",
        "notes.txt",
    ]
    assert (isolated / "data" / "billing_dashboard.html").exists()


def test_purge_all_deletes_every_month_and_journal_only(cli, isolated):
    for label in ("01-2026", "02-2026"):
        write_cache_file(isolated / "data", label, [])
    folder = isolated / "data" / "monthly_usage_data"
    (folder / ".03-2026-usage-based-data.json.journal").write_text("{}\n")
    (folder / "keep.json").write_text("{}")
    result = cli("cache", "purge", "--all", "--yes")
    assert result.exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == [".fetch.lock", "keep.json"]
    assert "03-2026" in result.stderr


def test_purge_refuses_without_yes_when_not_on_a_terminal(cli, isolated):
    path = write_cache_file(isolated / "data", "01-2026", [])
    result = cli("cache", "purge", "--all")
    assert result.exit_code == 2
    assert "add --yes" in result.stderr
    assert path.exists()


def test_purge_needs_months_or_all_and_valid_labels(cli):
    assert cli("cache", "purge", "--yes").exit_code == 2
    result = cli("cache", "purge", "--month", "13-2026", "--yes")
    assert result.exit_code == 2
    assert "'13-2026' is not a month" in result.stderr


def test_purge_of_a_month_not_cached_warns(cli):
    result = cli("cache", "purge", "--month", "01-2026", "--yes")
    assert result.exit_code == 0
    assert "01-2026 is not cached" in result.stderr


def test_written_cache_files_are_private_and_round_trip(isolated):
    from datetime import datetime, timezone

    cache_dir = CacheDir(isolated / "data" / "monthly_usage_data")
    events = [usage_event(1767225600000, cents=20.18232)]
    cache = MonthlyCache(
        Month(2026, 1),
        "UTC",
        datetime(2026, 2, 24, 16, 30, tzinfo=timezone.utc),
        True,
        1767225600000,
        1769903999999,
        events,
    )
    path = cache_dir.write(cache)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path.parent.parent).st_mode) == 0o700
    document = json.loads(path.read_text())
    assert document == {
        "schema_version": 1,
        "month": "01-2026",
        "timezone": "UTC",
        "fetched_at": "2026-02-24T16:30:00Z",
        "complete": True,
        "covered": {"start_ms": 1767225600000, "end_ms": 1769903999999},
        "source": "api",
        "warnings": [],
        "total_events": 1,
        "events": events,
    }
    # Read back for a refresh, numbers are exact decimals: no digit is lost when re-written.
    exact_events = json.loads(json.dumps(events), parse_float=Decimal)
    assert cache_dir.read(Month(2026, 1)) == msgspec.structs.replace(cache, events=exact_events)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_purge_with_both_month_and_all_says_so(cli):
    result = cli("cache", "purge", "--all", "--month", "01-2026", "--yes")
    assert result.exit_code == 2
    assert "either --month or --all, not both" in result.stderr


def test_stray_files_in_the_cache_folder_are_ignored(cli, isolated):
    write_cache_file(isolated / "data", "01-2026", [])
    folder = isolated / "data" / "monthly_usage_data"
    (folder / "13-2025-usage-based-data.json").write_text("{}")
    assert [r["month"] for r in json.loads(cli("cache", "ls", "--json").stdout)] == ["01-2026"]


def test_purge_also_removes_temporary_files_left_by_a_killed_write(cli, isolated):
    write_cache_file(isolated / "data", "01-2026", [])
    folder = isolated / "data" / "monthly_usage_data"
    leftover = folder / ".01-2026-usage-based-data.json.4242.tmp"
    leftover.write_text('{"events": [{"userEmail": "ada@example.com"')
    assert cli("cache", "purge", "--month", "01-2026", "--yes").exit_code == 0
    assert [p.name for p in folder.iterdir()] == [".fetch.lock"]


def test_purge_waits_for_no_fetch(cli, isolated):
    from cursor_billing.cache import CacheDir

    path = write_cache_file(isolated / "data", "01-2026", [])
    with CacheDir(path.parent).fetch_lock():
        result = cli("cache", "purge", "--all", "--yes")
    assert result.exit_code == 1 and "a fetch is updating" in result.stderr
    assert path.exists()
    lock = path.parent / ".fetch.lock"
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600


def test_ls_reads_the_same_clock_as_analyze(cli, isolated):
    write_cache_file(isolated / "data", "11-2026", [], complete=False)
    states = []
    for moment in ("2026-11-15T12:00:00Z", "2026-12-01T00:05:00Z"):
        listed = cli("cache", "ls", "--json", env={"CURSOR_BILLING_NOW": moment})
        analyzed = cli("analyze", "--json", env={"CURSOR_BILLING_NOW": moment})
        (row,) = json.loads(listed.stdout)
        (trend,) = json.loads(analyzed.stdout)["monthly_trend"]
        assert row["status"] == trend["status"]
        states.append(row["status"])
    assert states == ["in_progress", "closing"]
