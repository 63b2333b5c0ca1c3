"""`cursor-billing import-csv` (SPEC §12) on the sample exports in tests/fixtures/csv, each
checked against a plain reading of the same file with the csv module."""

from __future__ import annotations

import csv
import json
import re
import stat
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cursor_billing.cache import CacheDir
from cursor_billing.csv_import import SkipReason, import_exports
from cursor_billing.events import is_kept
from cursor_billing.months import Month
from tests.helpers import write_cache_file
from tests.test_fetch import UTC, endpoint_requests, month_events
from tests.test_fetch import emulator_env as emulator_env  # a fixture

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
TEAM_NEWEST = FIXTURES / "team-2026-09.csv"
ME = "me@example.com"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
GENERATIONS = [
    ("team-2026-09.csv", None),  # newest team export: Cloud Agent ID, Automation ID
    ("team-2026-03.csv", None),  # team export before those two columns
    ("personal-2026-10.csv", ME),  # newest personal export: no User
    ("personal-2025-06.csv", ME),  # personal export with Kind and Max Mode
    ("personal-2024-11.csv", ME),  # oldest: no Kind or Max Mode, Cost to you, bare dates
]


def plain_reading(path: Path, user: str | None, zone: ZoneInfo) -> dict[str, list[tuple]]:
    """What the export holds, read without the code under test: month → kept events."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    months: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        if "Kind" in row:
            cost = row["Cost"].replace("$", "")
            kept = row["Kind"] == "On-Demand" and re.fullmatch(r"\d+(\.\d+)?", cost)
        else:
            cost = row["Cost to you"].replace("$", "")
            kept = re.fullmatch(r"\d+(\.\d+)?", cost) and Decimal(cost) > 0
        if "T" in row["Date"]:
            moment = datetime.strptime(row["Date"], "%Y-%m-%dT%H:%M:%S.%f%z")
        else:
            moment = datetime.strptime(row["Date"] + " 12:00 +0000", "%Y-%m-%d %H:%M %z")
        month = moment.astimezone(zone).strftime("%m-%Y")
        months.setdefault(month, [])
        if kept:
            months[month].append(
                (
                    str((moment - EPOCH) // timedelta(milliseconds=1)),
                    row.get("User", user),
                    row["Model"],
                    int(row["Input (w/o Cache Write)"]),
                    int(row["Output Tokens"]),
                    int(row["Input (w/ Cache Write)"]),
                    int(row["Cache Read"]),
                    Decimal(cost) * 100,
                    {"Yes": True, "No": False}.get(row.get("Max Mode", "")),
                    row.get("Cloud Agent ID") or None,
                    row.get("Automation ID") or None,
                )
            )
    return {month: sorted(events) for month, events in months.items()}


def cache_document(data_dir: Path, label: str) -> dict:
    path = data_dir / "monthly_usage_data" / f"{label}-usage-based-data.json"
    return json.loads(path.read_text(), parse_float=Decimal)


def as_tuples(events: list[dict]) -> list[tuple]:
    found = []
    for event in events:
        usage = event["tokenUsage"]
        assert event["kind"] == "Usage-based" and event["isChargeable"] is True
        assert event["isTokenBasedCall"] is True and event["cursorTokenFee"] == 0
        assert event["chargedCents"] == usage["totalCents"]
        found.append(
            (
                event["timestamp"],
                event["userEmail"],
                event["model"],
                usage["inputTokens"],
                usage["outputTokens"],
                usage["cacheWriteTokens"],
                usage["cacheReadTokens"],
                Decimal(usage["totalCents"]),
                event.get("maxMode"),
                event.get("cloudAgentId"),
                event.get("automationId"),
            )
        )
    return sorted(found)


def cached_months(data_dir: Path) -> list[str]:
    folder = data_dir / "monthly_usage_data"
    if not folder.exists():
        return []
    return sorted(p.name[:7] for p in folder.iterdir() if p.name.endswith("-usage-based-data.json"))


def snapshot(data_dir: Path) -> dict[str, bytes]:
    folder = data_dir / "monthly_usage_data"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def user_args(user: str | None) -> list[str]:
    return ["--user", user] if user else []


@pytest.mark.parametrize(
    ("name", "user", "zone_name"),
    [(name, user, "UTC") for name, user in GENERATIONS]
    + [("team-2026-09.csv", None, "Europe/Paris"), ("personal-2026-10.csv", ME, "America/Denver")],
)
def test_each_header_generation_gives_what_a_plain_reading_gives(
    cli, isolated, name, user, zone_name
):
    zone = ZoneInfo(zone_name)
    (isolated / "config.yaml").write_text(f"billing:\n  timezone: {zone_name}\n")
    expected = plain_reading(FIXTURES / name, user, zone)
    result = cli("import-csv", str(FIXTURES / name), *user_args(user))
    assert result.exit_code == 0, result.stderr
    assert sorted(expected, key=Month.parse) == sorted(
        cached_months(isolated / "data"), key=Month.parse
    )
    for label, events in expected.items():
        document = cache_document(isolated / "data", label)
        assert as_tuples(document["events"]) == events
        month = Month.parse(label)
        assert document["source"] == "csv" and document["complete"] is True
        assert document["timezone"] == zone_name
        assert document["covered"] == {
            "start_ms": month.start_ms(zone),
            "end_ms": month.end_ms(zone),
        }
        assert document["total_events"] == len(events)
        path = isolated / "data" / "monthly_usage_data" / f"{label}-usage-based-data.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert label in result.stdout  # the summary table


def test_the_summary_counts_rows_kept_and_skipped_by_reason(cli, isolated):
    result = cli("import-csv", str(TEAM_NEWEST))
    assert result.exit_code == 0, result.stderr
    august, september = import_exports(
        [TEAM_NEWEST], CacheDir(isolated / "other"), "UTC", NOW
    ).months
    assert (august.rows_read, august.kept, dict(august.skipped)) == (
        6,
        3,
        {SkipReason.NOT_ON_DEMAND: 3},
    )
    assert august.cost_cents == Decimal("1267.45")
    assert (september.rows_read, september.kept, dict(september.skipped)) == (
        8,
        6,
        {SkipReason.NOT_ON_DEMAND: 2},
    )
    assert september.cost_cents == Decimal("190")
    for text in ("08-2026", "$12.67", "09-2026", "$1.90", "written"):
        assert text in result.stdout
    # dora's row says 3,900 tokens; its columns add up to 3,800
    assert "1 kept row(s) whose token columns do not add up to Total Tokens (line 8)" in (
        " ".join(result.stderr.split())
    )
    (february, march) = import_exports(
        [FIXTURES / "team-2026-03.csv"], CacheDir(isolated / "other"), "UTC", NOW
    ).months
    assert dict(february.skipped) == {SkipReason.NOT_ON_DEMAND: 1, SkipReason.NO_COST: 1}
    assert dict(march.skipped) == {SkipReason.NOT_ON_DEMAND: 2}


def test_importing_the_same_file_twice_changes_nothing(cli, isolated):
    assert cli("import-csv", str(TEAM_NEWEST)).exit_code == 0
    before = snapshot(isolated / "data")
    again = cli("import-csv", str(TEAM_NEWEST))
    assert again.exit_code == 0
    assert snapshot(isolated / "data") == before
    assert "left alone: 08-2026, 09-2026" in again.stderr and "--replace" in again.stderr
    assert "left alone" in again.stdout
    replaced = cli("import-csv", str(TEAM_NEWEST), "--replace")
    assert replaced.exit_code == 0 and "replaced" in replaced.stdout
    for label in ("08-2026", "09-2026"):
        old = json.loads(before[f"{label}-usage-based-data.json"], parse_float=Decimal)
        assert cache_document(isolated / "data", label)["events"] == old["events"]


def rows_of(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows([header, *rows])
    return path


def test_overlapping_files_count_shared_rows_once(cli, isolated, tmp_path):
    header, rows = rows_of(TEAM_NEWEST)
    assert rows[1] == rows[2]  # one row twice in the export: both count
    first = write_rows(tmp_path / "first.csv", header, rows[:8])
    second = write_rows(tmp_path / "second.csv", header, rows[2:])  # rows 2..7 in both
    result = cli("import-csv", str(first), str(second))
    assert result.exit_code == 0, result.stderr
    expected = plain_reading(TEAM_NEWEST, None, ZoneInfo("UTC"))
    for label, events in expected.items():
        assert as_tuples(cache_document(isolated / "data", label)["events"]) == events
    outcome = import_exports([first, second], CacheDir(tmp_path / "other"), "UTC", NOW)
    assert sum(m.skipped[SkipReason.DUPLICATE] for m in outcome.months) == 6
    assert sum(m.rows_read for m in outcome.months) == len(rows) + 6


def test_a_row_from_an_older_header_generation_matches_the_same_row_in_a_newer_one(tmp_path):
    newer_header, rows = rows_of(TEAM_NEWEST)
    older_header = [c for c in newer_header if c not in ("Cloud Agent ID", "Automation ID")]
    ana = rows[0]  # no cloud agent, no automation
    older = [ana[:2] + ana[4:]]
    files = [
        write_rows(tmp_path / "new.csv", newer_header, [ana]),
        write_rows(tmp_path / "old.csv", older_header, older),
    ]
    (september,) = import_exports(files, CacheDir(tmp_path / "cache"), "UTC", NOW).months
    assert (september.rows_read, september.kept) == (2, 1)


GOOD = (FIXTURES / "team-2026-03.csv").read_bytes()
HEADER = b'"Date","User","Kind","Model","Max Mode","Input (w/ Cache Write)",'
HEADER += b'"Input (w/o Cache Write)","Cache Read","Output Tokens","Total Tokens","Cost"\r\n'
ROW = '"{date}","ana@example.com","On-Demand","{model}","{max}","0","10","{read}","5",'
ROW += '"{total}","{cost}"\r\n'


def row(date="2026-03-01T10:00:00.000Z", model="o3", max="No", read="0", total="15", cost="$0.10"):
    return ROW.format(date=date, model=model, max=max, read=read, total=total, cost=cost).encode()


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (
            b'"Timestamp","User","Model","Cost"\r\n"2026-03-01","ana@example.com","o3","$1"\r\n',
            "line 1, column Date: missing",
        ),
        (
            HEADER + row() + row(model="café").replace("é".encode(), b"\xe9"),
            "line 3, column Model",
        ),
        (b"\xef\xbb\xbf" + HEADER.replace(b"Kind", b"K\xffnd") + row(), "line 1, column 3"),
        (HEADER + row(date="2026-13-01T10:00:00.000Z"), "line 2, column Date"),
        (HEADER + row() + row() + row(date="yesterday"), "line 4, column Date"),
        (HEADER + row(read="12k"), "line 2, column Cache Read"),
        (HEADER + row(cost="USD 0.10"), "line 2, column Cost"),
        (HEADER + row(max="Maybe"), "line 2, column Max Mode"),
    ],
    ids=[
        "no Date",
        "not UTF-8",
        "not UTF-8 in the header",
        "bad month",
        "not a date",
        "bad count",
        "bad cost",
        "bad yes/no",
    ],
)
def test_a_malformed_file_is_one_error_and_nothing_is_written(
    cli, isolated, tmp_path, content, where
):
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    for order in ([good, bad], [bad, good]):
        result = cli("import-csv", *map(str, order))
        assert result.exit_code == 2
        assert result.stdout == ""
        error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(error_lines) == 1, result.stderr
        assert f"{bad} {where}" in error_lines[0]
        assert "Traceback" not in result.stderr
        assert cached_months(isolated / "data") == []


def test_a_personal_export_needs_user(cli, isolated):
    result = cli(
        "import-csv", str(FIXTURES / "team-2026-03.csv"), str(FIXTURES / "personal-2025-06.csv")
    )
    assert result.exit_code == 2
    assert "personal-2025-06.csv has no User column" in result.stderr
    assert "--user EMAIL" in result.stderr
    assert cached_months(isolated / "data") == []
    assert cli("import-csv", "missing.csv").exit_code == 2
    assert cli("import-csv", str(TEAM_NEWEST), "--user", "not-an-email").exit_code == 2


def test_column_names_are_found_in_any_case(tmp_path):
    header, rows = rows_of(TEAM_NEWEST)
    shuffled = [h.upper() for h in header][::-1]
    path = write_rows(tmp_path / "upper.csv", shuffled, [r[::-1] for r in rows])
    outcome = import_exports([path], CacheDir(tmp_path / "cache"), "UTC", NOW)
    assert [m.kept for m in outcome.months] == [3, 6]


def test_fetch_leaves_an_imported_month_alone_unless_refresh(cli, emulator_env, isolated):
    september = Month(2026, 9)
    emulator = emulator_env(month_events(september, count=80))
    assert cli("import-csv", str(TEAM_NEWEST)).exit_code == 0
    imported = snapshot(isolated / "data")
    with (isolated / "config.yaml").open("a") as config:
        config.write("  timezone: Europe/Paris\n")  # a fetch would re-read a month of another zone
    result = cli("fetch", "--month", "09-2026")
    assert result.exit_code == 0, result.stderr
    assert endpoint_requests(emulator) == []
    assert snapshot(isolated / "data") == imported
    assert "imported from CSV in time zone UTC" in " ".join(result.stderr.split())
    refreshed = cli("fetch", "--month", "09-2026", "--refresh")
    assert refreshed.exit_code == 0, refreshed.stderr
    document = cache_document(isolated / "data", "09-2026")
    assert document["source"] == "api"
    zone = ZoneInfo("Europe/Paris")
    held = emulator.events_between(september.start_ms(zone), september.end_ms(zone))
    assert len(document["events"]) == len([e for e in held if is_kept(e)])


def test_cache_ls_shows_the_source(cli, isolated):
    write_cache_file(isolated / "data", "07-2026", [])
    legacy = {"month": "06-2026", "fetched_at": "", "total_events": 0, "events": []}
    (isolated / "data" / "monthly_usage_data" / "06-2026-usage-based-data.json").write_text(
        json.dumps(legacy)
    )
    assert cli("import-csv", str(TEAM_NEWEST)).exit_code == 0
    rows = json.loads(cli("cache", "ls", "--json").stdout)
    assert [(r["month"], r["source"]) for r in rows] == [
        ("06-2026", "api"),
        ("07-2026", "api"),
        ("08-2026", "csv"),
        ("09-2026", "csv"),
    ]
    table = cli("cache", "ls").stdout
    assert "Source" in table
    assert re.search(r"08-2026 .* csv ", table) and re.search(r"07-2026 .* api ", table)


def test_analyze_json_over_an_imported_and_a_fetched_month(cli, emulator_env, isolated):
    july = Month(2026, 7)
    emulator = emulator_env(month_events(july, count=120))
    assert cli("fetch", "--month", "07-2026").exit_code == 0
    assert cli("import-csv", str(TEAM_NEWEST)).exit_code == 0
    result = cli("analyze", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout, parse_float=Decimal)
    assert document["months"] == ["07-2026", "08-2026", "09-2026"]
    trend = {row["month"]: row for row in document["monthly_trend"]}
    fetched = [
        e
        for e in emulator.events_between(july.start_ms(UTC), july.end_ms(UTC))
        if is_kept(e) and e["isTokenBasedCall"]
    ]
    july_cents = sum(
        Decimal(repr(e.get("tokenUsage", {}).get("totalCents", 0)))
        + Decimal(repr(e.get("cursorTokenFee") or 0))
        for e in fetched
    )
    assert trend["07-2026"]["cost_cents"] == july_cents
    assert trend["07-2026"]["requests"] == len(fetched)
    expected = plain_reading(TEAM_NEWEST, None, ZoneInfo("UTC"))
    for label in ("08-2026", "09-2026"):
        assert trend[label]["cost_cents"] == sum(event[7] for event in expected[label])
        assert trend[label]["requests"] == len(expected[label])
        assert trend[label]["complete"] is True
    chen = next(u for u in document["users"] if u["email"] == "chen@example.com")
    assert chen["by_month"]["08-2026"] == Decimal("1240")
    assert document["summary"]["total_cost_cents"] == sum(r["cost_cents"] for r in trend.values())


def test_the_oldest_export_keeps_rows_whose_cost_to_you_is_above_zero(cli, isolated):
    oldest = FIXTURES / "personal-2024-11.csv"
    october, november = import_exports([oldest], CacheDir(isolated / "c"), "UTC", NOW, ME).months
    assert (october.rows_read, october.kept, dict(october.skipped)) == (
        2,
        1,
        {SkipReason.NO_COST: 1},
    )
    assert (november.rows_read, november.kept, dict(november.skipped)) == (
        4,
        2,
        {SkipReason.NO_COST: 2},
    )
    assert november.cost_cents == Decimal("117")  # Cost to you, not Cost
    result = cli("import-csv", str(oldest), "--user", ME)
    assert result.exit_code == 0
    assert re.search(r"11-2024 +4 +2 +0 +2 +0 +\$1\.17 +written", result.stdout)
    assert "11-2024" not in result.stderr  # the summary is data: stdout only


def test_an_unfinished_fetch_of_an_imported_month_cannot_write_over_it(cli, isolated):
    folder = isolated / "data" / "monthly_usage_data"
    folder.mkdir(parents=True)
    journal = folder / ".09-2026-usage-based-data.json.journal"
    journal.write_text("{}\n")  # what a killed fetch leaves: it would resume and replace the month
    assert cli("import-csv", str(TEAM_NEWEST)).exit_code == 0
    assert not journal.exists()
    assert cache_document(isolated / "data", "09-2026")["source"] == "csv"
