"""The HTML dashboard (SPEC §8), read back with the standard library's HTML parser: sections,
numbers, escaping, self-containment, partial months, the empty report, size and file mode."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from msgspec import structs

from cursor_billing.events import TokenUsage, UsageEvent
from cursor_billing.months import Month
from cursor_billing.render.html import render_dashboard, write_dashboard
from cursor_billing.render.text import count, money, whole_money
from cursor_billing.views.changes import what_changed
from cursor_billing.views.report import BillingReport
from tests.brief_reports import HOSTILE_MODEL, ODD_EMAILS, brief_report
from tests.helpers import UTC, ReportBuilder, labelled, usage_event

# SPEC §8's order; `teams` only with teams configured.
SECTION_IDS = [
    "summary",
    "monthly-trend",
    "what-changed",
    "top-users",
    "top-models",
    "sources",
    "expensive-models",
    "monthly-models",
    "monthly-users",
]
WITH_TEAMS = [*SECTION_IDS[:5], "teams", *SECTION_IDS[5:]]
GENERATED_AT = datetime(2026, 3, 14, 9, 30, tzinfo=timezone.utc)
# Attributes through which a page can load or send something.
URL_ATTRIBUTES = {"src", "href", "xlink:href", "srcset", "action", "formaction", "poster", "data"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}


# ---------------------------------------------------------------------------------------------
# Reading the page back


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
        ]

    def by_id(self, element_id: str) -> Element:
        matches = [e for e in self.iter() if e.attrs.get("id") == element_id]
        assert len(matches) == 1, f"{len(matches)} elements with id {element_id!r}"
        return matches[0]


class PageParser(HTMLParser):
    """A small DOM: enough to find elements by id, class and tag and read their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.tags.append(tag)
        self.stack[-1].children.append(element)
        if tag not in VOID_TAGS:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    assert parser.stack == [parser.root], "unclosed elements"
    return parser


def squeeze(text: str) -> str:
    return " ".join(text.split())


def rows(table: Element) -> list[list[str]]:
    """The body rows of a table as lists of cell texts."""
    body = table.find_all("tbody")[0]
    return [
        [squeeze(cell.text) for cell in tr.children if isinstance(cell, Element)]
        for tr in body.find_all("tr")
    ]


# ---------------------------------------------------------------------------------------------
# Reports


def at(label: str, day: int = 1, hour: int = 12) -> int:
    return Month.parse(label).start_ms(UTC) + ((day - 1) * 24 + hour) * 3_600_000


def report_of(
    months: dict[str, list[dict]], partial: tuple[str, ...] = (), **options
) -> BillingReport:
    calculator = ReportBuilder(**options)
    for label, events in months.items():
        calculator.add_month(label, label not in partial, [UsageEvent.from_raw(e) for e in events])
    return calculator.report()


@pytest.fixture(scope="module")
def report() -> BillingReport:
    """Three months, the last one partial, with hostile and odd names among the top spenders."""
    january = [
        usage_event(at("01-2026", 2), email=ODD_EMAILS[0], model="claude-4.1-opus", cents=250),
        usage_event(at("01-2026", 3), email=ODD_EMAILS[0], model="gpt-5", cents=12),
        usage_event(at("01-2026", 4), email=ODD_EMAILS[1], model=HOSTILE_MODEL, cents=40),
        usage_event(at("01-2026", 5), email="ada@example.com", model="gpt-5", cents=8),
        usage_event(
            at("01-2026", 5), email="ada@example.com", model="gpt-5-mini", cents=0.2, fee=0.05
        ),
        # Not billable: neither counted nor shown.
        usage_event(at("01-2026", 6), email="ghost@example.com", kind="Included in Business"),
    ]
    february = [
        usage_event(at("02-2026", 2), email=ODD_EMAILS[1], model=HOSTILE_MODEL, cents=900),
        usage_event(at("02-2026", 3), email=ODD_EMAILS[2], model="claude-4.5-sonnet", cents=60),
        usage_event(at("02-2026", 3), email=ODD_EMAILS[2], model="claude-4.5-sonnet", cents=45),
        usage_event(at("02-2026", 4), email="ada@example.com", model="gpt-5", cents=10),
    ]
    march = [
        usage_event(at("03-2026", 2), email=ODD_EMAILS[2], model="claude-4.1-opus", cents=300),
        usage_event(at("03-2026", 3), email="ada@example.com", model="gpt-5", cents=7),
    ]
    return report_of(
        {"01-2026": january, "02-2026": february, "03-2026": march},
        partial=("03-2026",),
        expensive_models_count=2,
    )


