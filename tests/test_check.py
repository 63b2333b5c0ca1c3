"""`cursor-billing check` through the CLI with an injected clock: each budget status with its
exit code and JSON (validated against docs/schemas/check.schema.json), spikes, and `--notify`
to a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest

from cursor_billing.months import Month, epoch_ms
from tests.helpers import usage_event, write_cache_file
from tests.time_aware import clock, write_steady_months

SCHEMAS = Path(__file__).parent.parent / "docs" / "schemas"
CHECK_SCHEMA = json.loads((SCHEMAS / "check.schema.json").read_text())
AS_OF = datetime(2026, 3, 10, 15, tzinfo=timezone.utc)
# Steady data (tests/time_aware.py) up to AS_OF: $1,734.00 so far, $5,712.00 at the month's end.
SPENT, REAL = Decimal(173400), Decimal(571200)
FAST = "  request_delay_seconds: 0\n  backoff_base_seconds: 0.001\n  max_retries: 2\n"


def check_json(cli, *args: str, env: dict | None = None):
    result = cli("check", "--json", *args, env={**clock(AS_OF), **(env or {})})
    assert result.exit_code in (0, 4), result.stderr
    document = json.loads(result.stdout, parse_float=Decimal)
    jsonschema.validate(json.loads(result.stdout), CHECK_SCHEMA)
    return result.exit_code, document


def config(isolated: Path, budgets: str = "", anomalies: str = "", extra: str = "") -> None:
    text = "billing:\n" + FAST + extra
    if budgets:
        text += "  budgets:\n" + budgets
    if anomalies:
        text += "  anomalies:\n" + anomalies
    (isolated / "config.yaml").write_text(text)


@pytest.fixture
def steady(isolated):
    write_steady_months(isolated / "data", Month(2026, 3), AS_OF)
    return isolated


@pytest.mark.parametrize(
    ("limit_usd", "status", "code"),
    [(10000, "ok", 0), (6000, "warn", 0), (5000, "forecast_over", 4), (1000, "over", 4)],
)
def test_each_budget_status_with_its_exit_code(cli, steady, limit_usd, status, code):
    config(steady, f"    total_monthly_usd: {limit_usd}\n")
    exit_code, doc = check_json(cli)
    assert exit_code == code
    assert doc["month"] == "03-2026"
    assert doc["as_of"] == "2026-03-10T14:59:59Z"
    assert doc["ok"] is (code == 0)
    assert doc["anomalies"] == []
    (budget,) = doc["budgets"]
    assert budget == {
        "scope": "total",
        "name": None,
        "limit_cents": limit_usd * 100,
        "spent_cents": SPENT,
        "projected_cents": REAL,
        "status": status,
    }


def test_user_budgets_listed_and_by_default(cli, steady):
    config(
        steady,
        "    user_monthly_usd: 10000\n"
        "    users:\n      ADA@example.com: 2000.50\n      eve@example.com: 5\n",
    )
    exit_code, doc = check_json(cli)
    assert exit_code == 4  # ada's projection is above her own budget
    rows = {row["name"]: row for row in doc["budgets"]}
    assert rows["ada@example.com"]["limit_cents"] == Decimal("200050")
    assert rows["ada@example.com"]["status"] == "forecast_over"
    assert rows["eve@example.com"]["spent_cents"] == 0  # listed, spent nothing yet
    assert rows["eve@example.com"]["status"] == "ok"
    assert {row["scope"] for row in doc["budgets"]} == {"user"}


def test_the_terminal_shows_each_budget_then_anomalies(cli, steady):
    config(steady, "    total_monthly_usd: 5000\n")
    result = cli("check", env={**clock(AS_OF), "NO_COLOR": "1"})
    assert result.exit_code == 4
    for text in ("$5,000.00", "$1,734.00", "$5,712", "forecast over", "No spending spike"):
        assert text in result.stdout
    assert result.stderr == ""


def test_nothing_configured_says_so_and_exits_0(cli, steady):
    config(steady, anomalies="    enabled: false\n")
    exit_code, doc = check_json(cli)
    assert (exit_code, doc["budgets"], doc["anomalies"], doc["ok"]) == (0, [], [], True)
    text = cli("check", env=clock(AS_OF)).stdout
    assert "No budget is set" in text
    assert "Anomaly checks are off" in text


def test_a_past_month_with_month(cli, steady):
    config(steady, "    total_monthly_usd: 5000\n")
    exit_code, doc = check_json(cli, "--month", "02-2026")
    assert doc["month"] == "02-2026"
    assert doc["budgets"][0]["projected_cents"] == doc["budgets"][0]["spent_cents"]
    assert doc["budgets"][0]["status"] == "over"
    assert exit_code == 4


def team_events(days: int, end: datetime, users: int = 40, seed: int = 7) -> list[dict]:
    """`users` people spending $10–$30 a day (their own level, ±40 % noise) for `days` days."""
    rng = random.Random(seed)
    levels = [rng.uniform(1000, 3000) for _ in range(users)]
    events = []
    for back in range(days, 0, -1):
        day = end - timedelta(days=back)
        for index, level in enumerate(levels):
            cents = round(level * rng.uniform(0.6, 1.4), 4)
            moment = day + timedelta(hours=rng.uniform(0, 23))
            events.append(
                usage_event(epoch_ms(moment), f"dev{index:02d}@example.com", cents=cents, fee=0)
            )
    return events


def write_team(data: Path, events: list[dict], as_of: datetime) -> None:
    by_month: dict[Month, list[dict]] = {}
    for event in events:
        moment = datetime.fromtimestamp(int(event["timestamp"]) / 1000, timezone.utc)
        by_month.setdefault(Month(moment.year, moment.month), []).append(event)
    current = Month(as_of.year, as_of.month)
    for month, month_events in by_month.items():
        if month == current:
            write_cache_file(
                data,
                month.label,
                month_events,
                complete=False,
                covered={"start_ms": month.start_ms(timezone.utc), "end_ms": epoch_ms(as_of) - 1},
            )
        else:
            write_cache_file(data, month.label, month_events)


TEAM_AS_OF = datetime(2026, 3, 2, 0, tzinfo=timezone.utc)  # 60 full days: 1 Jan to 1 Mar


def test_a_steady_team_of_40_over_60_days_has_no_anomaly(cli, isolated):
    config(isolated)
    write_team(isolated / "data", team_events(60, TEAM_AS_OF), TEAM_AS_OF)
    exit_code, doc = check_json(cli, env=clock(TEAM_AS_OF))
    assert (exit_code, doc["anomalies"], doc["ok"]) == (0, [], True)


def test_a_user_spiking_tenfold_is_flagged_with_a_one_line_reason(cli, isolated):
    config(isolated)
    events = team_events(60, TEAM_AS_OF)
    usual = [e for e in events if e["userEmail"] == "dev05@example.com"]
    mean = sum(Decimal(str(e["tokenUsage"]["totalCents"])) for e in usual) / 60
    spike_at = epoch_ms(datetime(2026, 3, 1, 15, tzinfo=timezone.utc))
    events.append(usage_event(spike_at, "dev05@example.com", cents=float(mean * 10), fee=0))
    write_team(isolated / "data", events, TEAM_AS_OF)
    exit_code, doc = check_json(cli, env=clock(TEAM_AS_OF))
    assert exit_code == 4 and doc["ok"] is False
    (anomaly,) = doc["anomalies"]
    assert anomaly["email"] == "dev05@example.com"
    assert anomaly["date"] == "2026-03-01"
    assert anomaly["factor"] >= 5
    assert anomaly["reason"].startswith("dev05@example.com spent $")
    assert "on 2026-03-01" in anomaly["reason"] and "usual" in anomaly["reason"]
    assert "\n" not in anomaly["reason"]
    text = cli("check", env={**clock(TEAM_AS_OF), "COLUMNS": "200"}).stdout
    assert anomaly["reason"] in text


class Receiver:
    """A webhook receiver on loopback: records each POST; answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append(self.rfile.read(length))
                receiver.paths.append(self.path)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0SECRET/B0SECRET"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    started: list[Receiver] = []

    def start(status: int = 200) -> Receiver:
        started.append(Receiver(status))
        return started[-1]

    yield start
    for one in started:
        one.close()


