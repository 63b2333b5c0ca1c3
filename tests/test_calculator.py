"""The cost maths of SPEC §7 on small hand-computed caches: every metric, every tie-break."""

from __future__ import annotations

import decimal
import json
import subprocess
import sys
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from cursor_billing.errors import UsageError
from cursor_billing.events import UsageEvent
from cursor_billing.render.json import analysis_document, json_number
from cursor_billing.views.report import BillingReport, TokenCounts
from tests.helpers import ReportBuilder, labelled


def raw_event(
    email: str = "alice@example.com",
    model: str = "claude-4.5-sonnet",
    cents: Any = 1,
    fee: Any = None,
    **fields: Any,
) -> dict[str, Any]:
    """A billable event as the API sends it; `fields` override or add keys (None drops one)."""
    raw: dict[str, Any] = {
        "timestamp": "1767225600000",
        "userEmail": email,
        "model": model,
        "kind": "Usage-based",
        "isChargeable": True,
        "isTokenBasedCall": True,
        "tokenUsage": {"inputTokens": 0, "outputTokens": 0, "totalCents": cents},
        "serviceAccountId": "null",
    }
    if fee is not None:
        raw["cursorTokenFee"] = fee
    raw.update(fields)
    return {key: value for key, value in raw.items() if value is not None}


def event(*args: Any, **kwargs: Any) -> UsageEvent:
    return UsageEvent.from_raw(raw_event(*args, **kwargs))


def tokens(cents: Any, input: int = 0, output: int = 0, write: int = 0, read: int = 0) -> dict:
    return {
        "inputTokens": input,
        "outputTokens": output,
        "cacheWriteTokens": write,
        "cacheReadTokens": read,
        "totalCents": cents,
    }


def report_of(*months: tuple[str, bool, list[UsageEvent]], **options: Any) -> BillingReport:
    calculator = ReportBuilder(**options)
    for label, complete, events in months:
        calculator.add_month(label, complete, events)
    return calculator.report()


def one_month(*events: UsageEvent, **options: Any) -> BillingReport:
    return report_of(("01-2026", True, list(events)), **options)


# The fixture of test_full_document, computed by hand:
#   01-2026 alice: opus 30 + fee 0.5; sonnet 10; sonnet 12.25 → 52.75 (3 requests)
#           bob:   sonnet 5 + fee 0.25 → 5.25; an included event that does not count
#   02-2026 bob: opus 40; carol: gpt 1.5 twice; alice: a non-token-based call that does not count
#   03-2026 nothing billable (an errored event)
def fixture_months() -> list[tuple[str, bool, list[UsageEvent]]]:
    return [
        (
            "01-2026",
            True,
            [
                event("alice@x.com", "opus", fee=0.5, tokenUsage=tokens(30, 100, 50, 10, 1000)),
                event("alice@x.com", "sonnet", tokenUsage=tokens(10, 200, 20)),
                event("alice@x.com", "sonnet", tokenUsage=tokens(12.25, 10)),
                event("bob@x.com", "sonnet", fee=0.25, tokenUsage=tokens(5, output=5)),
                event("bob@x.com", "sonnet", 99, kind="Included in Business"),
            ],
        ),
        (
            "02-2026",
            False,
            [
                event("bob@x.com", "opus", tokenUsage=tokens(40, read=500)),
                event("carol@x.com", "gpt", tokenUsage=tokens(1.5, 30)),
                event("carol@x.com", "gpt", tokenUsage=tokens(1.5, 30)),
                event("alice@x.com", "sonnet", 7, isTokenBasedCall=False),
            ],
        ),
        ("03-2026", False, [event("bob@x.com", "opus", 3, kind="Errored, Not Charged")]),
    ]