@pytest.fixture(scope="module")
def html(report) -> str:
    return render_dashboard(report, top=3, generated_at=GENERATED_AT)


@pytest.fixture(scope="module")
def page(html) -> Element:
    return parse(html).root


# ---------------------------------------------------------------------------------------------
# Structure and numbers


def test_every_section_is_present_once_in_order(page):
    sections = [e.attrs.get("id") for e in page.find_all("section")]
    assert sections == SECTION_IDS


def test_header_names_the_period_zone_basis_and_time(page):
    header = squeeze(page.find_all("header")[0].text)
    assert "Cursor on-demand spend" in header
    assert "January 2026 – March 2026" in header
    assert "UTC" in header
    assert squeeze(page.by_id("headline").text) == (
        "On-demand spend 01-2026 to 02-2026: $13.27 (list price). 03-2026 so far $3.08."
    )
    assert "list price" in header
    assert "2026-03-14 09:30 UTC" in header
    assert page.find_all("time")[0].attrs["datetime"] == "2026-03-14T09:30:00+00:00"


def test_generated_at_is_shown_in_the_reports_time_zone():
    report = report_of({"01-2026": [usage_event(at("01-2026"))]}, timezone="Europe/Berlin")
    header = parse(render_dashboard(report, 5, GENERATED_AT)).root.find_all("header")[0]
    assert "Europe/Berlin" in header.text
    assert "2026-03-14 10:30 CET" in header.text


def test_summary_cards_show_the_reports_numbers(page, report):
    summary = report.summary

    def value(card: str) -> str:
        return squeeze(page.by_id(f"card-{card}").find_all("p", "card-value")[0].text)

    assert value("total") == money(summary.total_cost_cents) == "$16.35"
    assert value("current-month") == money(summary.current_month_cost_cents) == "$3.08"
    assert value("costliest-model") == summary.costliest_model == HOSTILE_MODEL
    assert value("top-spender") == summary.top_spender == "r&d-bot@example.com"
    assert "March 2026 so far" in squeeze(page.by_id("card-current-month").text)
    assert "list price (token cost + Cursor fee)" in page.by_id("card-total").text
    assert "Charged by Cursor: $16.35" in squeeze(page.by_id("card-total").text)
    # A month in progress is never compared with a whole month: no "-78%" collapse.
    assert "%" not in page.by_id("card-current-month").text
    assert [e.attrs["id"] for e in page.find_all("div", "card")] == [
        "card-total",
        "card-current-month",
        "card-costliest-model",
        "card-top-spender",
    ]  # no budget card without budgets


def test_top_tables_show_top_n_rows_with_formatted_numbers(page, report):
    users = rows(page.by_id("top-users").find_all("table")[0])
    assert len(users) == 3  # top=3 of 4 users
    first = report.users[0]
    assert users[0][:6] == [
        "1",
        first.email,
        money(first.cost_cents),
        "58%",
        count(first.requests),
        money(first.avg_cost_cents),
    ]
    models = rows(page.by_id("top-models").find_all("table")[0])
    assert len(models) == 3
    assert [row[1].removesuffix(" expensive") for row in models] == [
        model.model for model in report.models[:3]
    ]
    assert models[0][-1] == count(report.models[0].tokens.total) == "12,400"
    # Costs before tokens, in every table that has both.
    for table in page.find_all("table"):
        heads = [squeeze(th.text) for th in table.find_all("thead")[0].find_all("th")]
        if "Tokens" in heads:
            assert heads.index("Cost") < heads.index("Tokens")


