"""The dashboard in real headless Chromium, on a laptop (1280 px) and a phone (390 px): no console
errors, nothing fetched, no sideways scrolling of the page, every section on screen, and a
screenshot with something on it. `SAVE_SCREENSHOT=1` also writes the laptop one to
`docs/dashboard.png` for the README."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from random import Random

import pytest

from cursor_billing.events import TokenUsage, UsageEvent
from cursor_billing.render.html import write_dashboard
from cursor_billing.views.report import BillingReport
from tests.browser import CHROMIUM, Browser, png_colours, png_size
from tests.helpers import ReportBuilder
from tests.test_dashboard import HOSTILE_MODEL, ODD_EMAILS, SECTION_IDS

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
)

DOCS_SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "dashboard.png"
SCREENS = {
    "laptop": (1280, 900, False),
    "phone": (390, 844, True),
}
# Average cost of one request in cents, and how popular each model is.
MODELS = {
    "claude-4.5-sonnet": (19, 30),
    "claude-4.5-sonnet-thinking": (34, 12),
    "claude-4.1-opus": (101, 2),
    "gpt-5": (11, 10),
    "gpt-5-codex": (11, 8),
    "gemini-2.5-pro": (14, 6),
    "default": (7, 10),
    "composer-1": (7, 6),
    "grok-code-fast-1": (0.4, 4),
    "gpt-5-mini": (0.3, 4),
    HOSTILE_MODEL: (8, 1),
}


def sample_report(months: tuple[str, ...] = ("12-2025", "01-2026", "02-2026", "03-2026")):
    """A team of 40 with a few heavy users and a long tail; the last month is partial."""
    rng = Random(2026)
    people = [*ODD_EMAILS, *(f"engineer.{n:02d}@example.com" for n in range(37))]
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(people))]
    names = list(MODELS)
    calculator = ReportBuilder()
    for index, label in enumerate(months):
        partial = index == len(months) - 1
        events = []
        for _ in range(900 if partial else 2000):
            email = rng.choices(people, weights)[0]
            model = rng.choices(names, [MODELS[name][1] for name in names])[0]
            cents = Decimal(str(round(MODELS[model][0] * rng.uniform(0.3, 1.9), 4)))
            tokens = int(cents * 9000) + rng.randrange(2000)
            events.append(
                UsageEvent(
                    userEmail=email,
                    model=model,
                    kind="Usage-based",
                    isChargeable=True,
                    isTokenBasedCall=True,
                    tokenUsage=TokenUsage(
                        tokens // 10, tokens // 40, tokens // 20, tokens, totalCents=cents
                    ),
                )
            )
        calculator.add_month(label, not partial, events)
    return calculator.report()


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
    assert [section[0] for section in sections] == SECTION_IDS
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

    browser.run("window.scrollTo(0, 0)")
    png = browser.screenshot()
    assert png_size(png) == (width, height)
    assert png_colours(png, limit=64) >= 32, "the screenshot is (nearly) blank"
    if screen == "laptop" and os.environ.get("SAVE_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        DOCS_SCREENSHOT.write_bytes(png)


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
