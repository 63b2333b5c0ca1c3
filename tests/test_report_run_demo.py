"""`report`, `run` and `demo` through the CLI, on real files and the bundled emulator."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from decimal import Decimal

from cursor_billing.emulator import Emulator
from cursor_billing.events import is_kept
from cursor_billing.render.text import money
from tests.helpers import usage_event, write_cache_file
from tests.test_fetch import FAST_CONFIG, JAN, KEY, month_events


def test_report_without_cache_exits_1_with_the_fetch_hint(cli, isolated):
    result = cli("report")
    assert result.exit_code == 1
    assert "cursor-billing fetch" in result.stderr
    assert not (isolated / "data" / "billing_dashboard.html").exists()


def test_report_prints_top_spenders_and_writes_a_private_dashboard(cli, isolated):
    write_cache_file(
        isolated / "data",
        "01-2026",
        [
            usage_event(1767225600000, "ada@example.com", cents=1234.5, fee=0.06),
            usage_event(1767225600001, "bob@example.com", model="<b>x</b>", cents=10),
        ],
    )
    result = cli("report")
    assert result.exit_code == 0, result.stderr
    path = isolated / "data" / "billing_dashboard.html"
    assert result.stdout.strip().endswith(str(path.relative_to(isolated)))
    assert "ada@example.com" in result.stdout and "$12.35" in result.stdout
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    html = path.read_text()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    other = isolated / "out" / "spend.html"
    assert cli("report", "--output", str(other), "--month", "01-2026").exit_code == 0
    assert other.exists()


def test_dashboard_totals_match_analyze_json(cli, isolated):
    events = month_events(JAN, 800, seed=5)
    write_cache_file(isolated / "data", "01-2026", [e for e in events if is_kept(e)])
    document = json.loads(cli("analyze", "--json").stdout, parse_float=Decimal)
    assert cli("report").exit_code == 0
    html = (isolated / "data" / "billing_dashboard.html").read_text()
    assert money(document["summary"]["total_cost_cents"]) in html
    assert money(document["users"][0]["cost_cents"]) in html


def test_run_fetches_then_reports(cli, isolated, monkeypatch):
    with Emulator(month_events(JAN, 300), api_key=KEY, rate_limit=None) as emulator:
        monkeypatch.setenv("CURSOR_API_KEY", KEY)
        monkeypatch.setenv("CURSOR_API_BASE_URL", emulator.base_url)
        (isolated / "config.yaml").write_text(FAST_CONFIG)
        result = cli("run", "--month", "01-2026")
    assert result.exit_code == 0, result.stderr
    assert "Fetch summary" in result.stderr
    assert (isolated / "data" / "monthly_usage_data" / "01-2026-usage-based-data.json").exists()
    assert (isolated / "data" / "billing_dashboard.html").exists()
    assert result.stdout.strip().endswith("billing_dashboard.html")


def test_demo_in_an_empty_folder_needs_no_key(isolated):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CURSOR_")}
    env["COLUMNS"] = "100"
    result = subprocess.run(
        [sys.executable, "-m", "cursor_billing", "demo"],
        cwd=isolated,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    dashboard = isolated / "cursor-billing-demo" / "billing_dashboard.html"
    assert dashboard.exists()
    assert "cursor-billing-demo/billing_dashboard.html" in result.stdout
    assert "Open the dashboard" in result.stderr
    assert "Reconciled: the cache matches Cursor's per-member spend" in result.stderr
    months = list((isolated / "cursor-billing-demo" / "monthly_usage_data").glob("*-data.json"))
    assert len(months) == 2
    # The demo shows teams (the emulator's billing groups), and the folder it leaves explores
    # the same way: `cd cursor-billing-demo && cursor-billing analyze`.
    assert 'id="teams"' in dashboard.read_text()
    assert 'id="card-budgets"' in dashboard.read_text()  # the demo's monthly budget
    assert "cd cursor-billing-demo && cursor-billing analyze" in result.stderr
    analysis = subprocess.run(
        [sys.executable, "-m", "cursor_billing", "analyze", "--json"],
        cwd=isolated / "cursor-billing-demo",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert analysis.returncode == 0, analysis.stderr
    teams = {team["team"] for team in json.loads(analysis.stdout)["teams"]}
    assert len(teams - {"Unassigned"}) >= 3


def test_report_output_to_a_folder_or_an_unwritable_place(cli, isolated):
    write_cache_file(isolated / "data", "01-2026", [usage_event(1767225600000)])
    (isolated / "reports").mkdir()
    result = cli("report", "--output", "reports")
    assert result.exit_code == 0, result.stderr
    assert (isolated / "reports" / "billing_dashboard.html").exists()
    (isolated / "blocker").write_text("a file, not a folder")
    result = cli("report", "--output", "blocker/spend.html")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write blocker/spend.html")
    assert "Traceback" not in result.stderr


def test_report_output_with_a_trailing_slash_is_a_folder(cli, isolated):
    write_cache_file(isolated / "data", "01-2026", [usage_event(1767225600000)])
    result = cli("report", "--output", "new-folder/")
    assert result.exit_code == 0, result.stderr
    assert (isolated / "new-folder" / "billing_dashboard.html").is_file()
    assert cli("report", "--output", " ").exit_code == 2


def test_a_report_that_cannot_be_written_prints_nothing_on_stdout(cli, isolated):
    write_cache_file(isolated / "data", "01-2026", [usage_event(1767225600000)])
    (isolated / "blocker").write_text("a file")
    result = cli("report", "--output", "blocker/x.html")
    assert result.exit_code == 1
    assert result.stdout == ""