def test_average_below_a_cent_is_not_shown_as_zero(report):
    page = parse(render_dashboard(report, top=10, generated_at=GENERATED_AT)).root
    models = {row[1]: row for row in rows(page.by_id("top-models").find_all("table")[0])}
    assert models["gpt-5-mini"][5] == "<$0.01"


def test_expensive_models_list_their_spenders(page, report):
    section = page.by_id("expensive-models")
    names = [squeeze(h3.text) for h3 in section.find_all("h3")]
    assert names == [model.model for model in report.expensive_models]
    assert squeeze(page.by_id("expensive-names").text).endswith(": " + ", ".join(names) + ".")
    opus = rows(section.find_all("table")[names.index("claude-4.1-opus")])
    assert [row[1] for row in opus] == ["zoë.müller@example.com", "o'brien+cursor@example.com"]
    assert opus[0][2] == "$3.00"


def test_monthly_trend_has_a_table_and_a_chart_with_a_legend(page, report):
    section = page.by_id("monthly-trend")
    trend = rows(section.find_all("table")[0])
    assert [row[0] for row in trend] == ["Jan 2026", "Feb 2026", "Mar 2026 in progress"]
    february = report.monthly_trend[1]
    assert trend[1][1:] == [
        money(february.cost_cents),
        "+$7.05",
        "+226.4%",
        count(february.requests),
    ]
    assert trend[0][2:4] == ["—", "—"]
    # The month in progress against a whole month would read as a collapse: not shown.
    assert trend[2][2:4] == ["—", "—"]
    charts = section.find_all("svg")
    assert len(charts) == 2  # wide and compact; CSS shows one
    for chart in charts:
        assert "viewBox" in chart.attrs or "viewbox" in chart.attrs
        assert len(chart.find_all("g", "month")) == 3
        assert chart.find_all("rect", "seg")
    legend = [squeeze(li.text) for li in section.find_all("li")]
    assert HOSTILE_MODEL in legend and "forecast" not in legend


def test_months_by_model_and_user_are_chronological_with_an_other_row(report):
    page = parse(render_dashboard(report, top=1, generated_at=GENERATED_AT)).root
    section = page.by_id("monthly-models")
    assert [squeeze(h3.text) for h3 in section.find_all("h3")] == [
        "January 2026",
        "February 2026",
        "March 2026 in progress",
    ]
    january = rows(section.find_all("table")[0])
    assert january == [
        ["claude-4.1-opus", "$2.50", "1", "6,200"],
        ["3 other models", "$0.61", "4", "24,800"],
    ]
    users = page.by_id("monthly-users")
    january_users = rows(users.find_all("table")[0])
    assert january_users[0] == ["1", "o'brien+cursor@example.com", "$2.63", "2", "claude-4.1-opus"]
    assert january_users[1][1] == "2 other users"


# ---------------------------------------------------------------------------------------------
# Safety: escaping and self-containment


def test_names_and_emails_are_escaped_text(html, page):
    parser = parse(html)
    assert "script" not in parser.tags
    assert not re.search(r"<\s*script", html, re.IGNORECASE)
    assert "&lt;script&gt;alert(" in html
    assert "r&amp;d-bot@example.com" in html
    text = page.text
    assert HOSTILE_MODEL in text
    for email in ODD_EMAILS:
        assert email in text


def test_nothing_refers_outside_the_file(html, page):
    for element in page.iter():
        assert element.tag not in {"script", "link", "img", "iframe", "object", "embed"}
        for name, value in element.attrs.items():
            if name in URL_ATTRIBUTES:
                assert value.startswith("#"), f"<{element.tag} {name}={value!r}>"
            assert not name.startswith("on"), f"event handler {name} on <{element.tag}>"
    styles = "".join(style.text for style in page.find_all("style"))
    inline = " ".join(e.attrs.get("style", "") for e in page.iter())
    for css in (styles, inline):
        assert "@import" not in css
        assert "url(" not in css
        assert "expression(" not in css
    assert "//" not in html  # no scheme-relative or absolute URL anywhere
    assert not re.search(r"\b(?:https?|ftp|file|data|javascript):", html, re.IGNORECASE)


