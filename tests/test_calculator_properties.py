"""Properties of the report on random caches: every way of cutting the money adds up to the same
total, deltas chain, lists are ranked, and the order in which months are added does not matter."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cursor_billing.events import UsageEvent
from cursor_billing.months import Month
from cursor_billing.render.json import analysis_document
from cursor_billing.views.report import BillingReport
from tests.helpers import ReportBuilder

USERS = ["ann@x.com", "bob@x.com", "cy@x.com", "dee@x.com"]
MODELS = ["opus", "sonnet", "gpt-5", "default"]
KINDS = ["Usage-based", "On-Demand", "USAGE_EVENT_KIND_USAGE_BASED", "Included in Business"]

money = st.decimals(min_value=0, max_value=100_000, places=6, allow_nan=False, allow_infinity=False)
maybe_money = st.one_of(st.none(), money, money.map(str))


@st.composite
def raw_events(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "userEmail": draw(st.sampled_from(USERS)),
        "model": draw(st.sampled_from(MODELS)),
        "kind": draw(st.sampled_from(KINDS)),
        "isChargeable": draw(st.booleans()),
        "isTokenBasedCall": draw(st.booleans()),
        "cursorTokenFee": draw(maybe_money),
        "chargedCents": draw(maybe_money),
    }
    if draw(st.booleans()):
        counts = st.integers(min_value=0, max_value=10**7)
        raw["tokenUsage"] = {
            "inputTokens": draw(counts),
            "outputTokens": draw(counts),
            "cacheWriteTokens": draw(counts),
            "cacheReadTokens": draw(counts),
            "totalCents": draw(maybe_money),
        }
    return raw


caches = st.dictionaries(
    st.integers(min_value=0, max_value=35).map(lambda n: Month(2024 + n // 12, n % 12 + 1).label),
    st.tuples(st.booleans(), st.lists(raw_events(), max_size=20)),
    min_size=1,
    max_size=5,
)
options = st.fixed_dictionaries(
    {
        "cost_basis": st.sampled_from(["list", "charged"]),
        "expensive_models_count": st.integers(min_value=0, max_value=5),
        "expensive_models": st.lists(st.sampled_from(MODELS + ["unused"]), max_size=3),
    }
)


def build(cache: dict[str, tuple[bool, list[dict]]], labels: list[str], **kwargs) -> BillingReport:
    calculator = ReportBuilder(**kwargs)
    for label in labels:
        complete, events = cache[label]
        calculator.add_month(label, complete, [UsageEvent.from_raw(raw) for raw in events])
    return calculator.report()


@settings(max_examples=100, deadline=None)
@given(cache=caches, kwargs=options)
def test_every_cut_of_the_money_adds_up_and_deltas_chain(cache, kwargs):
    report = build(cache, list(cache), **kwargs)
    summary = report.summary
    billable = [
        event
        for _, events in cache.values()
        for event in map(UsageEvent.from_raw, events)
        if event.billable(kwargs["cost_basis"])
    ]
    total = sum((event.cost_cents(kwargs["cost_basis"]) for event in billable), Decimal(0))
    assert summary.total_cost_cents == total
    assert summary.total_requests == len(billable)

    for rows in (
        report.users,
        report.models,
        report.month_models,
        report.month_users,
        report.monthly_trend,
    ):
        assert sum((row.cost_cents for row in rows), Decimal(0)) == total
        assert sum(row.requests for row in rows) == len(billable)

    assert report.months == tuple(sorted(map(Month.parse, cache)))
    for trend in report.monthly_trend:
        month = trend.month
        assert trend.complete == cache[month.label][0]
        for rows in (report.users, report.models):
            assert sum((row.by_month[month] for row in rows), Decimal(0)) == trend.cost_cents
        assert (
            sum((row.cost_cents for row in report.month_models if row.month == month), Decimal(0))
            == trend.cost_cents
        )
    for row in (*report.users, *report.models):
        assert list(row.by_month) == list(report.months)
        assert sum(row.by_month.values(), Decimal(0)) == row.cost_cents
    assert sum(model.tokens.total for model in report.models) == sum(
        row.tokens.total for row in report.month_models
    )

    # The deltas chain from the first month to the last.
    trend = report.monthly_trend
    assert trend[0].delta_cents is None and trend[0].delta_pct is None
    deltas = [row.delta_cents for row in trend[1:]]
    assert sum(deltas, Decimal(0)) == trend[-1].cost_cents - trend[0].cost_cents
    for previous, row in zip(trend[:-1], trend[1:], strict=True):
        assert row.delta_cents == row.cost_cents - previous.cost_cents
        assert (row.delta_pct is None) == (previous.cost_cents == 0)


@settings(max_examples=100, deadline=None)
@given(cache=caches, kwargs=options, seed=st.integers())
def test_rankings_and_order_of_months(cache, kwargs, seed):
    labels = list(cache)
    random.Random(seed).shuffle(labels)
    report = build(cache, labels, **kwargs)
    assert report == build(cache, sorted(labels, key=Month.parse), **kwargs)

    def ranked(rows, name):
        keys = [(-row.cost_cents, getattr(row, name)) for row in rows]
        return keys == sorted(keys) and len(set(keys)) == len(keys)

    assert ranked(report.users, "email")
    assert ranked(report.models, "model")
    for model in report.expensive_models:
        assert ranked(model.users, "email")
        assert sum((user.cost_cents for user in model.users), Decimal(0)) == model.cost_cents
    for month in report.months:
        assert ranked([row for row in report.month_models if row.month == month], "model")
        assert ranked([row for row in report.month_users if row.month == month], "email")
    for user in report.users:
        assert 0 <= user.expensive_share <= 1
    listed = kwargs["expensive_models"]
    names = [model.model for model in report.expensive_models]
    if listed:
        assert set(names) == set(listed) & {model.model for model in report.models}
    else:
        assert len(names) == min(kwargs["expensive_models_count"], len(report.models))


@settings(max_examples=100, deadline=None)
@given(cache=caches, kwargs=options)
def test_json_numbers_match_the_decimals_to_six_places(cache, kwargs):
    report = build(cache, list(cache), **kwargs)
    document = json.loads(json.dumps(analysis_document(report)))
    quantum = Decimal("0.000001")
    assert Decimal(repr(document["summary"]["total_cost_cents"])) == (
        report.summary.total_cost_cents.quantize(quantum)
    )
    for row, user in zip(document["users"], report.users, strict=True):
        assert row["email"] == user.email
        assert Decimal(repr(row["cost_cents"])) == user.cost_cents.quantize(quantum)
        assert list(row["by_month"]) == [month.label for month in report.months]