EXPECTED_DOCUMENT = {
    "schema_version": 1,
    "timezone": "Europe/Berlin",
    "cost_basis": "list",
    "months": ["01-2026", "02-2026", "03-2026"],
    "summary": {
        "total_cost_cents": 101.0,
        "total_requests": 7,
        "months_analyzed": 3,
        "current_month": "03-2026",
        "current_month_cost_cents": 0.0,
        "costliest_model": "opus",
        "top_spender": "alice@x.com",
    },
    "monthly_trend": [
        {
            "month": "01-2026",
            "cost_cents": 58.0,
            "requests": 4,
            "delta_cents": None,
            "delta_pct": None,
            "complete": True,
        },
        {
            "month": "02-2026",
            "cost_cents": 43.0,
            "requests": 3,
            "delta_cents": -15.0,
            "delta_pct": -25.862069,  # -15 / 58
            "complete": False,
        },
        {
            "month": "03-2026",
            "cost_cents": 0.0,
            "requests": 0,
            "delta_cents": -43.0,
            "delta_pct": -100.0,
            "complete": False,
        },
    ],
    "users": [
        {
            "email": "alice@x.com",
            "cost_cents": 52.75,
            "requests": 3,
            "avg_cost_cents": 17.583333,
            "top_model": "sonnet",
            "expensive_share": 0.578199,  # 30.5 / 52.75
            "expensive_months": 1,  # opus in January
            "by_month": {"01-2026": 52.75, "02-2026": 0.0, "03-2026": 0.0},
        },
        {
            "email": "bob@x.com",
            "cost_cents": 45.25,
            "requests": 2,
            "avg_cost_cents": 22.625,
            "top_model": "opus",  # one request each: the higher cost wins
            "expensive_share": 0.883978,  # 40 / 45.25
            "expensive_months": 1,  # opus in February
            "by_month": {"01-2026": 5.25, "02-2026": 40.0, "03-2026": 0.0},
        },
        {
            "email": "carol@x.com",
            "cost_cents": 3.0,
            "requests": 2,
            "avg_cost_cents": 1.5,
            "top_model": "gpt",
            "expensive_share": 0.0,
            "expensive_months": 0,
            "by_month": {"01-2026": 0.0, "02-2026": 3.0, "03-2026": 0.0},
        },
    ],
    "models": [
        {
            "model": "opus",
            "cost_cents": 70.5,
            "requests": 2,
            "avg_cost_cents": 35.25,
            "unique_users": 2,
            "tokens": {
                "input": 100,
                "output": 50,
                "cache_write": 10,
                "cache_read": 1500,
                "total": 1660,
            },
            "by_month": {"01-2026": 30.5, "02-2026": 40.0, "03-2026": 0.0},
        },
        {
            "model": "sonnet",
            "cost_cents": 27.5,
            "requests": 3,
            "avg_cost_cents": 9.166667,
            "unique_users": 2,
            "tokens": {"input": 210, "output": 25, "cache_write": 0, "cache_read": 0, "total": 235},
            "by_month": {"01-2026": 27.5, "02-2026": 0.0, "03-2026": 0.0},
        },
        {
            "model": "gpt",
            "cost_cents": 3.0,
            "requests": 2,
            "avg_cost_cents": 1.5,
            "unique_users": 1,
            "tokens": {"input": 60, "output": 0, "cache_write": 0, "cache_read": 0, "total": 60},
            "by_month": {"01-2026": 0.0, "02-2026": 3.0, "03-2026": 0.0},
        },
    ],
    "expensive_models": [
        {
            "model": "opus",
            "avg_cost_cents": 35.25,
            "cost_cents": 70.5,
            "users": [
                {"email": "bob@x.com", "cost_cents": 40.0, "requests": 1},
                {"email": "alice@x.com", "cost_cents": 30.5, "requests": 1},
            ],
        }
    ],
    "month_models": [
        {"month": "01-2026", "model": "opus", "cost_cents": 30.5, "requests": 1, "tokens": 1160},
        {"month": "01-2026", "model": "sonnet", "cost_cents": 27.5, "requests": 3, "tokens": 235},
        {"month": "02-2026", "model": "opus", "cost_cents": 40.0, "requests": 1, "tokens": 500},
        {"month": "02-2026", "model": "gpt", "cost_cents": 3.0, "requests": 2, "tokens": 60},
    ],
    "month_users": [
        {
            "month": "01-2026",
            "email": "alice@x.com",
            "cost_cents": 52.75,
            "requests": 3,
            "top_model": "sonnet",
        },
        {
            "month": "01-2026",
            "email": "bob@x.com",
            "cost_cents": 5.25,
            "requests": 1,
            "top_model": "sonnet",
        },
        {
            "month": "02-2026",
            "email": "bob@x.com",
            "cost_cents": 40.0,
            "requests": 1,
            "top_model": "opus",
        },
        {
            "month": "02-2026",
            "email": "carol@x.com",
            "cost_cents": 3.0,
            "requests": 2,
            "top_model": "gpt",
        },
    ],
}