def test_page_is_responsive_and_printable(page):
    viewport = [e for e in page.find_all("meta") if e.attrs.get("name") == "viewport"]
    assert viewport and "width=device-width" in viewport[0].attrs["content"]
    styles = "".join(style.text for style in page.find_all("style"))
    assert "overflow-x: auto" in styles
    assert "@media print" in styles
    assert "break-inside: avoid" in styles
    assert "tabular-nums" in styles
    # Every table sits in a scrolling wrapper, so a wide table never widens the page.
    wrapped = sum(len(w.find_all("table")) for w in page.find_all("div", "table-wrap"))
    assert wrapped == len(page.find_all("table"))


def test_month_in_progress_is_marked_everywhere(page, report):
    assert labelled(report.partial_months) == ("03-2026",)
    assert "so far" in squeeze(page.by_id("card-current-month").find_all("p", "card-label")[0].text)
    trend_rows = page.by_id("monthly-trend").find_all("tbody")[0].find_all("tr")
    assert [tr.attrs["class"] for tr in trend_rows] == ["complete", "complete", "in_progress"]
    assert squeeze(trend_rows[2].find_all("span", "badge")[0].text) == "in progress"
    for chart in page.by_id("monthly-trend").find_all("svg"):
        groups = chart.find_all("g", "month")
        assert ["in_progress" in g.classes for g in groups] == [False, False, True]
        assert groups[2].find_all("rect", "progress-outline")  # no forecast: an outline only
        assert "so far" in squeeze(groups[2].find_all("text", "status-label")[0].text)
    for section in ("monthly-models", "monthly-users"):
        headings = page.by_id(section).find_all("h3")
        assert [bool(h.find_all("span", "badge")) for h in headings] == [False, False, True]
    spark = page.by_id("top-users").find_all("svg", "spark")[0]
    assert ["in_progress" in bar.classes for bar in spark.find_all("rect")] == [False, False, True]


def test_a_closing_month_is_a_month_with_a_small_note(report):
    trend = list(report.monthly_trend)
    trend[-1] = structs.replace(trend[-1], status="closing")
    closing = structs.replace(report, monthly_trend=tuple(trend))
    page = parse(render_dashboard(closing, top=5, generated_at=GENERATED_AT)).root
    last = page.by_id("monthly-trend").find_all("tbody")[0].find_all("tr")[-1]
    assert squeeze(last.text).startswith("Mar 2026 closing $3.08 -$7.09 -69.7%")
    card = squeeze(page.by_id("card-current-month").text)
    assert "so far" not in card and "closing" in card and "-69.7% vs Feb 2026" in card
    for chart in page.by_id("monthly-trend").find_all("svg"):
        group = chart.find_all("g", "month")[-1]
        assert not group.find_all("rect", "progress-outline")
        assert squeeze(group.find_all("text", "status-label")[0].text) == "closing"
    assert "in progress" not in page.text and "so far" not in page.by_id("headline").text


@pytest.fixture(scope="module")
def brief() -> BillingReport:
    """Six months of a team of 40, mid-month, with forecast, budgets, an anomaly and teams."""
    return brief_report(as_of_day=14.5)


@pytest.fixture(scope="module")
def brief_page(brief) -> Element:
    return parse(render_dashboard(brief, top=20, generated_at=GENERATED_AT)).root


