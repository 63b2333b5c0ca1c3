"""The dashboard in real headless Chromium, on a laptop (1280 px) and a phone (390 px): no console
errors, nothing fetched, no sideways scrolling of the page, every section on screen, and a
screenshot with something on it. `SAVE_SCREENSHOT=1` also writes the laptop one to
`docs/dashboard.png` for the README."""

from __future__ import annotations

import base64
import os
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from cursor_billing.events import TokenUsage, UsageEvent
from cursor_billing.render.html import write_dashboard
from cursor_billing.views.report import BillingReport
from tests.brief_reports import HOSTILE_MODEL, brief_report
from tests.browser import CHROMIUM, Browser, png_colours, png_size
from tests.helpers import ReportBuilder
from tests.test_dashboard import WITH_TEAMS

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
)

DOCS_SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "dashboard.png"
SCREENS = {
    "laptop": (1280, 900, False),
    "phone": (390, 844, True),
}
A4 = {"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": True, "preferCSSPageSize": True}
# Every money figure of the cards and of the tables outside the collapsed detail: each must be
# whole and on screen.
COST_CELLS = (
    "#card-total .card-value, #card-current-month .card-value,"
    " section:not(#monthly-models):not(#monthly-users) td.cost"
)


def sample_report(months: tuple[str, ...] = ("12-2025", "01-2026", "02-2026", "03-2026")):
    """Six months of a team of 40, mid-month, with forecast, budgets, an anomaly and teams."""
    return brief_report(as_of_day=14.5)


def pdf_pages(pdf: bytes) -> int:
    """The pages of a PDF Chromium wrote: its page objects."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.fixture(scope="module")
def report() -> BillingReport:
    return sample_report()


@pytest.fixture(scope="module")
def dashboard_url(report, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("dashboard") / "billing_dashboard.html"
    write_dashboard(
        report, path, top=20, generated_at=datetime(2026, 3, 14, 9, 30, tzinfo=timezone.utc)
    )
    return path.as_uri()


@pytest.fixture(scope="module")
def browser():
    with Browser() as session:
        yield session


@pytest.mark.timeout(30)
@pytest.mark.parametrize("screen", SCREENS, ids=list(SCREENS))
def test_dashboard_renders_cleanly_in_chromium(browser, dashboard_url, screen):
    width, height, mobile = SCREENS[screen]
    browser.set_viewport(width, height, mobile=mobile)
    browser.console()  # drop what earlier pages logged
    browser.open(dashboard_url)

    assert browser.run("return document.readyState") == "complete"
    errors = [entry for entry in browser.console() if entry.get("level") == "SEVERE"]
    assert errors == []
    assert browser.run("return performance.getEntriesByType('resource').length") == 0

    inner_width, scroll_width = browser.run(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert inner_width == width
    assert scroll_width <= inner_width, "the page scrolls sideways"

    sections = browser.run(
        """return [...document.querySelectorAll('section')].map(s => {
             const box = s.getBoundingClientRect();
             return [s.id, box.height, box.left, box.right];
           });"""
    )
    assert [section[0] for section in sections] == WITH_TEAMS
    for section_id, box_height, left, right in sections:
        assert box_height > 0, f"#{section_id} is not visible"
        assert 0 <= left and right <= width, f"#{section_id} sticks out: {left}..{right}"

    # One of the two monthly charts is shown: wide on the laptop, compact on the phone.
    shown = browser.run(
        """return [...document.querySelectorAll('#monthly-trend svg.bars')]
             .filter(svg => svg.getBoundingClientRect().height > 0)
             .map(svg => svg.getAttribute('class'));"""
    )
    assert shown == ["bars compact" if mobile else "bars wide"]

    # No cost figure clipped, cut off or hidden behind a sideways scroll.
    cells = browser.run(
        """return [...document.querySelectorAll(arguments[0])].map(cell => {
             const box = cell.getBoundingClientRect();
             const wrap = cell.closest('.table-wrap') || document.documentElement;
             const shown = wrap.getBoundingClientRect();
             return [cell.textContent.trim(), box.width, cell.scrollWidth - cell.clientWidth,
                     box.left - shown.left, shown.right - box.right, window.innerWidth - box.right];
           });""",
        COST_CELLS,
    )
    assert len(cells) > 60
    for text, box_width, overflow, from_left, to_right, to_viewport in cells:
        assert text.startswith(("$", "-$", "+$", "—")) or text[0].isdigit(), text
        assert box_width > 0, f"{text} is hidden"
        assert overflow <= 0, f"{text} overflows its cell"
        assert from_left >= 0 and to_right >= 0, f"{text} is behind a sideways scroll"
        assert to_viewport >= 0, f"{text} is off screen"

    # The per-month detail is collapsed: the sections show their headings only.
    collapsed = browser.run(
        """return ['monthly-models', 'monthly-users'].map(id => {
             const details = document.querySelector('#' + id + ' details');
             const tables = [...details.querySelectorAll('table')];
             return [details.open, tables.length, tables.filter(t => t.checkVisibility()).length,
                     details.getBoundingClientRect().height < 60];
           });"""
    )
    assert collapsed == [[False, 6, 0, True], [False, 6, 0, True]]

    browser.run("window.scrollTo(0, 0)")
    png = browser.screenshot()
    assert png_size(png) == (width, height)
    assert png_colours(png, limit=64) >= 32, "the screenshot is (nearly) blank"
    if screen == "laptop" and os.environ.get("SAVE_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        DOCS_SCREENSHOT.write_bytes(png)


@pytest.mark.timeout(60)
def test_the_printed_brief_fits_on_two_a4_pages(browser, dashboard_url):
    """Six months, 40 users: everything before `expensive-models` on two pages; the details
    start on a page of their own."""
    browser.set_viewport(1280, 900)
    browser.open(dashboard_url)
    whole = pdf_pages(base64.b64decode(browser.cdp("Page.printToPDF", A4)["data"]))
    browser.run(
        """let hide = false;
           for (const part of document.querySelectorAll('main > *')) {
             hide = hide || part.id === 'expensive-models';
             if (hide) part.style.display = 'none';
           }"""
    )
    brief = pdf_pages(base64.b64decode(browser.cdp("Page.printToPDF", A4)["data"]))
    assert brief == 2
    assert whole > brief  # the counting sees the details' pages too


@pytest.mark.timeout(30)
def test_long_names_do_not_widen_the_page_on_a_phone(browser, tmp_path):
    long_model = "an-extraordinarily-long-fine-tuned-model-name-" * 3 + HOSTILE_MODEL
    long_email = "first.middle.last.with.a.really.long.alias" * 2 + "@subsidiary.example.com"
    calculator = ReportBuilder()
    event = UsageEvent(
        userEmail=long_email,
        model=long_model,
        kind="Usage-based",
        isChargeable=True,
        isTokenBasedCall=True,
        tokenUsage=TokenUsage(10**9, 10**8, 10**7, 10**10, totalCents=Decimal("123456789.5")),
    )
    calculator.add_month("01-2026", True, [event] * 3)
    path = write_dashboard(
        calculator.report(), tmp_path / "long.html", top=20, generated_at=datetime.now(timezone.utc)
    )
    browser.set_viewport(390, 844, mobile=True)
    browser.open(path.as_uri())
    inner_width, scroll_width = browser.run(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert scroll_width <= inner_width == 390