# Keys schema 2 added (SPEC §7); every key of schema 1 keeps its value.
SCHEMA_2_KEYS = (
    "as_of",
    "anonymized",
    "forecast",
    "daily",
    "teams",
    "sources",
    "anomalies",
    "budgets",
)


def schema_1_part(document: dict) -> dict:
    part = {key: value for key, value in document.items() if key not in SCHEMA_2_KEYS}
    part.pop("month_teams")
    part["schema_version"] = 1
    part["summary"] = {
        k: v for k, v in part["summary"].items() if k not in ("totals_by_basis", "not_counted")
    }
    part["monthly_trend"] = [
        {k: v for k, v in row.items() if k not in ("delta_basis", "status", "source")}
        for row in part["monthly_trend"]
    ]
    part["users"] = [{k: v for k, v in row.items() if k != "team"} for row in part["users"]]
    return part


def test_full_document():
    report = report_of(*fixture_months(), expensive_models_count=1, timezone="Europe/Berlin")
    document = analysis_document(report)
    assert schema_1_part(document) == EXPECTED_DOCUMENT
    assert document["schema_version"] == 2
    assert document["anonymized"] is False
    assert document["as_of"] == "2026-03-31T21:59:59Z"  # the end of 03-2026 in Berlin
    # list: 101 as above; charged: alice's non-token-based call (7 cents) counts too
    assert document["summary"]["totals_by_basis"] == {"list": 101.0, "charged": 108.0}
    assert document["summary"]["not_counted"] == {"events": 1, "charged_cents": 7.0}
    assert [row["status"] for row in document["monthly_trend"]] == [
        "complete",
        "in_progress",
        "in_progress",
    ]
    assert {row["delta_basis"] for row in document["monthly_trend"]} == {"month"}
    assert {user["team"] for user in document["users"]} == {None}
    assert document["forecast"] is None and document["teams"] is None
    assert document["anomalies"] == [] and document["month_teams"] is None
    assert document["sources"] == [
        {"source": "human", "cost_cents": 101.0, "requests": 7, "users": 3}
    ]
    assert len(document["daily"]) == 31 + 28 + 31


def test_document_survives_json_and_msgspec_encoders():
    document = analysis_document(report_of(*fixture_months(), expensive_models_count=1))
    assert json.loads(json.dumps(document)) == document
    assert msgspec.json.decode(msgspec.json.encode(document)) == document


def test_decimal_document_keeps_money_exact():
    months = fixture_months()
    document = analysis_document(report_of(*months, expensive_models_count=1), decimals=True)
    assert document["summary"]["total_cost_cents"] == Decimal("101")
    assert document["users"][0]["avg_cost_cents"] == Decimal("17.583333")
    assert document["monthly_trend"][0]["delta_pct"] is None
    encoder = msgspec.json.Encoder(decimal_format="number")
    text = encoder.encode(document).decode()
    assert '"total_cost_cents":101,' in text
    assert '"avg_cost_cents":17.583333,' in text
    floats = analysis_document(report_of(*fixture_months(), expensive_models_count=1))
    assert json.loads(text) == floats