def test_the_other_teams_and_other_users_of_a_model_add_up_exactly(brief):
    """The "N other …" rows of the teams and of each expensive model's users hold the exact
    sums of the rows they stand for."""
    page = parse(render_dashboard(brief, top=1, generated_at=GENERATED_AT)).root
    teams = rows(page.by_id("teams").find_all("table")[0])
    rest = brief.teams[1:]
    assert len(rest) >= 2
    assert teams[-1][:2] == [f"{len(rest)} other teams", money(sum(t.cost_cents for t in rest))]
    model = brief.expensive_models[0]
    users = rows(page.by_id("expensive-models").find_all("table")[0])
    others = model.users[1:]
    assert len(others) >= 2
    assert users[-1][1:3] == [
        f"{len(others)} other users",
        money(sum(u.cost_cents for u in others)),
    ]
    assert users[-1][4] == count(sum(u.requests for u in others))


def test_the_brief_shows_forecast_budgets_teams_and_what_changed(brief, brief_page):
    page, forecast = brief_page, brief.forecast
    assert [e.attrs.get("id") for e in page.find_all("section")] == WITH_TEAMS
    headline = squeeze(page.by_id("headline").text)
    assert headline == (
        f"On-demand spend 10-2025 to 02-2026: "
        f"{money(sum(row.cost_cents for row in brief.monthly_trend[:-1]))} (list price). "
        f"03-2026 so far {money(forecast.month_to_date_cents)}, on pace for "
        f"{whole_money(forecast.projected_cents)} ({whole_money(forecast.low_cents)}–"
        f"{whole_money(forecast.high_cents)}), "
        f"+{forecast.change_to_date_pct.quantize(Decimal(1))} % on the same days of 02-2026."
    )
    card = squeeze(page.by_id("card-current-month").text)
    assert f"On pace for {whole_money(forecast.projected_cents)}" in card
    assert "on the same days of Feb 2026" in card
    budgets = squeeze(page.by_id("card-budgets").text)
    assert "1 forecast over" in budgets and "o'brien+cursor@example.com" in budgets
    assert "alert" in page.by_id("card-budgets").classes
    # The chart draws the month in progress as month-to-date under its forecast range.
    for chart in page.by_id("monthly-trend").find_all("svg"):
        groups = chart.find_all("g", "month")
        assert [bool(g.find_all("rect", "forecast-box")) for g in groups] == [False] * 5 + [True]
        assert len(groups[-1].find_all("line", "forecast-range")) == 3
    changes = [squeeze(li.text) for li in page.by_id("what-changed").find_all("li")]
    assert changes == list(what_changed(brief))
    assert 3 <= len(changes) <= 6
    teams = rows(page.by_id("teams").find_all("table")[0])
    assert [row[0] for row in teams] == [team.team for team in brief.teams]
    assert teams[0][1] == money(brief.teams[0].cost_cents)
    users = rows(page.by_id("top-users").find_all("table")[0])
    assert users[0][4] == brief.users[0].team
    sources = rows(page.by_id("sources").find_all("table")[0])
    assert sources == [
        [
            "People in the editor",
            money(brief.summary.total_cost_cents),
            "100%",
            count(brief.summary.total_requests),
            "40",
        ]
    ]


def test_per_month_detail_is_collapsed(page):
    for section_id in ("monthly-models", "monthly-users"):
        section = page.by_id(section_id)
        details = section.find_all("details")
        assert len(details) == 1 and "open" not in details[0].attrs
        assert details[0].find_all("summary")[0].find_all("h2")


def test_long_names_are_cut_with_the_full_text_in_a_title(tmp_path):
    huge = "x" * 200_000 + "@example.com"
    model = "m" * 200_000
    report = report_of({"01-2026": [usage_event(at("01-2026"), email=huge, model=model)] * 3})
    path = write_dashboard(report, tmp_path / "huge.html", top=20, generated_at=GENERATED_AT)
    assert path.stat().st_size < 60_000
    page = parse(path.read_text(encoding="utf-8")).root
    cells = page.by_id("top-users").find_all("td", "email")
    assert squeeze(cells[0].text) == "x" * 79 + "…"
    assert cells[0].find_all("span")[0].attrs["title"] == "x" * 999 + "…"
    model_cell = page.by_id("top-models").find_all("td", "model")[0]
    assert squeeze(model_cell.text).removesuffix(" expensive") == "m" * 79 + "…"
    spender = squeeze(page.by_id("card-top-spender").find_all("p", "card-value")[0].text)
    assert spender == "x" * 79 + "…"
    assert max(len(t) for t in re.findall(r"x+", path.read_text(encoding="utf-8"))) == 999


