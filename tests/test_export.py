"""`cursor-billing export --format csv|focus` (SPEC §12) over a cache fetched from the emulator on
loopback. Expected numbers are read here from the served events, independently of the ledger; the
FOCUS rules are those of the FOCUS 1.2 specification (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec,
tag v1.2, files named beside each check)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cursor_billing.emulator import HOSTILE_MODEL, Emulator, generate_events
from cursor_billing.months import Month
from tests.helpers import usage_event, write_cache_file

KEY = "key_test_export"
UTC = ZoneInfo("UTC")
OCT, NOV = Month(2026, 10), Month(2026, 11)
ON_DEMAND = {"usage-based", "on-demand", "usage_event_kind_usage_based"}
CENT = Decimal("0.01")
JSON_QUANTUM = Decimal("0.000001")  # analyze --json writes cents to 6 decimals
USAGE_COLUMNS = (
    "period_start,period_end,team,user,model,source,requests,input_tokens,output_tokens,"
    "cache_write_tokens,cache_read_tokens,total_tokens,list_cost_usd,charged_cost_usd"
).split(",")
# SPEC §12: FOCUS 1.2's mandatory columns, then the others the export carries.
FOCUS_MANDATORY = (
    "BilledCost BillingAccountId BillingAccountName BillingCurrency BillingPeriodEnd "
    "BillingPeriodStart ChargeCategory ChargeClass ChargeDescription ChargePeriodEnd "
    "ChargePeriodStart ContractedCost EffectiveCost InvoiceIssuerName ListCost PricingQuantity "
    "PricingUnit ProviderName PublisherName ServiceCategory ServiceName"
).split()
FOCUS_OTHERS = (
    "ChargeFrequency ConsumedQuantity ConsumedUnit ResourceId ResourceName ResourceType "
    "SubAccountId SubAccountName Tags"
).split()
CUSTOM = ["x_Model", "x_Requests", "x_ListCostAtPublishedPrices"]
# columns/chargecategory.md, columns/chargefrequency.md, columns/servicecategory.md: allowed values
CHARGE_CATEGORIES = {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
CHARGE_FREQUENCIES = {"One-Time", "Recurring", "Usage-Based"}
SERVICE_CATEGORIES = {
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
}
# attributes/numeric_format.md: an integer or decimal, a single "." and a "-" sign only when
# negative; no currency symbol, comma or "+" (E notation is allowed there, but SPEC §12 wants none).
NUMERIC = re.compile(r"-?\d+(\.\d+)?")
# attributes/datetime_format.md: UTC, 'YYYY-MM-DDTHH:mm:ssZ'.
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
FAST_CONFIG = """billing:
  request_delay_seconds: 0
  backoff_base_seconds: 0.001
  max_retries: 3
  timeout_seconds: 5
  timezone: {zone}