def test_report_dataclasses_read_naturally():
    report = report_of(*fixture_months(), expensive_models_count=1)
    assert labelled(report.months) == ("01-2026", "02-2026", "03-2026")
    assert labelled(report.partial_months) == ("02-2026", "03-2026")
    assert [row.partial for row in report.monthly_trend] == [False, True, True]
    assert report.has_usage
    alice = report.users[0]
    assert alice.cost_cents == Decimal("52.75")
    assert alice.expensive_cost_cents == Decimal("30.5")
    assert labelled(alice.by_month) == {
        "01-2026": Decimal("52.75"),
        "02-2026": Decimal(0),
        "03-2026": Decimal(0),
    }
    assert list(alice.by_month) == list(report.months)
    opus = report.models[0]
    assert opus.tokens == TokenCounts(input=100, output=50, cache_write=10, cache_read=1500)
    assert opus.tokens.total == 1660
    assert report.month_models[0].tokens.total == 1160
    assert report.summary.current_month_cost_cents == 0
    assert report.expensive_models[0].requests == 2


# --- cost and billable -------------------------------------------------------------------


def test_list_cost_is_total_cents_plus_fee():
    report = one_month(event(cents=20.18232, fee=0.012345, chargedCents=3))
    assert report.summary.total_cost_cents == Decimal("20.194665")


@pytest.mark.parametrize(
    ("fields", "cost"),
    [
        ({"tokenUsage": None, "cursorTokenFee": 0.25}, "0.25"),  # no tokenUsage: the fee only
        ({"tokenUsage": None}, "0"),
        ({"tokenUsage": {"inputTokens": 5}}, "0"),  # no totalCents
        ({"cursorTokenFee": "null"}, "1"),  # the literal string "null"
        ({"cursorTokenFee": None}, "1"),
        ({"cursorTokenFee": "0.5"}, "1.5"),  # a number sent as a string
        ({"cursorTokenFee": True}, "1"),
        ({"tokenUsage": {"totalCents": "null"}}, "0"),
    ],
)
def test_missing_or_odd_numbers_count_as_zero(fields, cost):
    report = one_month(event(cents=1, **fields))
    assert report.summary.total_cost_cents == Decimal(cost)
    assert report.summary.total_requests == 1


def test_charged_basis_uses_charged_cents_and_falls_back_to_list():
    events = [
        event("a@x.com", cents=10, fee=1, chargedCents=7.5),
        event("a@x.com", cents=10, fee=1),  # no chargedCents: 10 + 1
        event("b@x.com", cents=4, chargedCents=0),  # charged 0 is a real 0, not missing
    ]
    charged = one_month(*events, cost_basis="charged")
    assert charged.cost_basis == "charged"
    assert charged.summary.total_cost_cents == Decimal("18.5")
    assert [u.cost_cents for u in charged.users] == [Decimal("18.5"), Decimal(0)]
    listed = one_month(*events, cost_basis="list")
    assert listed.summary.total_cost_cents == Decimal(26)
    assert analysis_document(charged)["cost_basis"] == "charged"


@pytest.mark.parametrize(
    "kind",
    ["Usage-based", "usage-based", "USAGE-BASED", "On-Demand", "USAGE_EVENT_KIND_USAGE_BASED"],
)
def test_on_demand_kinds_count(kind):
    report = one_month(event(cents=2, kind=kind))
    assert report.summary.total_requests == 1
    assert report.summary.total_cost_cents == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "Included in Business"},
        {"kind": "Included in Pro"},
        {"kind": "Errored, Not Charged"},
        {"kind": "User API Key"},
        {"kind": None},
        {"isTokenBasedCall": False},
        {"isTokenBasedCall": None},
        {"isTokenBasedCall": "true"},
        {"isChargeable": False},
        {"isChargeable": None},
    ],
)
def test_events_that_are_not_billable_do_not_count(fields):
    odd = event("odd@x.com", "odd-model", 50, **fields)
    assert not odd.billable()
    report = one_month(odd, event("a@x.com", "m", 1))
    assert report.summary.total_cost_cents == 1
    assert report.summary.total_requests == 1
    assert [u.email for u in report.users] == ["a@x.com"]
    assert [m.model for m in report.models] == ["m"]


def test_tokens_are_the_four_buckets_and_missing_ones_are_zero():
    report = one_month(
        event(tokenUsage={"inputTokens": 1, "outputTokens": 2, "totalCents": 1}),
        event(tokenUsage={"cacheWriteTokens": 4, "cacheReadTokens": 8}),
        event(tokenUsage=None, cursorTokenFee=1),
    )
    model = report.models[0]
    assert model.tokens == TokenCounts(1, 2, 4, 8)
    assert analysis_document(report)["models"][0]["tokens"]["total"] == 15
    assert analysis_document(report)["month_models"][0]["tokens"] == 15
    assert model.requests == 3