# ---------------------------------------------------------------------------------------------
# Edge cases, size and the file


@pytest.mark.parametrize(
    "months",
    [
        {},
        {"01-2026": []},
        {"01-2026": [usage_event(at("01-2026"), kind="Included in Business")], "02-2026": []},
    ],
    ids=["no-months", "empty-month", "nothing-billable"],
)
def test_empty_report_renders_a_friendly_note(months):
    report = report_of(months, partial=tuple(months)[-1:])
    html = render_dashboard(report, top=20, generated_at=GENERATED_AT)
    page = parse(html).root
    assert [e.attrs.get("id") for e in page.find_all("section")] == SECTION_IDS
    for section_id in SECTION_IDS:
        assert "No on-demand usage in these months." in page.by_id(section_id).text
    assert [squeeze(li.text) for li in page.by_id("what-changed").find_all("li")] == [
        "No on-demand usage in these months."
    ]
    assert squeeze(page.by_id("card-total").find_all("p", "card-value")[0].text) == "$0.00"
    assert squeeze(page.by_id("card-top-spender").find_all("p", "card-value")[0].text) == "—"
    assert not page.by_id("monthly-trend").find_all("svg")


def test_every_month_without_usage_says_so():
    report = report_of(
        {"01-2026": [usage_event(at("01-2026"))], "02-2026": []}, partial=("02-2026",)
    )
    page = parse(render_dashboard(report, top=5, generated_at=GENERATED_AT)).root
    blocks = page.by_id("monthly-models").find_all("article")
    assert "No on-demand usage in this month." in blocks[1].text
    # February is in progress with nothing yet: not shown as a -100% collapse.
    assert rows(page.by_id("monthly-trend").find_all("table")[0])[1][1:4] == ["$0.00", "—", "—"]


def test_many_months_still_label_the_latest_month():
    months = {f"{m:02d}-2025": [usage_event(at(f"{m:02d}-2025"), cents=m)] for m in range(1, 13)}
    page = parse(render_dashboard(report_of(months), top=5, generated_at=GENERATED_AT)).root
    for chart in page.by_id("monthly-trend").find_all("svg"):
        labels = [squeeze(t.text) for t in chart.find_all("text", "label")]
        assert labels[-1] == "Dec 2025"


def test_size_stays_bounded_for_a_big_team():
    """5,000 users × 40 models × 12 months: top-N tables keep the page well under 1.5 MB."""
    costs = [TokenUsage(1000, 200, 0, 5000, Decimal(cents) / 100) for cents in range(1, 200)]
    calculator = ReportBuilder()
    for month in range(1, 13):
        events = []
        for user in range(5000):
            email = f"engineer.{user:04d}.with-a-longer-name@example-company.com"
            for model in (user + month, 3 * user + 1):
                events.append(
                    UsageEvent(
                        userEmail=email,
                        model=f"vendor-model-{model % 40:02d}-preview",
                        kind="Usage-based",
                        isChargeable=True,
                        isTokenBasedCall=True,
                        tokenUsage=costs[(user * 7 + model) % len(costs)],
                    )
                )
        calculator.add_month(f"{month:02d}-2025", month != 12, events)
    report = calculator.report()
    assert (len(report.users), len(report.models), len(report.months)) == (5000, 40, 12)

    html = render_dashboard(report, top=20, generated_at=GENERATED_AT)
    assert len(html.encode("utf-8")) < 1_500_000
    page = parse(html).root
    assert len(rows(page.by_id("top-users").find_all("table")[0])) == 20
    assert "4,980 other users" in page.by_id("monthly-users").text
    assert "20 other models" in page.by_id("monthly-models").text