def test_notify_posts_slack_text_on_a_finding(cli, steady, receiver):
    hook = receiver()
    config(steady, "    total_monthly_usd: 5000\n")
    result = cli("check", "--notify", env={**clock(AS_OF), "CURSOR_BILLING_WEBHOOK_URL": hook.url})
    assert result.exit_code == 4, result.stderr
    (body,) = hook.bodies
    assert hook.paths == ["/hooks/T0SECRET/B0SECRET"]
    text = json.loads(body)["text"]
    lines = text.split("\n")
    assert lines[0].startswith("Cursor on-demand spend 03-2026: $1,734.00 so far")
    assert lines[1:] == [
        "• Budget total: $1,734.00 spent, $5,712 projected of $5,000.00: forecast over"
    ]
    assert "127.0.0.1" in result.stderr
    assert "SECRET" not in result.stdout + result.stderr


def test_notify_posts_the_check_document_in_json_format(cli, steady, receiver):
    hook = receiver()
    config(steady, "    total_monthly_usd: 1000\n", extra='  notify_format: "json"\n')
    result = cli("check", "--notify", env={**clock(AS_OF), "CURSOR_BILLING_WEBHOOK_URL": hook.url})
    assert result.exit_code == 4
    (body,) = hook.bodies
    posted = json.loads(body)
    jsonschema.validate(posted, CHECK_SCHEMA)
    assert posted["budgets"][0]["status"] == "over"
    assert posted["ok"] is False


