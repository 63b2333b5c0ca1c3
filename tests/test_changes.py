""" "What changed" (SPEC §8): plain sentences from small reports built by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from msgspec.structs import replace

from cursor_billing.render.text import headline
from cursor_billing.views.changes import what_changed
from cursor_billing.views.checks import Anomaly, BudgetResult
from tests.helpers import usage_event
from tests.test_dashboard import at, report_of


def test_a_complete_month_names_its_change_and_who_and_what_drove_it():
    report = report_of(
        {
            "01-2026": [
                usage_event(
                    at("01-2026", 2), email="ana@example.com", model="gpt-5", cents=1000, fee=0
                ),
                usage_event(
                    at("01-2026", 3), email="bo@example.com", model="gpt-5", cents=500, fee=0
                ),
            ],
            "02-2026": [
                usage_event(
                    at("02-2026", 2), email="ana@example.com", model="opus", cents=3000, fee=0
                ),
                usage_event(
                    at("02-2026", 3), email="bo@example.com", model="gpt-5", cents=400, fee=0
                ),
                usage_event(
                    at("02-2026", 4), email="cy@example.com", model="gpt-5", cents=800, fee=0
                ),
            ],
        }
    )
    assert what_changed(report) == (
        "February 2026: $42.00, +180.0% (+$27.00) on January 2026.",
        "Most of the change up: ana@example.com (+$20.00), cy@example.com (+$8.00).",
        "By model: opus (+$30.00).",
        "New big spender in February 2026: cy@example.com ($8.00), with nothing in January 2026.",
    )


def test_a_month_in_progress_names_its_leaders_budgets_and_spikes():
    report = report_of(
        {
            "01-2026": [usage_event(at("01-2026", 2), email="ana@example.com", cents=1000, fee=0)],
            "02-2026": [usage_event(at("02-2026", 2), email="ana@example.com", cents=300, fee=0)],
        },
        partial=("02-2026",),
    )
    report = replace(
        report,
        budgets=(
            BudgetResult("total", None, Decimal(50_000), Decimal(300), Decimal(2_000), "ok"),
            BudgetResult(
                "user",
                "ana@example.com",
                Decimal(1000),
                Decimal(300),
                Decimal(1_500),
                "forecast_over",
            ),
        ),
        anomalies=(
            Anomaly(
                "ana@example.com",
                date(2026, 2, 2),
                Decimal(300),
                Decimal(20),
                Decimal(15),
                "ana@example.com spent $3.00 on 2026-02-02, 15.0× her usual $0.20 a day",
            ),
        ),
    )
    sentences = what_changed(report)
    assert sentences[0] == "February 2026 so far: $3.00."  # never "-70%" for a few days
    assert sentences[1] == "Spending most in February 2026: ana@example.com ($3.00, 100%)."
    assert sentences[-2] == (
        "One spending spike: ana@example.com spent $3.00 on 2026-02-02,"
        " 15.0× her usual $0.20 a day."
    )
    assert sentences[-1] == (
        "ana@example.com is on pace to go over: $3.00 spent, $15 projected, of $10."
    )
    assert 3 <= len(sentences) <= 6


def test_budgets_on_track_and_the_first_month():
    report = report_of({"01-2026": [usage_event(at("01-2026", 2), cents=1000, fee=0)]})
    report = replace(
        report,
        budgets=(BudgetResult("total", None, Decimal(50_000), Decimal(1000), Decimal(1000), "ok"),),
    )
    assert what_changed(report) == (
        "January 2026: $10.00, the first month analyzed.",
        "Spending most in January 2026: ada@example.com ($10.00, 100%).",
        "Top models in January 2026: claude-4.5-sonnet ($10.00).",
        "All 1 budget on track.",
    )


def test_headline_without_forecast_and_with_one_month():
    report = report_of(
        {"01-2026": [usage_event(at("01-2026", 2), cents=1000, fee=0)]}, partial=("01-2026",)
    )
    assert headline(report) == "On-demand spend 01-2026 so far $10.00 (list price)."
    report = report_of({"01-2026": [usage_event(at("01-2026", 2), cents=1000, fee=0)]})
    assert headline(report) == "On-demand spend 01-2026: $10.00 (list price)."