def test_write_dashboard_is_readable_by_the_owner_only(tmp_path, report):
    path = tmp_path / "reports" / "billing_dashboard.html"
    written = write_dashboard(report, path, top=5, generated_at=GENERATED_AT)
    assert written == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text(encoding="utf-8") == render_dashboard(report, 5, GENERATED_AT)
    write_dashboard(report, path, top=5, generated_at=GENERATED_AT)  # replaces it
    assert [p.name for p in path.parent.iterdir()] == ["billing_dashboard.html"]


def test_importing_the_dashboard_loads_no_jinja_typer_or_rich():
    probe = (
        "import sys, cursor_billing.render.html; "
        "print(sorted(m for m in ('jinja2', 'typer', 'rich') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.stdout.strip() == "[]"


def test_a_sparkline_draws_the_month_in_progress_at_its_forecast():
    from cursor_billing.months import Month
    from cursor_billing.render.html import _sparkline

    october, november = Month(2026, 10), Month(2026, 11)
    status = {october: "complete", november: "in_progress"}
    costs = {october: Decimal(100), november: Decimal(10)}  # 10 so far, on pace for 200
    spark = _sparkline(costs, Decimal(200), month_status=status)
    past, now = spark.bars
    assert now.height > past.height  # growing, not a collapse
    assert (past.cost_cents, now.cost_cents) == (100, 10)  # the titles say what was spent
    plain = _sparkline(costs, None, month_status=status)
    assert plain.bars[1].height < plain.bars[0].height


@pytest.fixture
def new_run():
    """A process's first dashboard: the Jinja2 environment (kept for the process) made anew."""
    from cursor_billing.render import html

    html._environment.cache_clear()
    yield html._environment.cache_clear
    html._environment.cache_clear()


def test_the_compiled_template_is_kept_for_the_next_run(report, tmp_path, monkeypatch, new_run):
    import jinja2

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = render_dashboard(report, top=3, generated_at=GENERATED_AT)
    folder = tmp_path / "cache" / "cursor-billing" / "templates"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and any(folder.iterdir())

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    new_run()
    assert render_dashboard(report, top=3, generated_at=GENERATED_AT) == first


def test_a_damaged_shared_or_unwritable_cache_folder_costs_nothing(
    report, tmp_path, monkeypatch, new_run
):
    from cursor_billing.errors import CacheError
    from cursor_billing.render import html

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    expected = render_dashboard(report, top=3, generated_at=GENERATED_AT)
    folder = tmp_path / "cache" / "cursor-billing" / "templates"
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    kept = {path: path.read_bytes() for path in folder.iterdir()}
    for path, code in kept.items():  # damaged in the middle: compiled again, never run
        path.write_bytes(
            code[: len(code) // 2]
            + bytes([code[len(code) // 2] ^ 0xFF])
            + code[len(code) // 2 + 1 :]
        )
    new_run()
    assert render_dashboard(report, top=3, generated_at=GENERATED_AT) == expected
    assert {path: path.read_bytes() for path in folder.iterdir()} == kept  # and kept anew
    for path in kept:
        path.write_bytes(b"")
    new_run()
    assert render_dashboard(report, top=3, generated_at=GENERATED_AT) == expected
    for path in folder.iterdir():
        path.unlink()
    folder.chmod(0o777)  # others could plant compiled code here: not read, not written
    new_run()
    assert render_dashboard(report, top=3, generated_at=GENERATED_AT) == expected
    assert not any(folder.iterdir())
    folder.chmod(0o700)

    def disk_full(path, content):
        raise CacheError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(html, "write_private", disk_full)
    new_run()  # nothing can be kept: rendered all the same
    assert render_dashboard(report, top=3, generated_at=GENERATED_AT) == expected
    assert not any(folder.iterdir())