"""


# -- an independent reading of the served events -----------------------------------------------


def on_demand(event: dict) -> bool:
    kind = event.get("kind") or event.get("kindLabel") or ""
    return kind.lower() in ON_DEMAND and event.get("isChargeable") is True


def list_cents(event: dict) -> Decimal:
    usage = event.get("tokenUsage") or {}
    return Decimal(str(usage.get("totalCents", 0))) + Decimal(str(event.get("cursorTokenFee", 0)))


def charged_cents(event: dict) -> Decimal:
    if event.get("chargedCents") is not None:
        return Decimal(str(event["chargedCents"]))
    return list_cents(event)


def tokens(event: dict) -> int:
    usage = event.get("tokenUsage") or {}
    return sum(
        usage.get(name, 0)
        for name in ("inputTokens", "outputTokens", "cacheWriteTokens", "cacheReadTokens")
    )


def day_of(event: dict, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(int(event["timestamp"]) / 1000, zone).date()


def month_events(events: list[dict], month: Month, zone: ZoneInfo) -> list[dict]:
    return [
        e
        for e in events
        if on_demand(e) and month.start_ms(zone) <= int(e["timestamp"]) <= month.end_ms(zone)
    ]


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def fetch_months(cli, isolated, monkeypatch):
    """Serve events on loopback and `fetch` the given months through the real client."""

    def fetch(events: list[dict], months: list[Month], zone: str = "UTC") -> None:
        (isolated / "config.yaml").write_text(FAST_CONFIG.format(zone=zone))
        with Emulator(events, api_key=KEY, rate_limit=None) as emulator:
            monkeypatch.setenv("CURSOR_API_KEY", KEY)
            monkeypatch.setenv("CURSOR_API_BASE_URL", emulator.base_url)
            labels = [arg for month in months for arg in ("--month", month.label)]
            result = cli("fetch", *labels)
        monkeypatch.delenv("CURSOR_API_KEY")
        assert result.exit_code == 0, result.stderr

    return fetch


def mixed_events(zone: ZoneInfo = UTC, seed: int = 5) -> list[dict]:
    """A team whose on-demand events are partly request-based (`isTokenBasedCall: false`)."""
    return generate_events(
        seed, OCT.start_ms(zone), NOV.end_ms(zone), 1600, users=8, request_based=0.3
    )


def exported(cli, *args: str) -> tuple[list[str], list[dict[str, str]]]:
    result = cli("export", *args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    reader = csv.DictReader(io.StringIO(result.stdout, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def analysis(cli, *args: str) -> dict:
    result = cli("analyze", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout, parse_float=Decimal)


def usd_to_cents(text: str) -> Decimal:
    assert NUMERIC.fullmatch(text), text
    return Decimal(text) * 100


# -- the sums ----------------------------------------------------------------------------------


@pytest.mark.parametrize("grain", ["day", "month"])
def test_csv_cost_columns_add_up_to_analyze_to_the_cent(cli, fetch_months, grain):
    events = mixed_events()
    fetch_months(events, [OCT, NOV])
    kept = [e for e in events if on_demand(e)]
    assert any(e["isTokenBasedCall"] is False for e in kept)  # request-based rows are in it

    header, rows = exported(cli, "--grain", grain)

    assert header == USAGE_COLUMNS
    document = analysis(cli)
    totals = document["summary"]["totals_by_basis"]
    charged = sum(usd_to_cents(r["charged_cost_usd"]) for r in rows)
    listed = sum(usd_to_cents(r["list_cost_usd"]) for r in rows if r["list_cost_usd"])
    assert charged.quantize(JSON_QUANTUM) == totals["charged"]
    assert listed.quantize(JSON_QUANTUM) == totals["list"]
    # and exactly what the served events say, not rounded at all
    assert charged == sum(map(charged_cents, kept))
    assert listed == sum(list_cents(e) for e in kept if e["isTokenBasedCall"])
    # per month, against the trend on the list basis (the configured one)
    for trend in document["monthly_trend"]:
        first = Month.parse(trend["month"])
        in_month = [
            r for r in rows if r["period_start"].startswith(f"{first.year}-{first.month:02}")
        ]
        month_list = sum(usd_to_cents(r["list_cost_usd"]) for r in in_month if r["list_cost_usd"])
        assert month_list.quantize(JSON_QUANTUM) == trend["cost_cents"]
        assert sum(int(r["requests"]) for r in in_month) >= trend["requests"]


def test_csv_rows_are_the_periods_users_models_and_sources_of_the_events(cli, fetch_months):
    zone = ZoneInfo("Europe/Berlin")
    events = mixed_events(zone, seed=9)
    fetch_months(events, [OCT, NOV], zone="Europe/Berlin")
    expected: dict[tuple, list[dict]] = defaultdict(list)
    for month in (OCT, NOV):
        for event in month_events(events, month, zone):
            day = day_of(event, zone).isoformat()
            expected[(day, day, event["userEmail"], event["model"])].append(event)

    _, rows = exported(cli, "--grain", "day")

    got = defaultdict(list)
    for row in rows:
        assert row["team"] == ""  # no teams configured
        got[(row["period_start"], row["period_end"], row["user"], row["model"])].append(row)
    assert set(got) == set(expected)
    for key, group in got.items():
        served = expected[key]
        assert sum(int(r["requests"]) for r in group) == len(served)
        assert sum(int(r["total_tokens"]) for r in group) == sum(map(tokens, served))
        for row in group:
            parts = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")
            assert sum(int(row[p]) for p in parts) == int(row["total_tokens"])
        assert sum(usd_to_cents(r["charged_cost_usd"]) for r in group) == sum(
            map(charged_cents, served)
        )
        if not any(e["isTokenBasedCall"] for e in served):
            assert all(r["list_cost_usd"] == "" for r in group)  # none in the list basis
    assert [r["period_start"] for r in rows] == sorted(r["period_start"] for r in rows)


def test_month_grain_periods_are_the_calendar_months_both_ends_inclusive(cli, fetch_months):
    fetch_months(mixed_events(), [OCT, NOV])

    _, rows = exported(cli, "--grain", "month", "--month", "11-2026")

    assert rows and {(r["period_start"], r["period_end"]) for r in rows} == {
        ("2026-11-01", "2026-11-30")
    }
    keys = [(r["user"], r["model"], r["source"]) for r in rows]
    assert len(keys) == len(set(keys))  # one row per (period, user, model, source)


@pytest.mark.parametrize("zone_name", ["UTC", "America/New_York"])
def test_focus_cost_columns_add_up_to_analyze_and_to_the_events(cli, fetch_months, zone_name):
    zone = ZoneInfo(zone_name)
    events = mixed_events(zone)
    fetch_months(events, [OCT, NOV], zone=zone_name)
    kept = [e for m in (OCT, NOV) for e in month_events(events, m, zone)]

    _, rows = exported(cli, "--format", "focus")

    totals = analysis(cli)["summary"]["totals_by_basis"]
    billed = sum(usd_to_cents(r["BilledCost"]) for r in rows)
    published = sum(
        usd_to_cents(r["x_ListCostAtPublishedPrices"])
        for r in rows
        if r["x_ListCostAtPublishedPrices"]
    )
    assert billed.quantize(JSON_QUANTUM) == totals["charged"]
    assert published.quantize(JSON_QUANTUM) == totals["list"]
    assert billed == sum(map(charged_cents, kept))
    assert sum(int(r["x_Requests"]) for r in rows) == len(kept)


# -- the FOCUS rules ---------------------------------------------------------------------------


def test_focus_rows_follow_the_focus_1_2_rules(cli, fetch_months, isolated):
    zone = ZoneInfo("America/New_York")  # 01-11-2026 is a 25-hour day there
    events = mixed_events(zone, seed=11)
    fetch_months(events, [OCT, NOV], zone="America/New_York")
    with (isolated / "config.yaml").open("a") as config:
        config.write('  account_name: "Acme Engineering"\n')

    header, rows = exported(cli, "--format", "focus")

    # columns/*.md "MUST be present"; attributes/column_handling.md: custom columns are
    # prefixed `x_` and come after every FOCUS column.
    assert set(FOCUS_MANDATORY + FOCUS_OTHERS) <= set(header)
    focus_part = [c for c in header if not c.startswith("x_")]
    assert header == focus_part + CUSTOM
    assert all(re.fullmatch(r"[A-Z][A-Za-z]+", c) for c in focus_part)  # Pascal case
    assert set(focus_part) == set(FOCUS_MANDATORY + FOCUS_OTHERS)  # no SkuId, nothing of 1.3
    assert rows
    account_ids = {r["BillingAccountId"] for r in rows}
    assert len(account_ids) == 1 and account_ids != {""}
    served: dict[tuple, list[dict]] = defaultdict(list)
    for month in (OCT, NOV):
        for event in month_events(events, month, zone):
            key = (
                day_of(event, zone),
                event["userEmail"],
                event["model"],
                event["isTokenBasedCall"],
            )
            served[key].append(event)
    seen = defaultdict(list)
    for row in rows:
        # billedcost.md, listcost.md, effectivecost.md, contractedcost.md: Decimal, not null,
        # NumericFormat; listcost.md: with ListUnitPrice null, ListCost matches BilledCost.
        for column in ("BilledCost", "ListCost", "EffectiveCost", "ContractedCost"):
            assert NUMERIC.fullmatch(row[column]), (column, row[column])
        assert row["ListCost"] == row["EffectiveCost"] == row["ContractedCost"] == row["BilledCost"]
        # billingcurrency.md: a national currency
        assert row["BillingCurrency"] == "USD"
        # chargecategory.md / chargeclass.md / chargefrequency.md / servicecategory.md
        assert row["ChargeCategory"] in CHARGE_CATEGORIES and row["ChargeCategory"] == "Usage"
        assert row["ChargeClass"] in ("", "Correction") and row["ChargeClass"] == ""
        assert row["ChargeFrequency"] in CHARGE_FREQUENCIES
        assert row["ServiceCategory"] in SERVICE_CATEGORIES
        assert row["ServiceCategory"] == "AI and Machine Learning"
        # provider.md, publisher.md, invoiceissuer.md, servicename.md, billingaccount*.md: not null
        for column in ("ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName"):
            assert row[column] == "Cursor"
        assert row["BillingAccountName"] == "Acme Engineering"
        assert row["ChargeDescription"] == f"{row['x_Model']} on-demand usage"
        # chargeperiod*.md, billingperiod*.md + attributes/datetime_format.md: UTC
        # 'YYYY-MM-DDTHH:mm:ssZ', start inclusive, end exclusive.
        moments = {}
        for column in (
            "ChargePeriodStart",
            "ChargePeriodEnd",
            "BillingPeriodStart",
            "BillingPeriodEnd",
        ):
            assert DATETIME.fullmatch(row[column]), (column, row[column])
            moments[column] = datetime.strptime(row[column], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=timezone.utc
            )
        day = moments["ChargePeriodStart"].astimezone(zone)
        assert (day.hour, day.minute, day.second) == (0, 0, 0)  # a day in the configured zone
        following = day.date() + timedelta(days=1)
        assert moments["ChargePeriodEnd"] == datetime(
            following.year, following.month, following.day, tzinfo=zone
        ).astimezone(timezone.utc)
        month = Month(day.year, day.month)
        assert moments["BillingPeriodStart"] == datetime.fromtimestamp(
            month.start_ms(zone) / 1000, timezone.utc
        )
        assert moments["BillingPeriodEnd"] == datetime.fromtimestamp(
            month.next().start_ms(zone) / 1000, timezone.utc
        )
        assert moments["BillingPeriodStart"] <= moments["ChargePeriodStart"]
        assert moments["ChargePeriodEnd"] <= moments["BillingPeriodEnd"]
        # pricingquantity.md: not null for Usage; pricingunit.md: null exactly when
        # PricingQuantity is; consumedquantity.md / consumedunit.md likewise.
        assert NUMERIC.fullmatch(row["PricingQuantity"]) and row["PricingUnit"] != ""
        assert NUMERIC.fullmatch(row["ConsumedQuantity"]) and row["ConsumedUnit"] != ""
        # resourcetype.md: null exactly when ResourceId is; subaccountname.md likewise.
        assert (row["ResourceType"] == "") == (row["ResourceId"] == "")
        assert row["ResourceId"] == row["ResourceName"] and row["ResourceType"] == "User"
        assert row["SubAccountId"] == row["SubAccountName"] == ""  # no teams configured
        # tags.md + attributes/key_value_format.md: a JSON object of scalar values; provider
        # tag keys carry the provider's prefix.
        tags = json.loads(row["Tags"])
        assert isinstance(tags, dict) and tags
        assert all(key.startswith("cursor/") for key in tags)
        assert all(isinstance(v, (str, int, float, bool)) or v is None for v in tags.values())
        token_based = row["PricingUnit"] == "Tokens"
        assert row["PricingUnit"] in ("Tokens", "Requests")
        seen[(day.date(), row["ResourceId"], row["x_Model"], token_based)].append(row)
    assert set(seen) == set(served)
    for key, group in seen.items():
        events_of = served[key]
        token_based = key[3]
        quantity = sum(Decimal(r["PricingQuantity"]) for r in group)
        if token_based:
            assert quantity == sum(map(tokens, events_of))
            assert sum(usd_to_cents(r["x_ListCostAtPublishedPrices"]) for r in group) == sum(
                map(list_cents, events_of)
            )
        else:  # request-based: the requests' cost units, and no list-basis cost
            assert quantity == sum(Decimal(str(e["requestsCosts"])) for e in events_of)
            assert all(r["x_ListCostAtPublishedPrices"] == "" for r in group)
        assert all(r["ConsumedQuantity"] == r["PricingQuantity"] for r in group)
        sources = {json.loads(r["Tags"])["cursor/source"] for r in group}
        assert len(sources) == len(group)  # one row per source
    assert any(unit == "Requests" for unit in (r["PricingUnit"] for r in rows))
    assert any(
        (end - start) == timedelta(hours=25)
        for start, end in (
            (
                datetime.strptime(r["ChargePeriodStart"], "%Y-%m-%dT%H:%M:%SZ"),
                datetime.strptime(r["ChargePeriodEnd"], "%Y-%m-%dT%H:%M:%SZ"),
            )
            for r in rows
        )
    )


def test_the_billing_account_id_is_stable_and_follows_the_account_name(cli, isolated):
    write_cache_file(isolated / "data", "11-2026", [usage_event(NOV.start_ms(UTC))])

    def account_id(name: str | None) -> str:
        config = "billing:\n" + (f"  account_name: {json.dumps(name)}\n" if name else "")
        (isolated / "config.yaml").write_text(config)
        _, rows = exported(cli, "--format", "focus")
        return rows[0]["BillingAccountId"]

    default = account_id(None)
    assert account_id(None) == default
    assert account_id("Acme") not in ("", default)


# -- dollars and text ----------------------------------------------------------------------------


def test_dollars_are_exact_decimals_without_exponent(cli, isolated):
    start = NOV.start_ms(UTC)
    # Cents as the cache holds them, digit for digit: placeholders replaced in the JSON text.
    written = {"tiny": "0.0000001", "float-exponent": "1e-07", "round": "150", "big": "1E+5"}
    events = [
        usage_event(start + index, cents=900001 + index, fee=None, model=model)
        for index, model in enumerate(written)
    ]
    path = write_cache_file(isolated / "data", "11-2026", events)
    text = path.read_text()
    for index, number in enumerate(written.values()):
        text = text.replace(f'"totalCents": {900001 + index}', f'"totalCents": {number}')
    path.write_text(text)

    _, rows = exported(cli)

    by_model = {r["model"]: r["charged_cost_usd"] for r in rows}
    assert by_model == {
        "tiny": "0.000000001",
        "float-exponent": "0.000000001",
        "round": "1.50",
        "big": "1000.00",
    }
    assert all(NUMERIC.fullmatch(value) for value in by_model.values())


def test_text_cells_are_safe_in_a_terminal_and_a_spreadsheet(cli, isolated):
    start = NOV.start_ms(UTC)
    events = [
        usage_event(start + 1, email="eve\x1b]0;owned\x07@example.com", model=HOSTILE_MODEL),
        usage_event(start + 2, model='=HYPERLINK("http://x")'),
    ]
    write_cache_file(isolated / "data", "11-2026", events)

    for export_format in ("csv", "focus"):
        result = cli("export", "--format", export_format)
        assert result.exit_code == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "eve\\x1b]0;owned\\x07@example.com" in result.stdout
        rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
        assert not any(cell.startswith("=") for row in rows for cell in row)
        assert any(cell == '\'=HYPERLINK("http://x")' for row in rows for cell in row)


def test_rows_are_written_exactly_as_the_csv_module_writes_them(cli, isolated):
    """The rows are joined by hand for speed: quoting and line ends must be the csv module's."""
    start = NOV.start_ms(UTC)
    events = [
        usage_event(start + 1, email="o'brien, jr@example.com", model='say "hi", then go'),
        usage_event(start + 2, model="plain", cents=1.25, chargedCents=3),
        usage_event(start + 3, email="x@example.com", model='"quoted"', isTokenBasedCall=False),
    ]
    write_cache_file(isolated / "data", "11-2026", events)

    for export_format in ("csv", "focus"):
        target = isolated / f"{export_format}.csv"
        result = cli("export", "--format", export_format, "--output", str(target))
        assert result.exit_code == 0, result.stderr
        written = target.read_bytes().decode()
        rows = list(csv.reader(io.StringIO(written, newline="")))
        assert len(rows) == 4
        again = io.StringIO(newline="")
        csv.writer(again).writerows(rows)
        assert written == again.getvalue()
        cells = {cell for row in rows for cell in row}
        assert {"o'brien, jr@example.com", 'say "hi", then go', '"quoted"'} <= cells


