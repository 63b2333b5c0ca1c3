"""Who pays (SPEC §7 sources, §11 teams, §14 --anonymize), end to end: the emulator over real
HTTP on loopback, `fetch`, then `analyze` and `report`. Every expected number is computed here
from the emulator's events and its `Team.group_of`, independently of the ledger."""

from __future__ import annotations

import calendar
import html
import json
import os
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from cursor_billing.emulator import Emulator, generate
from cursor_billing.errors import UsageError
from cursor_billing.ledger import fold_month
from cursor_billing.months import Month
from cursor_billing.teams import read_teams_csv, teams_from_file
from tests.helpers import UTC, usage_event

KEY = "key_teams_test"
AUG_1 = calendar.timegm((2026, 8, 1, 0, 0, 0)) * 1000
NOV_1 = calendar.timegm((2026, 11, 1, 0, 0, 0)) * 1000
MONTHS = ("08-2026", "09-2026", "10-2026")
ON_DEMAND = {"usage-based", "on-demand", "usage_event_kind_usage_based"}
CONFIG = """billing:
  request_delay_seconds: 0
  backoff_base_seconds: 0.001
  max_retries: 2
  timeout_seconds: 10
"""
CENT = Decimal("0.000001")


@pytest.fixture(scope="module")
def data():
    return generate(seed=11, start_ms=AUG_1, end_ms=NOV_1 - 1, count=2500, users=24)


@pytest.fixture
def served(data, isolated, monkeypatch):
    """An emulator serving `data`, the CLI pointed at it, and a function that writes the
    config with extra lines."""
    emulator = Emulator(
        data.events, api_key=KEY, rate_limit=None, admin_rate_limit=None, team=data.team
    )
    emulator.start()
    monkeypatch.setenv("CURSOR_API_KEY", KEY)
    monkeypatch.setenv("CURSOR_API_BASE_URL", emulator.base_url)
    (isolated / "config.yaml").write_text(CONFIG)
    yield emulator
    emulator.stop()


def configure(isolated: Path, extra: str) -> None:
    (isolated / "config.yaml").write_text(CONFIG + extra)


def fetch_all(cli) -> None:
    args = [arg for label in MONTHS for arg in ("--month", label)]
    result = cli("fetch", *args)
    assert result.exit_code == 0, result.stderr


def analysis(cli, *args: str) -> dict:
    result = cli("analyze", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout, parse_float=Decimal)


# -- the independent computation ---------------------------------------------------------------


def billable(events):
    """List basis: on-demand, chargeable, token-based."""
    for event in events:
        kind = str(event.get("kind") or event.get("kindLabel") or "").lower()
        if kind in ON_DEMAND and event["isChargeable"] is True and event["isTokenBasedCall"]:
            yield event


def list_cents(event) -> Decimal:
    usage = event.get("tokenUsage") or {}
    return Decimal(str(usage.get("totalCents", 0))) + Decimal(str(event.get("cursorTokenFee", 0)))


def month_label(ts_ms: int) -> str:
    moment = datetime.fromtimestamp(ts_ms / 1000, timezone.utc)
    return f"{moment.month:02d}-{moment.year}"


def month_of(event) -> str:
    return month_label(int(event["timestamp"]))


def source_of(event) -> str:
    if event.get("cloudAgentId"):
        return "cloud_agent"
    if event.get("automationId"):
        return "automation"
    if event.get("serviceAccountId") not in (None, "null"):
        return "service_account"
    return "headless" if event.get("isHeadless") else "human"