def test_notify_stays_quiet_when_all_is_well_unless_always(cli, steady, receiver):
    hook = receiver()
    config(steady, "    total_monthly_usd: 10000\n")
    env = {**clock(AS_OF), "CURSOR_BILLING_WEBHOOK_URL": hook.url}
    assert cli("check", "--notify", env=env).exit_code == 0
    assert hook.bodies == []
    assert cli("check", "--notify-always", env=env).exit_code == 0
    assert "Nothing needs attention" in json.loads(hook.bodies[0])["text"]


def test_a_failing_receiver_is_exit_1_after_the_result_is_printed(cli, steady, receiver):
    hook = receiver(status=500)
    config(steady, "    total_monthly_usd: 5000\n")
    env = {**clock(AS_OF), "CURSOR_BILLING_WEBHOOK_URL": hook.url}
    result = cli("check", "--json", "--notify", env=env)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["ok"] is False  # the result came first, whole
    assert len(hook.bodies) == 3  # the first try and max_retries: 2 retries
    assert "Error: the webhook at 127.0.0.1 still failed after 2 retries: HTTP 500" in result.stderr
    assert "SECRET" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "--notify needs CURSOR_BILLING_WEBHOOK_URL"),
        (
            "http://hooks.example.com/T0SECRET",
            "refusing to post to the webhook at hooks.example.com",
        ),
        ("not a url", "is not an http(s) URL"),
    ],
)
def test_a_missing_or_unsafe_webhook_url_is_refused_before_anything(cli, steady, url, message):
    config(steady, "    total_monthly_usd: 5000\n")
    env = {**clock(AS_OF), **({"CURSOR_BILLING_WEBHOOK_URL": url} if url else {})}
    result = cli("check", "--notify", env=env)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "SECRET" not in result.stderr


def test_a_bad_clock_is_a_usage_error(cli, steady):
    result = cli("check", env={"CURSOR_BILLING_NOW": "yesterday"})
    assert result.exit_code == 2
    assert "CURSOR_BILLING_NOW" in result.stderr


def test_anonymize_hides_every_email_in_daily_check_export_and_the_webhook(cli, isolated, receiver):
    from tests.test_teams import leaked

    config(
        isolated,
        "    users:\n      dev05@example.com: 10\n    user_monthly_usd: 5000\n",
        extra="  notify_format: slack\n",
    )
    events = team_events(60, TEAM_AS_OF)
    spike_at = epoch_ms(datetime(2026, 3, 1, 15, tzinfo=timezone.utc))
    events.append(usage_event(spike_at, "dev05@example.com", cents=250_000.0, fee=0))
    write_team(isolated / "data", events, TEAM_AS_OF)
    emails = {event["userEmail"] for event in events}
    hook = receiver()
    env = {**clock(TEAM_AS_OF), "COLUMNS": "200", "CURSOR_BILLING_WEBHOOK_URL": hook.url}
    plain = cli("check", env=env).stdout
    assert leaked(plain, emails)  # without --anonymize the e-mails are there

    outputs = {}
    for command in (
        ("daily", "--days", "10"),
        ("daily", "--days", "10", "--json"),
        ("check",),
        ("check", "--json"),
        ("check", "--notify-always"),
        ("export", "--format", "csv"),
        ("export", "--format", "focus"),
    ):
        result = cli(*command, "--anonymize", env=env)
        assert result.exit_code in (0, 4), (command, result.stderr)
        outputs[" ".join(command)] = result.stdout + result.stderr
    (isolated / "config.yaml").write_text(
        (isolated / "config.yaml").read_text().replace("slack", "json")
    )
    assert cli("check", "--notify-always", "--anonymize", env=env).exit_code == 4
    assert len(hook.bodies) == 2
    outputs |= {f"webhook {i}": body.decode() for i, body in enumerate(hook.bodies)}
    for name, text in outputs.items():
        assert leaked(text, emails) == [], name
    checked = json.loads(cli("check", "--json", "--anonymize", env=env).stdout)
    assert checked["anonymized"] is True
    (anomaly,) = checked["anomalies"]
    assert anomaly["email"].startswith("user-") and anomaly["reason"].startswith("user-")
    user_budget = next(
        b for b in checked["budgets"] if b["scope"] == "user" and b["status"] == "over"
    )
    assert user_budget["name"] == anomaly["email"]  # dev05's own budget, matched before renaming
    assert "Anonymized" in outputs["check --notify-always"]
    assert "Anonymized" in json.loads(hook.bodies[0])["text"]
    assert json.loads(hook.bodies[1])["anonymized"] is True
