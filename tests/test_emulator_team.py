"""The emulator's team side over real HTTP on loopback: request-based billing, sources, `kindLabel`,
`/teams/spend`, `/teams/members`, `/teams/groups`, and `cursor-billing emulator`. Every expected
number is computed here from the served events, independently of the emulator's own sums."""

from __future__ import annotations

import calendar
import collections
import json
import os
import signal
import socket
import subprocess
import sys
from decimal import Decimal

import httpx
import pytest

from cursor_billing.emulator import (
    ENDPOINT,
    ENTERPRISE_REQUIRED_BODY,
    GROUPS_ENDPOINT,
    HOSTILE_MODEL,
    HOSTILE_NAME,
    MEMBERS_ENDPOINT,
    SERVICE_ACCOUNTS,
    SPEND_ENDPOINT,
    Emulator,
    Fault,
    generate,
)

KEY = "key_test"
DAY_MS = 86_400_000
OCT_1 = calendar.timegm((2025, 10, 1, 0, 0, 0)) * 1000
DEC_1 = calendar.timegm((2025, 12, 1, 0, 0, 0)) * 1000
CYCLE_START = calendar.timegm((2025, 10, 17, 9, 41, 27)) * 1000 + 318
CYCLE_END = calendar.timegm((2025, 11, 17, 9, 41, 27)) * 1000 + 318
ON_DEMAND = {"usage-based", "on-demand", "usage_event_kind_usage_based"}


@pytest.fixture(scope="module")
def data():
    return generate(seed=7, start_ms=OCT_1, end_ms=DEC_1 - 1, count=3000, users=40)


@pytest.fixture(scope="module")
def request_based():
    return generate(7, OCT_1, DEC_1 - 1, 3000, users=20, request_based=1.0)


def serve(data, **options) -> Emulator:
    options.setdefault("rate_limit", None)
    options.setdefault("admin_rate_limit", None)
    return Emulator(data.events, api_key=KEY, team=data.team, cycle_start_ms=CYCLE_START, **options)


def client_for(emulator: Emulator) -> httpx.Client:
    return httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=5, verify=False)