# -- where it goes -----------------------------------------------------------------------------


def test_output_is_a_fresh_private_file_and_stdout_stays_empty(cli, isolated):
    write_cache_file(isolated / "data", "11-2026", [usage_event(NOV.start_ms(UTC))])
    target = isolated / "exports" / "focus.csv"
    target.parent.mkdir()
    target.write_text("old content\n")
    os.chmod(target, 0o644)
    old_inode = target.stat().st_ino

    result = cli("export", "--format", "focus", "--output", str(target))

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "Exported 1 rows" in result.stderr
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.stat().st_ino != old_inode  # replaced, never written through
    assert target.read_text().startswith("BilledCost,")
    assert sorted(p.name for p in target.parent.iterdir()) == ["focus.csv"]  # no temporary left
    assert target.read_text() == cli("export", "--format", "focus").stdout


def test_output_refuses_a_symbolic_link_and_leaves_its_target_alone(cli, isolated, tmp_path):
    write_cache_file(isolated / "data", "11-2026", [usage_event(NOV.start_ms(UTC))])
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = isolated / "export.csv"
    link.symlink_to(victim)

    result = cli("export", "--output", str(link))

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "symbolic link" in result.stderr
    assert victim.read_text() == "precious\n"
    assert link.is_symlink()
    assert sorted(p.name for p in isolated.iterdir()) == ["data", "export.csv"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--format", "xlsx"], "--format"),
        (["--grain", "week"], "--grain"),
        (["--format", "focus", "--grain", "month"], "--grain"),
        (["--month", "13-2026"], "not a month"),
        (["--month", "10-2026"], "not cached"),
    ],
)
def test_bad_options_are_one_error_line_and_exit_2(cli, isolated, args, words):
    write_cache_file(isolated / "data", "11-2026", [usage_event(NOV.start_ms(UTC))])

    result = cli("export", *args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and words in result.stderr.splitlines()[0]


# -- teams and pseudonyms ----------------------------------------------------------------------


@pytest.mark.parametrize("grain", ["day", "month"])
def test_with_teams_the_team_columns_are_filled_and_the_sums_still_match(
    cli, fetch_months, isolated, grain
):
    events = mixed_events()
    fetch_months(events, [OCT, NOV])
    users = sorted({e["userEmail"] for e in events if on_demand(e)})
    team_of = {user: ("Platform" if index % 2 else "Apps") for index, user in enumerate(users[1:])}
    (isolated / "teams.csv").write_text(
        "email,team\n" + "".join(f"{u},{t}\n" for u, t in team_of.items())
    )
    with (isolated / "config.yaml").open("a") as config:
        config.write("  teams_file: teams.csv\n")
    totals = analysis(cli)["summary"]["totals_by_basis"]

    _, rows = exported(cli, "--grain", grain)
    _, charges = exported(cli, "--format", "focus")

    for row in rows:
        assert row["team"] == team_of.get(row["user"], "Unassigned")
    for charge in charges:
        expected = team_of.get(charge["ResourceId"], "Unassigned")
        assert charge["SubAccountId"] == charge["SubAccountName"] == expected
    charged = sum(usd_to_cents(r["charged_cost_usd"]) for r in rows)
    listed = sum(usd_to_cents(r["list_cost_usd"]) for r in rows if r["list_cost_usd"])
    assert charged.quantize(JSON_QUANTUM) == totals["charged"]
    assert listed.quantize(JSON_QUANTUM) == totals["list"]
    billed = sum(usd_to_cents(r["BilledCost"]) for r in charges)
    assert billed == charged


def test_an_anonymized_export_holds_no_e_mail(cli, fetch_months, isolated):
    events = mixed_events()
    fetch_months(events, [OCT, NOV])
    emails = {e["userEmail"] for e in events if on_demand(e)}

    for export_format in ("csv", "focus"):
        result = cli("export", "--format", export_format, "--anonymize")
        assert result.exit_code == 0, result.stderr
        assert "@" not in result.stdout
        assert not any(email in result.stdout for email in emails)
        rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
        names = {r.get("user") or r["ResourceId"] for r in rows}
        assert all(re.fullmatch(r"user-[0-9a-f]{10}", name) for name in names)
        assert len(names) == len(emails)  # one stable pseudonym per person
    again = cli("export", "--anonymize").stdout
    assert again == cli("export", "--anonymize").stdout
