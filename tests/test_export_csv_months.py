"""Months imported from Cursor's CSV export beside months fetched from the API (issue 13 item 4):
`analyze` marks them, and `export` carries both."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from cursor_billing.months import Month
from tests.helpers import usage_event, write_cache_file

FIXTURE = Path(__file__).parent / "fixtures" / "csv" / "team-2026-09.csv"  # 08-2026 and 09-2026
OCT = Month(2026, 10)


def imported_and_fetched(cli, isolated) -> None:
    result = cli("import-csv", str(FIXTURE))
    assert result.exit_code == 0, result.stderr
    start = OCT.start_ms(ZoneInfo("UTC"))
    write_cache_file(
        isolated / "data", "10-2026", [usage_event(start + 1000), usage_event(start + 2000)]
    )


def test_analyze_json_says_where_each_month_came_from(cli, isolated):
    imported_and_fetched(cli, isolated)

    result = cli("analyze", "--json")

    assert result.exit_code == 0, result.stderr
    trend = json.loads(result.stdout)["monthly_trend"]
    assert [(row["month"], row["source"]) for row in trend] == [
        ("08-2026", "csv"),
        ("09-2026", "csv"),
        ("10-2026", "api"),
    ]
    assert all(row["status"] == "complete" for row in trend)


def test_the_trend_table_marks_imported_months(cli, isolated):
    imported_and_fetched(cli, isolated)

    result = cli("analyze")

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("08-2026 (csv)" in line for line in lines)
    assert any("09-2026 (csv)" in line for line in lines)
    assert not any("10-2026 (csv)" in line for line in lines)
    assert any("10-2026" in line for line in lines)
    assert "csv: imported from Cursor's dashboard usage export" in result.stdout


def test_export_holds_imported_and_fetched_months_side_by_side(cli, isolated):
    imported_and_fetched(cli, isolated)
    totals = json.loads(cli("analyze", "--json").stdout, parse_float=Decimal)["summary"]

    for export_format, cost in (("csv", "charged_cost_usd"), ("focus", "BilledCost")):
        result = cli("export", "--format", export_format)
        assert result.exit_code == 0, result.stderr
        rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
        months = {(r.get("period_start") or r["ChargePeriodStart"])[:7] for r in rows}
        assert months == {"2026-08", "2026-09", "2026-10"}
        charged = sum(Decimal(r[cost]) * 100 for r in rows)
        assert charged == totals["totals_by_basis"]["charged"]


def test_the_dashboard_marks_imported_months_beside_fetched_ones(cli, isolated):
    imported_and_fetched(cli, isolated)

    result = cli("report")

    assert result.exit_code == 0, result.stderr
    page = (isolated / "data" / "billing_dashboard.html").read_text()
    trend = page[page.index('class="trend-table"') :]
    trend = trend[: trend.index("</table>")]
    rows = trend.split("<tr")[2:]  # after the header row
    marked = ["CSV import" in row for row in rows]
    assert marked == [True, True, False]  # 08-2026 and 09-2026 imported, 10-2026 fetched