def test_sums_are_exact_decimals():
    events = [event(cents=0.1) for _ in range(5000)] + [event(cents=0.2) for _ in range(5000)]
    events += [event(cents="0.000001") for _ in range(1000)]
    report = one_month(*events)
    assert report.summary.total_cost_cents == Decimal("1500.001")
    assert analysis_document(report)["summary"]["total_cost_cents"] == 1500.001


def test_sums_ignore_a_coarse_thread_decimal_context():
    events = [event(cents="123456.123456"), event(cents="0.000001")]
    with decimal.localcontext() as context:
        context.prec = 4
        report = one_month(*events)
    assert report.summary.total_cost_cents == Decimal("123456.123457")
    assert report.users[0].avg_cost_cents == Decimal("61728.0617285")


def test_money_in_json_is_rounded_to_six_decimals_without_drift():
    assert json_number(Decimal("0.1") + Decimal("0.2")) == 0.3
    assert json_number(Decimal("123456789.123456")) == 123456789.123456
    assert repr(json_number(Decimal("123456789.123456"))) == "123456789.123456"
    assert json_number(Decimal("2") / 3) == 0.666667
    assert json_number(Decimal("-0.0000001")) == 0.0
    assert repr(json_number(Decimal("-0.0000001"))) == "0.0"  # never -0.0
    assert json_number(None) is None


# --- rankings and tie-breaks --------------------------------------------------------------


def test_top_model_is_most_requests_then_higher_cost_then_name():
    report = one_month(
        # a: m-cheap has more requests than m-pricey
        event("a@x.com", "m-cheap", 1),
        event("a@x.com", "m-cheap", 1),
        event("a@x.com", "m-pricey", 100),
        # b: same requests, higher cost wins
        event("b@x.com", "m-one", 1),
        event("b@x.com", "m-two", 2),
        # c: same requests and cost: alphabetical
        event("c@x.com", "zeta", 5),
        event("c@x.com", "alpha", 5),
    )
    top = {user.email: user.top_model for user in report.users}
    assert top == {"a@x.com": "m-cheap", "b@x.com": "m-two", "c@x.com": "alpha"}
    assert {row.email: row.top_model for row in report.month_users} == top


def test_month_top_model_is_per_month():
    report = report_of(
        ("01-2026", True, [event("a@x.com", "x", 1), event("a@x.com", "x", 1)]),
        ("02-2026", True, [event("a@x.com", "y", 1)] * 3),
    )
    assert labelled([(row.month, row.top_model) for row in report.month_users]) == [
        ("01-2026", "x"),
        ("02-2026", "y"),
    ]
    assert report.users[0].top_model == "y"


def test_lists_are_ranked_by_cost_then_name():
    report = one_month(
        event("zed@x.com", "model-b", 5),
        event("amy@x.com", "model-a", 5),
        event("bea@x.com", "model-c", 9),
        event("amy@x.com", "model-d", 0),
    )
    assert [(u.email, u.cost_cents) for u in report.users] == [
        ("bea@x.com", 9),
        ("amy@x.com", 5),
        ("zed@x.com", 5),
    ]
    assert [m.model for m in report.models] == ["model-c", "model-a", "model-b", "model-d"]
    assert [row.model for row in report.month_models] == [m.model for m in report.models]
    assert [row.email for row in report.month_users] == [u.email for u in report.users]
    assert report.summary.costliest_model == "model-c"
    assert report.summary.top_spender == "bea@x.com"


def test_costliest_and_top_spender_break_ties_alphabetically():
    report = one_month(event("b@x.com", "m2", 3), event("a@x.com", "m1", 3))
    assert report.summary.costliest_model == "m1"
    assert report.summary.top_spender == "a@x.com"


