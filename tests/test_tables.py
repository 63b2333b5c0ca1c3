"""Terminal tables: readable at 80 columns without colour, names never read as markup, and the
number formats the tables and the dashboard share."""

from __future__ import annotations

import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from cursor_billing.events import TokenUsage, UsageEvent
from cursor_billing.months import Month
from cursor_billing.render.terminal import (
    analysis_tables,
    expensive_users_table,
    monthly_trend_table,
    top_spenders_table,
)
from cursor_billing.render.text import (
    compact_count,
    count,
    money,
    percent,
    share,
    signed_money,
    size,
    sparkline,
)
from cursor_billing.views.report import BillingReport
from tests.helpers import ReportBuilder

MARKUP_MODEL = "[bold]x[/bold]"
HTML_MODEL = "<script>"
MARKUP_EMAIL = "[red]mallory[/red]@x.com"
MONTHS = ["09-2025", "10-2025", "11-2025", "12-2025", "01-2026", "02-2026"]


def usage(email: str, model: str, cents: str, tokens: int = 1000) -> UsageEvent:
    return UsageEvent(
        userEmail=email,
        model=model,
        kind="Usage-based",
        isChargeable=True,
        isTokenBasedCall=True,
        tokenUsage=TokenUsage(inputTokens=tokens, totalCents=Decimal(cents)),
    )


def busy_report() -> BillingReport:
    """Six months, long e-mails and model names, markup in names, a partial last month."""
    calculator = ReportBuilder(expensive_models_count=5)
    models = [
        "claude-4.5-sonnet-thinking",
        "claude-4.1-opus-max",
        "gpt-5-high",
        "gemini-2.5-pro",
        MARKUP_MODEL,
        HTML_MODEL,
        "default",
    ]
    for index, month in enumerate(MONTHS):
        events = []
        for user in range(30):
            email = f"firstname.lastname{user}@a-rather-long-company-name.example.com"
            for step, model in enumerate(models):
                cents = (user + 1) * (step + 1) * (index + 1) * 1234567 // 1000
                events.append(usage(email, model, f"{cents}.125", tokens=10**6 * (user + 1)))
        events.append(usage(MARKUP_EMAIL, MARKUP_MODEL, "999999999.5"))
        calculator.add_month(month, month != MONTHS[-1], events)
    return calculator.report()


def small_report() -> BillingReport:
    calculator = ReportBuilder(expensive_models_count=1)
    calculator.add_month("01-2026", True, [usage("ann@x.com", "opus", "123456.5")])
    calculator.add_month(
        "02-2026",
        False,
        [usage("ann@x.com", "opus", "50"), usage("bob@x.com", MARKUP_MODEL, "10.255")],
    )
    return calculator.report()