def decimal_json(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def source(event: dict) -> str:
    """SPEC §7's precedence."""
    if event.get("cloudAgentId"):
        return "cloud_agent"
    if event.get("automationId"):
        return "automation"
    if event.get("serviceAccountId") not in (None, "null"):
        return "service_account"
    return "headless" if event.get("isHeadless") else "human"


def charged(event: dict) -> Decimal:
    if "chargedCents" in event:
        return Decimal(str(event["chargedCents"]))
    usage = event.get("tokenUsage") or {}
    return Decimal(str(usage.get("totalCents", 0))) + Decimal(str(event.get("cursorTokenFee", 0)))


def on_demand(event: dict) -> bool:
    return event["kind"].lower() in ON_DEMAND and event["isChargeable"] is True


def all_spend_pages(client: httpx.Client, page_size: int) -> tuple[list[dict], dict]:
    rows, page = [], 1
    while True:
        data = decimal_json(client.post(SPEND_ENDPOINT, json={"page": page, "pageSize": page_size}))
        assert len(data["teamMemberSpend"]) <= page_size
        rows += data["teamMemberSpend"]
        if page >= data["totalPages"]:
            return rows, data
        page += 1


# -- the generator -----------------------------------------------------------------------------


def test_default_data_has_no_hostile_names_the_option_does(data):
    assert HOSTILE_MODEL not in {event["model"] for event in data.events}
    assert not any("<" in member.name or "\x1b" in member.name for member in data.team.members)
    hostile = generate(7, OCT_1, DEC_1 - 1, 3000, users=40, hostile=True)
    assert HOSTILE_MODEL in {event["model"] for event in hostile.events}
    assert HOSTILE_NAME in {member.name for member in hostile.team.members}


def test_request_based_team(request_based):
    on_demand_events = [e for e in request_based.events if e["kind"] == "Usage-based"]
    assert len(on_demand_events) > 1000
    for event in request_based.events:
        assert event["isTokenBasedCall"] is False
        assert event["requestsCosts"] > 0
        if "tokenUsage" in event or event["kind"] != "Usage-based":  # one fixture has neither
            assert event["chargedCents"] == event["requestsCosts"] * 4 > 0
    with_tokens = [e for e in on_demand_events if "tokenUsage" in e]
    listed = sum(Decimal(str(e["tokenUsage"]["totalCents"])) for e in with_tokens)
    paid = sum(charged(e) for e in with_tokens)
    assert 3 < listed / paid < 5  # the misleading totalCents, about 4x what was charged


def test_mixed_billing_and_determinism():
    mixed = generate(3, OCT_1, DEC_1 - 1, 4000, users=20, request_based=0.3)
    assert mixed.events == generate(3, OCT_1, DEC_1 - 1, 4000, users=20, request_based=0.3).events
    share = sum(not e["isTokenBasedCall"] for e in mixed.events) / len(mixed.events)
    assert 0.25 < share < 0.35
    assert mixed.events != generate(3, OCT_1, DEC_1 - 1, 4000, users=20).events


def test_charged_cents_on_included_and_errored_events_too(data):
    missing = [e for e in data.events if "chargedCents" not in e]
    assert len(missing) == 1 and "tokenUsage" not in missing[0]  # the one fixture for fallback
    for kind in ("Included in Business", "Errored, Not Charged"):
        priced = [e for e in data.events if e["kind"] == kind and "tokenUsage" in e]
        assert priced and all(e["chargedCents"] > 0 for e in priced), kind


def test_sources_in_realistic_shares(data):
    shares = collections.Counter(map(source, data.events))
    total = len(data.events)
    assert 0.6 < shares["human"] / total < 0.85
    for name in ("cloud_agent", "automation", "service_account", "headless"):
        assert 0.02 < shares[name] / total < 0.15, name
    accounts = {email: (sid, name) for email, sid, name in SERVICE_ACCOUNTS}
    for event in data.events:
        if event["serviceAccountId"] == "null":
            assert "serviceAccountName" not in event and event["userEmail"] not in accounts
        else:
            assert accounts[event["userEmail"]] == (
                event["serviceAccountId"],
                event["serviceAccountName"],
            )
            assert event["isHeadless"] is True
    assert {e["userEmail"] for e in data.events} >= set(accounts)


def test_one_user_moves_groups_mid_month_one_leaves(data):
    team = data.team
    moved = [
        m
        for m in team.memberships
        if m.left_ms is not None
        and m.email in {n.email for n in team.memberships if n.left_ms is None}
    ]
    assert len(moved) == 1
    when = moved[0].left_ms
    assert calendar.timegm((2025, 11, 15, 12, 0, 0)) * 1000 == when
    email = moved[0].email
    groups = {
        team.group_of(email, int(e["timestamp"]))
        for e in data.events
        if e["userEmail"] == email and OCT_1 + 31 * DAY_MS <= int(e["timestamp"])
    }
    assert len(groups) == 2  # their November is split between two groups
    assert team.group_of(email, when - 1) != team.group_of(email, when)
    removed = [m for m in team.members if m.is_removed]
    assert len(removed) == 1
    (stint,) = [m for m in team.memberships if m.email == removed[0].email]
    assert stint.left_ms is not None
    last = max(int(e["timestamp"]) for e in data.events if e["userEmail"] == removed[0].email)
    assert last < stint.left_ms
    assert team.group_of(removed[0].email, stint.left_ms) is None


# -- kindLabel ---------------------------------------------------------------------------------


def test_kind_label_mode_sends_the_same_events_under_another_key(data):
    body = {"startDate": OCT_1, "endDate": OCT_1 + 20 * DAY_MS, "pageSize": 1000}
    with serve(data) as plain, serve(data, kind_label=True) as labelled:
        with client_for(plain) as a, client_for(labelled) as b:
            usual = a.post(ENDPOINT, json=body).json()["usageEvents"]
            relabelled = b.post(ENDPOINT, json=body).json()["usageEvents"]
    assert len(usual) == len(relabelled) > 500
    for event, other in zip(usual, relabelled, strict=True):
        assert "kind" not in other
        assert list(other) == [("kindLabel" if k == "kind" else k) for k in event]
        assert other["kindLabel"] == event["kind"]


# -- /teams/spend ------------------------------------------------------------------------------


def expected_spend(events: list[dict]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    spend: dict[str, Decimal] = collections.defaultdict(Decimal)
    included: dict[str, Decimal] = collections.defaultdict(Decimal)
    for event in events:
        if not CYCLE_START <= int(event["timestamp"]) < CYCLE_END or not event["isChargeable"]:
            continue
        if event["kind"].lower() in ON_DEMAND:
            spend[event["userEmail"]] += charged(event)
        elif event["kind"].startswith("Included"):
            included[event["userEmail"]] += charged(event)
    return spend, included


@pytest.mark.parametrize("team", ["token", "request"])
def test_spend_per_member_is_the_sum_of_charged_cents_since_the_cycle_start(
    team, data, request_based
):
    chosen = data if team == "token" else request_based
    with serve(chosen) as emulator, client_for(emulator) as client:
        rows, last = all_spend_pages(client, page_size=7)
    assert last["subscriptionCycleStart"] == CYCLE_START
    assert last["totalMembers"] == len(rows) == len({row["email"] for row in rows})
    assert last["totalPages"] == -(-len(rows) // 7)
    spend, included = expected_spend(chosen.events)
    assert {row["email"] for row in rows} >= set(spend)
    for row in rows:
        assert row["spendCents"] == spend.get(row["email"], 0), row["email"]
        assert row["includedSpendCents"] == included.get(row["email"], 0)
        assert row["userId"].startswith("user_") and row["name"] and row["role"]
        for field in ("fastPremiumRequests", "hardLimitOverrideDollars", "monthlyLimitDollars"):
            assert field in row
        assert "effectivePerUserLimitDollars" in row
    assert [row["spendCents"] for row in rows] == sorted(
        (row["spendCents"] for row in rows), reverse=True
    )
    assert sum(spend.values()) > 1000


def test_spend_fault_injection(data):
    with serve(data) as emulator, client_for(emulator) as client:
        before = {row["email"]: row["spendCents"] for row in all_spend_pages(client, 100)[0]}
        victim = sorted(before)[3]
        emulator.skew_spend(victim, 500)
        emulator.skew_spend("ghost@example.com", "123.45")
        after = {row["email"]: row["spendCents"] for row in all_spend_pages(client, 100)[0]}
        members = client.get(MEMBERS_ENDPOINT).json()["teamMembers"]
    assert after[victim] - before[victim] == 500
    assert after["ghost@example.com"] == Decimal("123.45")
    assert {e: v for e, v in after.items() if e not in (victim, "ghost@example.com")} == {
        e: v for e, v in before.items() if e != victim
    }
    assert "ghost@example.com" in {m["email"] for m in members}
    assert not any(e["userEmail"] == "ghost@example.com" for e in data.events)


def test_spend_has_its_own_rate_limit_and_faults(data):
    now = [600.0]
    with (
        serve(data, rate_limit=2, admin_rate_limit=2, clock=lambda: now[0]) as emulator,
        client_for(emulator) as client,
    ):
        emulator.inject(Fault.server_error(503), path=SPEND_ENDPOINT)
        statuses = [client.post(SPEND_ENDPOINT, json={}).status_code for _ in range(3)]
        usage = [client.post(ENDPOINT, json={}).status_code for _ in range(3)]
        now[0] = 660.0
        again = client.post(SPEND_ENDPOINT, json={}).status_code
    assert statuses == [503, 200, 429]  # the fault counts against the limit too
    assert usage == [200, 200, 429]
    assert again == 200


@pytest.mark.parametrize(
    "body", [{"page": 0}, {"pageSize": 0}, {"pageSize": "10"}, {"sortBy": "mood"}]
)
def test_bad_spend_bodies_are_400(data, body):
    with serve(data) as emulator, client_for(emulator) as client:
        assert client.post(SPEND_ENDPOINT, json=body).status_code == 400


# -- /teams/members and /teams/groups ----------------------------------------------------------


def test_members(data):
    with serve(data) as emulator, client_for(emulator) as client:
        members = client.get(MEMBERS_ENDPOINT).json()["teamMembers"]
        assert client.post(MEMBERS_ENDPOINT).status_code == 405
    assert all(list(m) == ["id", "name", "email", "role", "isRemoved"] for m in members)
    assert {m["email"] for m in members} == {e["userEmail"] for e in data.events} | {
        m.email for m in data.team.members
    }
    assert [m["email"] for m in members if m["isRemoved"]] == [
        m.email for m in data.team.members if m.is_removed
    ]


def test_groups_are_consistent_with_the_events(data):
    with serve(data) as emulator, client_for(emulator) as client:
        body = decimal_json(client.get(GROUPS_ENDPOINT))
    team = data.team
    assert body["billingCycle"] == {
        "cycleStart": "2025-10-17T09:41:27.318Z",
        "cycleEnd": "2025-11-17T09:41:27.318Z",
    }
    # Independently: each on-demand event in the cycle to the group its user was in then.
    expected: dict[str, Decimal] = collections.defaultdict(Decimal)
    for event in data.events:
        if on_demand(event) and CYCLE_START <= int(event["timestamp"]) < CYCLE_END:
            group = team.group_of(event["userEmail"], int(event["timestamp"]))
            expected["Unassigned" if group is None else group.name] += charged(event)
    served = {g["name"]: g for g in [*body["groups"], body["unassignedGroup"]]}
    assert {name: g["spendCents"] for name, g in served.items()} == {
        name: expected.get(name, Decimal(0)) for name in served
    }
    assert 3 <= len(body["groups"]) <= 6
    for group in served.values():
        assert group["type"] == "BILLING" and group["id"].startswith("group_")
        assert group["memberCount"] == len(group["currentMembers"])
        assert (
            sum(m["spendCents"] for m in group["currentMembers"] + group["formerMembers"])
            == (group["spendCents"])
        )
        assert sum(day["spendCents"] for day in group["dailySpend"]) == group["spendCents"]
        assert group["dailySpend"][0]["date"] == "2025-10-17"
        assert group["dailySpend"][-1]["date"] == "2025-11-17"
    # Every current user in one group at a time.
    current = [m["email"] for g in served.values() for m in g["currentMembers"]]
    assert len(current) == len(set(current))
    formers = {m["email"]: m for g in body["groups"] for m in g["formerMembers"]}
    assert len(formers) == 2  # the mover and the one who left the team
    mover = next(e for e in formers if e in current)
    assert formers[mover]["leftAt"] == "2025-11-15T12:00:00.000Z"
    joined = [m for g in body["groups"] for m in g["currentMembers"] if m["email"] == mover]
    assert joined[0]["joinedAt"] == "2025-11-15T12:00:00.000Z" and joined[0]["leftAt"] is None


def test_groups_403_when_not_enterprise(data):
    with serve(data, enterprise=False) as emulator, client_for(emulator) as client:
        response = client.get(GROUPS_ENDPOINT)
    assert response.status_code == 403
    assert response.json() == ENTERPRISE_REQUIRED_BODY


def test_groups_of_a_past_cycle(data):
    with serve(data) as emulator, client_for(emulator) as client:
        body = client.get(GROUPS_ENDPOINT, params={"billingCycle": "2025-10-01"}).json()
        assert client.get(GROUPS_ENDPOINT, params={"billingCycle": "soon"}).status_code == 400
    assert body["billingCycle"]["cycleStart"] == "2025-09-17T09:41:27.318Z"


# -- cursor-billing emulator -------------------------------------------------------------------


def start(command: list[str], ignore_sigint: bool = False) -> subprocess.Popen:
    def ignore() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `nohup ... &` does

    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ignore if ignore_sigint else None,
    )


@pytest.mark.skipif(os.name == "nt", reason="Ctrl-C is simulated with SIGINT")
@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["shell", "nohup"])
def test_cli_command_serves_until_ctrl_c(ignore_sigint):
    script = os.path.join(os.path.dirname(sys.executable), "cursor-billing")
    command = [script, "emulator", "--port", "0", "--months", "1", "--events-per-month", "200"]
    command += ["--api-key", "key_cli", "--rate-limit", "0", "--request-based", "--kind-label"]
    process = start(command, ignore_sigint)
    try:
        base_url = process.stdout.readline().strip().removeprefix("export CURSOR_API_BASE_URL=")
        assert process.stdout.readline().strip() == "export CURSOR_API_KEY=key_cli"
        auth = ("key_cli", "")
        events = httpx.post(base_url + ENDPOINT, json={}, auth=auth).json()["usageEvents"]
        assert events and all("kindLabel" in e and not e["isTokenBasedCall"] for e in events)
        assert httpx.post(base_url + SPEND_ENDPOINT, json={}, auth=auth).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) in (0, 130)
        stderr = process.stderr.read()
        assert "Traceback" not in stderr and "Press Ctrl-C" in stderr
        assert process.stdout.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_cli_command_port_taken_is_one_error_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        script = os.path.join(os.path.dirname(sys.executable), "cursor-billing")
        result = subprocess.run(
            [script, "emulator", "--port", str(port), "--events-per-month", "10"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr and result.stdout == ""