def test_month_lists_are_chronological_then_ranked():
    report = report_of(
        ("02-2026", True, [event("a@x.com", "cheap", 1), event("b@x.com", "dear", 9)]),
        ("12-2025", True, [event("a@x.com", "cheap", 4)]),
        ("01-2026", True, [event("b@x.com", "dear", 2), event("a@x.com", "cheap", 3)]),
    )
    assert labelled(report.months) == ("12-2025", "01-2026", "02-2026")
    assert labelled([(row.month, row.model) for row in report.month_models]) == [
        ("12-2025", "cheap"),
        ("01-2026", "cheap"),
        ("01-2026", "dear"),
        ("02-2026", "dear"),
        ("02-2026", "cheap"),
    ]
    assert labelled([(row.month, row.email) for row in report.month_users]) == [
        ("12-2025", "a@x.com"),
        ("01-2026", "a@x.com"),
        ("01-2026", "b@x.com"),
        ("02-2026", "b@x.com"),
        ("02-2026", "a@x.com"),
    ]
    assert labelled(list(report.users[0].by_month)) == ["12-2025", "01-2026", "02-2026"]


# --- expensive models ---------------------------------------------------------------------


def expensive_fixture() -> list[UsageEvent]:
    # avg per request: big 50 (one request), huge 50 (two requests → higher total), mid 10,
    # alt 10 (same avg and total as mid: name decides), tiny 1
    return [
        event("a@x.com", "big", 50),
        event("a@x.com", "huge", 40),
        event("b@x.com", "huge", 60),
        event("b@x.com", "mid", 10),
        event("c@x.com", "alt", 10),
        event("c@x.com", "tiny", 1),
    ]


def test_expensive_models_by_average_cost_with_ties():
    report = one_month(*expensive_fixture(), expensive_models_count=4)
    assert [m.model for m in report.expensive_models] == ["huge", "big", "alt", "mid"]
    assert report.expensive_models[0].avg_cost_cents == 50
    assert [(u.email, u.cost_cents) for u in report.expensive_models[0].users] == [
        ("b@x.com", 60),
        ("a@x.com", 40),
    ]
    shares = {user.email: user.expensive_share for user in report.users}
    assert shares == {"a@x.com": 1, "b@x.com": 1, "c@x.com": Decimal(10) / 11}


def test_expensive_models_count_limits_and_zero_means_none():
    report = one_month(*expensive_fixture(), expensive_models_count=1)
    assert [m.model for m in report.expensive_models] == ["huge"]
    assert {u.email: u.expensive_share for u in report.users}["a@x.com"] == Decimal(40) / 90
    none = one_month(*expensive_fixture(), expensive_models_count=0)
    assert none.expensive_models == ()
    assert all(user.expensive_share == 0 for user in none.users)
    everything = one_month(*expensive_fixture(), expensive_models_count=50)
    assert len(everything.expensive_models) == 5


def test_listed_expensive_models_override_the_count_and_unused_ones_are_left_out():
    report = one_month(
        *expensive_fixture(),
        expensive_models=["tiny", "mid", "never-used"],
        expensive_models_count=1,
    )
    assert [m.model for m in report.expensive_models] == ["mid", "tiny"]  # ranked by average
    shares = {user.email: user.expensive_share for user in report.users}
    assert shares == {"a@x.com": 0, "b@x.com": Decimal(10) / 70, "c@x.com": Decimal(1) / 11}


def test_expensive_share_is_zero_when_the_user_spent_nothing():
    report = one_month(event("free@x.com", "m", 0), expensive_models_count=1)
    assert report.expensive_models[0].model == "m"
    assert report.users[0].expensive_share == 0
    assert report.users[0].avg_cost_cents == 0


# --- months -------------------------------------------------------------------------------