def expected_by(data, key) -> dict[str, dict[str, Decimal]]:
    """key(event) → month → list cost, plus "total"."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for event in billable(data.events):
        name, cents = key(event), list_cents(event)
        sums[name][month_of(event)] += cents
        sums[name]["total"] += cents
    return sums


def group_name(data):
    def key(event) -> str:
        group = data.team.group_of(event["userEmail"], int(event["timestamp"]))
        return group.name if group else "Unassigned"

    return key


def exact(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def assert_team_totals(document: dict, expected: dict[str, dict[str, Decimal]]) -> None:
    teams = {row["team"]: row for row in document["teams"]}
    assert set(teams) == set(expected)
    for name, sums in expected.items():
        assert exact(teams[name]["cost_cents"]) == exact(sums["total"]), name
        for label in MONTHS:
            assert exact(teams[name]["by_month"][label]) == exact(sums.get(label, 0)), (name, label)
    month_teams = {(row["month"], row["team"]): row for row in document["month_teams"]}
    for (label, name), row in month_teams.items():
        assert exact(row["cost_cents"]) == exact(expected[name][label])
    total = document["summary"]["total_cost_cents"]
    assert exact(sum(Decimal(row["cost_cents"]) for row in document["teams"])) == exact(total)
    for label, trend in zip(MONTHS, document["monthly_trend"], strict=True):
        in_month = [row for row in document["month_teams"] if row["month"] == label]
        assert exact(sum(Decimal(row["cost_cents"]) for row in in_month)) == exact(
            trend["cost_cents"]
        )


# -- teams from Cursor's billing groups --------------------------------------------------------


def test_billing_groups_team_totals_follow_the_group_at_each_event(cli, served, data, isolated):
    configure(isolated, "  teams_source: billing_groups\n")
    fetch_all(cli)
    saved = isolated / "data" / "billing_groups.json"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert [r.path for r in served.requests].count("/teams/groups") == 1
    document = analysis(cli)
    expected = expected_by(data, group_name(data))
    assert "Unassigned" in expected and len(expected) >= 3
    assert_team_totals(document, expected)

    # The user who moved mid-month: that month's spend is split between both groups, each part
    # where it belongs (the test data must hold such a user for this test to mean anything).
    stints = data.team.memberships
    mover, successor = next(
        (m, n)
        for m in stints
        for n in stints
        if m.email == n.email and m.left_ms is not None and n.joined_ms == m.left_ms
    )
    groups = {g.id: g.name for g in data.team.groups}
    before, after = groups[mover.group_id], groups[successor.group_id]
    move_month = month_label(mover.left_ms)
    parts: dict[str, Decimal] = defaultdict(Decimal)
    for event in billable(data.events):
        if event["userEmail"] == mover.email and month_of(event) == move_month:
            parts["before" if int(event["timestamp"]) < mover.left_ms else "after"] += list_cents(
                event
            )
    assert parts["before"] > 0 and parts["after"] > 0
    assert before != after
    users = {row["email"]: row for row in document["users"]}
    assert users[mover.email]["team"] in (before, after)
    # users[].team: the team with most of the user's spend over the analyzed months.
    for email, row in users.items():
        per_team: dict[str, Decimal] = defaultdict(Decimal)
        for event in billable(data.events):
            if event["userEmail"] == email:
                per_team[group_name(data)(event)] += list_cents(event)
        assert row["team"] == min(per_team.items(), key=lambda i: (-i[1], i[0]))[0]

    tables = cli("analyze").stdout
    assert "teams by on-demand spend" in tables
    assert before in tables and after in tables


def test_billing_groups_refused_suggests_a_teams_file(cli, data, isolated, monkeypatch):
    emulator = Emulator(
        data.events,
        api_key=KEY,
        rate_limit=None,
        admin_rate_limit=None,
        team=data.team,
        enterprise=False,
    )
    with emulator:
        monkeypatch.setenv("CURSOR_API_KEY", KEY)
        monkeypatch.setenv("CURSOR_API_BASE_URL", emulator.base_url)
        configure(isolated, "  teams_source: billing_groups\n")
        result = cli("fetch", "--month", "08-2026")
        paths = [r.path for r in emulator.requests]
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: ") and "teams_file" in result.stderr
    assert "/teams/filtered-usage-events" not in paths  # it failed before paging
    assert not (isolated / "data" / "billing_groups.json").exists()


def test_analysis_without_saved_groups_says_to_fetch(cli, isolated, served):
    fetch_all(cli)
    configure(isolated, "  teams_source: billing_groups\n")
    result = cli("analyze")
    assert result.exit_code == 1
    assert "billing_groups.json" in result.stderr and "cursor-billing fetch" in result.stderr


# -- teams from a file -------------------------------------------------------------------------


def test_teams_file_totals_and_unassigned_add_up(cli, served, data, isolated):
    emails = sorted({e["userEmail"] for e in data.events})
    listed = emails[: len(emails) * 2 // 3]  # the rest are Unassigned
    names = ("Platform", "Mobile", "Data & ML")
    team_of = {email: names[i % 3] for i, email in enumerate(listed)}
    lines = ["TEAM,Notes,EMAIL"]
    lines += [f'{team_of[e]},"a, note",{e.upper() if i % 2 else e}' for i, e in enumerate(listed)]
    (isolated / "teams.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    configure(isolated, "  teams_file: teams.csv\n")
    fetch_all(cli)
    document = analysis(cli)
    expected = expected_by(data, lambda e: team_of.get(e["userEmail"], "Unassigned"))
    assert_team_totals(document, expected)
    assert {row["team"] for row in document["users"]} == set(expected)


def test_without_teams_the_json_says_null(cli, served, isolated):
    fetch_all(cli)
    document = analysis(cli)
    assert document["teams"] is None and document["month_teams"] is None
    assert {row["team"] for row in document["users"]} == {None}
    assert "teams by on-demand spend" not in cli("analyze").stdout


def test_teams_csv_rules(tmp_path):
    path = tmp_path / "teams.csv"
    content = "\ufeffName,Team,Email\nAda,Core,Ada@Example.com\nBo,Web,bo@example.com\n\n"
    assert read_teams_csv(content.encode(), path) == {
        "ada@example.com": "Core",
        "bo@example.com": "Web",
    }
    # The same e-mail twice with the same team is fine; with another team, both lines named.
    again = "email,team\nada@example.com,Core\nbo@example.com,Web\nADA@example.com,Core\n"
    assert read_teams_csv(again.encode(), path)["ada@example.com"] == "Core"
    clash = "email,team\nada@example.com,Core\nbo@example.com,Web\nADA@example.com,Web\n"
    with pytest.raises(UsageError) as raised:
        read_teams_csv(clash.encode(), path)
    assert "line 2" in raised.value.message and "line 4" in raised.value.message
    with pytest.raises(UsageError, match="missing: team"):
        read_teams_csv(b"email,group\na@example.com,x\n", path)
    with pytest.raises(UsageError, match="does not exist"):
        teams_from_file(tmp_path / "absent.csv")


def test_clashing_teams_file_is_a_usage_error_on_the_command_line(cli, isolated):
    (isolated / "teams.csv").write_text("email,team\na@example.com,X\nA@example.com,Y\n")
    configure(isolated, "  teams_file: teams.csv\n")
    from tests.helpers import write_cache_file

    write_cache_file(isolated / "data", "10-2026", [usage_event(NOV_1 - 5000, "a@example.com")])
    result = cli("analyze")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "line 2" in result.stderr
    (isolated / "teams.csv").unlink()
    result = cli("analyze")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_a_user_moving_mid_day_gets_one_row_per_team():
    noon = calendar.timegm((2026, 9, 15, 12, 0, 0)) * 1000
    events = [
        usage_event(noon - 3_600_000, cents=2),
        usage_event(noon + 3_600_000, cents=3),
        usage_event(noon + 7_200_000, cents=4),
    ]
    from cursor_billing.events import UsageEvent

    decoded = [UsageEvent.from_raw(e) for e in events]
    folded = fold_month(
        Month(2026, 9),
        decoded,
        UTC,
        team_of=lambda email, ts: "Before" if ts < noon else "After",
    )
    by_team = {row.team: row for row in folded.rows}
    assert by_team["Before"].requests == 1 and by_team["After"].requests == 2
    assert by_team["After"].list_cents == Decimal("7.5")  # 3 + 4 + two 0.25 fees


# -- sources -----------------------------------------------------------------------------------


def test_source_totals_equal_an_independent_computation(cli, served, data):
    fetch_all(cli)
    document = analysis(cli)
    expected = expected_by(data, source_of)
    users: dict[str, set[str]] = defaultdict(set)
    requests: dict[str, int] = defaultdict(int)
    for event in billable(data.events):
        users[source_of(event)].add(event["userEmail"])
        requests[source_of(event)] += 1
    sources = {row["source"]: row for row in document["sources"]}
    assert set(sources) == set(expected) and len(sources) == 5
    for name, row in sources.items():
        assert exact(row["cost_cents"]) == exact(expected[name]["total"])
        assert row["requests"] == requests[name] and row["users"] == len(users[name])
    total = document["summary"]["total_cost_cents"]
    assert exact(sum(Decimal(r["cost_cents"]) for r in document["sources"])) == exact(total)
    tables = cli("analyze").stdout
    assert "On-demand spend by source" in tables
    assert "Service accounts" in tables and "Cloud agents" in tables


# -- --anonymize -------------------------------------------------------------------------------


def leaked(text: str, emails: set[str]) -> list[str]:
    """Every e-mail, or local part of one, found in the text, as written or escaped."""
    found = []
    for email in emails:
        for needle in (email, email.partition("@")[0]):
            forms = {needle, html.escape(needle), html.escape(needle, quote=False)}
            forms |= {json.dumps(needle)[1:-1], json.dumps(needle, ensure_ascii=False)[1:-1]}
            if any(form.lower() in text.lower() for form in forms):
                found.append(needle)
    return found


def test_anonymize_hides_every_email_everywhere(cli, served, data, isolated):
    (isolated / "teams.csv").write_text(
        "email,team\n" + "".join(f"{m.email},Core\n" for m in data.team.members[:5])
    )
    configure(isolated, "  teams_file: teams.csv\n")
    fetch_all(cli)
    emails = {e["userEmail"] for e in data.events} | {m.email for m in data.team.members}
    plain = cli("analyze").stdout
    assert leaked(plain, emails)  # the search finds them when they are there

    document_text = cli("analyze", "--json", "--anonymize").stdout
    tables = cli("analyze", "--anonymize").stdout
    report = cli("report", "--anonymize", "--output", str(isolated / "out.html"))
    assert report.exit_code == 0, report.stderr
    page = (isolated / "out.html").read_text()
    for name, text in {
        "json": document_text,
        "tables": tables,
        "report": report.stdout + report.stderr,
        "html": page,
    }.items():
        assert leaked(text, emails) == [], name
    document = json.loads(document_text)
    assert document["anonymized"] is True
    assert all(row["email"].startswith("user-") for row in document["users"])
    assert len({row["email"] for row in document["users"]}) == len(document["users"])
    assert "Anonymized" in tables and "Anonymized" in report.stdout
    assert "nonymized" in page
    assert document["teams"] is not None and "Core" in {t["team"] for t in document["teams"]}

    key = isolated / "data" / ".anonymize-key"
    assert key.stat().st_mode & 0o777 == 0o600
    again = json.loads(cli("analyze", "--json", "--anonymize").stdout)
    assert [u["email"] for u in again["users"]] == [u["email"] for u in document["users"]]
    key.unlink()
    renamed = json.loads(cli("analyze", "--json", "--anonymize").stdout)
    assert len(renamed["users"]) == len(document["users"])
    assert not {u["email"] for u in renamed["users"]} & {u["email"] for u in document["users"]}
    # The costs do not change with the names.
    assert renamed["summary"]["total_cost_cents"] == document["summary"]["total_cost_cents"]


def test_an_unreadable_key_is_a_clear_error(cli, isolated):
    from tests.helpers import write_cache_file

    write_cache_file(isolated / "data", "10-2026", [usage_event(NOV_1 - 5000)])
    (isolated / "data" / ".anonymize-key").write_text("not a key")
    os.chmod(isolated / "data" / ".anonymize-key", 0o600)
    result = cli("analyze", "--anonymize")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "delete it" in result.stderr