def render(renderables, width: int = 80) -> str:
    console = Console(
        file=io.StringIO(), width=width, record=True, no_color=True, color_system=None
    )
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 100, 160])
def test_analysis_fits_the_terminal(width):
    text = render(analysis_tables(busy_report(), top=10, width=width), width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    for title in ("Monthly trend", "users by on-demand spend", "models by on-demand spend"):
        assert title in text
    assert "Spend on expensive models, by user" in text


def test_key_values_appear_whole_at_80_columns():
    report = busy_report()
    text = render(analysis_tables(report, top=10), width=80)
    trend = report.monthly_trend
    for row in trend:
        assert money(row.cost_cents) in text
    assert signed_money(trend[-1].delta_cents) in text
    assert percent(trend[-1].delta_pct, signed=True) in text
    assert "02-2026 (in progress)" in text
    assert "01-2026 (in progress)" not in text
    for user in report.users[:10]:
        assert money(user.cost_cents) in text
    for model in report.models:
        assert money(model.cost_cents) in text
        assert count(model.requests) in text
    top_user = report.users[0]
    assert money(top_user.expensive_cost_cents) in text
    assert "…" in text  # long e-mails are cut, not wrapped over several lines


def test_names_are_never_markup():
    report = busy_report()
    text = render(analysis_tables(report, top=40, width=160), width=160)
    assert MARKUP_MODEL in text
    assert HTML_MODEL in text
    assert MARKUP_EMAIL in text
    spenders = render([top_spenders_table(small_report(), top=5)])
    assert MARKUP_MODEL in spenders
    assert report.summary.top_spender == MARKUP_EMAIL
    assert MARKUP_EMAIL in render(analysis_tables(report, top=1)[:1])


def test_top_spenders_shows_the_top_n_with_a_monthly_trend():
    report = busy_report()
    text = render([top_spenders_table(report, top=3)])
    assert "Top 3 of 31 users" in text
    assert MARKUP_EMAIL in text
    assert "firstname.lastname29@" in text
    assert "firstname.lastname28@" in text
    assert "firstname.lastname27@" not in text
    assert "Trend = spend per month, 09-2025 to 02-2026" in text
    assert sparkline([report.users[1].by_month[Month.parse(m)] for m in MONTHS]) in text


def test_small_report_renders_money_exactly():
    text = render(analysis_tables(small_report(), top=20))
    assert "$1,234.57" in text  # 123,456.5 cents, half a cent rounds up
    assert "$0.10" in text  # 10.255 cents
    assert "-$1,233.96" in text  # the change: 60.255 - 123,456.5 cents
    assert "-100.0%" in text  # -99.95%
    assert "02-2026 (in progress)" in text


def test_a_report_with_nothing_billable_still_renders():
    calculator = ReportBuilder()
    calculator.add_month("01-2026", True, [])
    text = render(analysis_tables(calculator.report(), top=20))
    assert "No billable on-demand usage in these months." in text
    assert "$0.00" in text
    assert "No spend on expensive models in these months." in render(
        [expensive_users_table(calculator.report(), top=5)]
    )
    assert "No billable" in render([top_spenders_table(calculator.report(), top=5)])
    text = render(analysis_tables(ReportBuilder().report(), top=20))
    assert "On-demand spend" in text


def test_the_month_in_progress_is_explained_in_words():
    text = render([monthly_trend_table(small_report())])
    assert "02-2026 (in progress)" in text
    assert "partial" not in text
    from cursor_billing.ledger import Ledger, fold_month
    from cursor_billing.views.report import billing_report

    zone = ZoneInfo("UTC")
    jan, feb = Month(2026, 1), Month(2026, 2)
    young = Ledger(
        "UTC",
        (
            fold_month(jan, [usage("ann@x.com", "opus", "100")], zone),
            fold_month(feb, [], zone, "in_progress", covered_end_ms=feb.start_ms(zone) + 3600_000),
        ),
    )
    text = render([monthly_trend_table(billing_report(young))])
    assert "02-2026 so far, compared with the same days of the month before" in text
    complete = ReportBuilder()
    complete.add_month("01-2026", True, [usage("a@x.com", "m", "1")])
    assert "in progress" not in render([monthly_trend_table(complete.report())])


def test_expensive_columns_follow_the_width():
    report = busy_report()
    narrow = render([expensive_users_table(report, top=5, width=80)], width=80)
    wide = render([expensive_users_table(report, top=5, width=200)], width=200)
    assert "more expensive model(s)" in narrow
    assert "more expensive model(s)" not in wide
    for model in report.expensive_models:
        assert model.model in wide


# --- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (Decimal(0), "$0.00"),
        (Decimal("123456.5"), "$1,234.57"),
        (Decimal("123456.49"), "$1,234.56"),
        (Decimal("0.5"), "$0.01"),
        (Decimal("0.4999"), "$0.00"),
        (Decimal("-0.001"), "$0.00"),
        (Decimal("-250"), "-$2.50"),
        (Decimal("12345678901"), "$123,456,789.01"),
        (7, "$0.07"),
    ],
)
def test_money(cents, text):
    assert money(cents) == text


def test_signed_money_and_percent():
    assert signed_money(None) == "—"
    assert signed_money(Decimal(150)) == "+$1.50"
    assert signed_money(Decimal(-150)) == "-$1.50"
    assert signed_money(Decimal(0)) == "$0.00"
    assert percent(None) == "—"
    assert percent(Decimal("12.345")) == "12.3%"
    assert percent(Decimal("12.35"), signed=True) == "+12.4%"
    assert percent(Decimal("-0.01"), signed=True) == "0.0%"
    assert percent(Decimal("-25.862069"), signed=True) == "-25.9%"
    assert percent(Decimal("1234.5"), digits=0) == "1,235%"
    assert share(Decimal("0.578199")) == "58%"
    assert share(0) == "0%"


def test_counts_sizes_and_sparklines():
    assert count(0) == "0"
    assert count(1234567) == "1,234,567"
    assert [compact_count(n) for n in (999, 12_345, 4_560_000, 1_200_000_000)] == [
        "999",
        "12.3K",
        "4.56M",
        "1.20B",
    ]
    assert [size(n) for n in (0, 999, 1500, 12_345_678)] == ["0 B", "999 B", "1.5 kB", "12.3 MB"]
    assert sparkline([0, 1, 4, 8]) == "·▁▄█"
    assert sparkline([Decimal(0), Decimal(0)]) == "··"
    assert sparkline([]) == ""