def test_months_without_billable_events_still_count():
    report = report_of(
        ("01-2026", True, []),
        ("02-2026", True, [event(cents=10)]),
        ("03-2026", False, [event(cents=4, isChargeable=False)]),
    )
    assert labelled(report.months) == ("01-2026", "02-2026", "03-2026")
    trend = report.monthly_trend
    assert [(row.cost_cents, row.requests) for row in trend] == [(0, 0), (10, 1), (0, 0)]
    assert trend[0].delta_cents is None and trend[0].delta_pct is None
    assert trend[1].delta_cents == 10 and trend[1].delta_pct is None  # previous month cost 0
    assert trend[2].delta_cents == -10 and trend[2].delta_pct == -100
    assert [row.complete for row in trend] == [True, True, False]
    assert labelled(report.summary.current_month) == "03-2026"
    assert report.summary.current_month_cost_cents == 0
    assert report.summary.months_analyzed == 3
    assert labelled(report.users[0].by_month) == {"01-2026": 0, "02-2026": 10, "03-2026": 0}
    assert labelled(report.models[0].by_month) == {"01-2026": 0, "02-2026": 10, "03-2026": 0}
    assert labelled([row.month for row in report.month_models]) == ["02-2026"]


def test_delta_pct_is_in_percent():
    report = report_of(
        ("11-2025", True, [event(cents=8)]),
        ("12-2025", True, [event(cents=10)]),
        ("01-2026", True, [event(cents=5)]),
    )
    assert [row.delta_pct for row in report.monthly_trend] == [None, 25, -50]
    assert [row.delta_cents for row in report.monthly_trend] == [None, 2, -5]


def test_nothing_billable_gives_nulls():
    report = report_of(("01-2026", False, [event(isChargeable=False)]))
    document = analysis_document(report)
    assert document["summary"] == {
        "total_cost_cents": 0.0,
        "total_requests": 0,
        "months_analyzed": 1,
        "current_month": "01-2026",
        "current_month_cost_cents": 0.0,
        "costliest_model": None,
        "top_spender": None,
        "totals_by_basis": {"list": 0.0, "charged": 0.0},
        "not_counted": {"events": 0, "charged_cents": 0.0},
    }
    for key in ("users", "models", "expensive_models", "month_models", "month_users"):
        assert document[key] == []
    assert document["monthly_trend"][0]["complete"] is False
    assert not report.has_usage


def test_no_months_at_all():
    report = ReportBuilder().report()
    assert report.months == ()
    assert report.summary.current_month is None
    assert analysis_document(report)["monthly_trend"] == []


def test_month_labels_are_validated_and_added_once():
    calculator = ReportBuilder()
    with pytest.raises(UsageError):
        calculator.add_month("13-2026", True, [])  # YYYY-MM is a month too (SPEC §2)
    calculator.add_month("01-2026", True, [])
    with pytest.raises(ValueError, match="already added"):
        calculator.add_month("01-2026", True, [])


def test_options_are_validated():
    with pytest.raises(ValueError, match="cost_basis"):
        ReportBuilder(cost_basis="net").report()
    with pytest.raises(ValueError, match="expensive_models_count"):
        ReportBuilder(expensive_models_count=-1)


def test_events_can_be_any_iterable_consumed_once():
    calculator = ReportBuilder()
    calculator.add_month("01-2026", True, (event(cents=n) for n in range(1, 5)))
    assert calculator.report().summary.total_cost_cents == 10
    assert calculator.report() == calculator.report()


def test_the_core_imports_neither_rich_nor_typer():
    code = (
        "import sys, cursor_billing.ledger, cursor_billing.views.report, "
        "cursor_billing.render.text, cursor_billing.render.json; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer', 'click')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_charged_basis_falls_back_to_list_when_charged_cents_is_not_a_number():
    from cursor_billing.events import UsageEvent
    from tests.helpers import usage_event

    event = UsageEvent.from_raw(usage_event(1, cents=2.5, fee=0.5, chargedCents="null"))
    assert event.cost_cents("charged") == event.cost_cents("list") == Decimal("3.0")


def test_expensive_months_count_the_months_a_user_picked_an_expensive_model():
    report = report_of(
        ("01-2026", True, [event("ann@x.com", "opus"), event("ann@x.com", "gpt")]),
        ("02-2026", True, [event("ann@x.com", "gpt"), event("ben@x.com", "opus")]),
        ("03-2026", True, [event("ann@x.com", "opus"), event("ann@x.com", "opus")]),
        expensive_models=["opus"],
    )
    assert {u.email: u.expensive_months for u in report.users} == {"ann@x.com": 2, "ben@x.com": 1}
