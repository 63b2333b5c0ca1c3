"""The ledger: one fold, then any question is a small view over its rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from cursor_billing.events import UsageEvent
from cursor_billing.ledger import Ledger, fold_month
from cursor_billing.months import Month
from tests.helpers import usage_event

JAN = Month(2026, 1)
DAY_MS = 86_400_000
JAN_1 = 1767225600000  # 2026-01-01T00:00:00Z


def ledger_of(*raw: dict, zone: str = "UTC") -> Ledger:
    events = [UsageEvent.from_raw(event) for event in raw]
    return Ledger(zone, (fold_month(JAN, events, ZoneInfo(zone)),))


def test_a_new_view_needs_no_change_to_the_fold():
    ledger = ledger_of(
        usage_event(JAN_1, "ada@x.com", "opus", cents=10, fee=None),
        usage_event(JAN_1 + 3 * DAY_MS, "ada@x.com", "opus", cents=5, fee=None),  # a Sunday
        usage_event(JAN_1 + 4 * DAY_MS, "bob@x.com", "sonnet", cents=2, fee=None),
    )

    # A throwaway view: weekend spend per user, in a few lines.
    def weekend_spend(ledger: Ledger) -> dict[str, Decimal]:
        spend: dict[str, Decimal] = defaultdict(Decimal)
        for row in ledger.rows("list"):
            if row.day.weekday() >= 5:
                spend[row.user] += row.list_cents
        return dict(spend)

    assert weekend_spend(ledger) == {"ada@x.com": Decimal(5)}


def test_rows_keep_both_costs_and_each_basis_counts_its_own():
    ledger = ledger_of(
        usage_event(JAN_1, cents=10, fee=0.5, chargedCents=9),
        usage_event(JAN_1, cents=40, fee=None, isTokenBasedCall=False, chargedCents=8),
        usage_event(JAN_1, cents=1, fee=None, kind="Included in Business", chargedCents=3),
    )
    assert ledger.total("list").cost_cents == Decimal("10.5")
    assert ledger.total("charged").cost_cents == Decimal(17)
    assert ledger.total("list").requests == 1 and ledger.total("charged").requests == 2


def test_days_follow_the_zone_and_rows_can_be_sliced_relabelled_and_grouped():
    # 2026-01-01 02:00 UTC is still 31 Dec in Los Angeles: the month file holds it, so it counts
    # on the month's first day there.
    ledger = ledger_of(
        usage_event(JAN_1 + 10 * 3_600_000, "ada@x.com", cents=1, fee=None),
        usage_event(JAN_1 + DAY_MS + 10 * 3_600_000, "bob@x.com", cents=2, fee=None),
        zone="America/Los_Angeles",
    )
    assert sorted(row.day for row in ledger.rows()) == [date(2026, 1, 1), date(2026, 1, 2)]
    second = ledger.between(date(2026, 1, 2), date(2026, 1, 31))
    assert [row.user for row in second.rows()] == ["bob@x.com"]
    hidden = ledger.relabel_users(lambda row: row.user.split("@")[0].upper())
    assert set(hidden.group("list", lambda row: row.user)) == {"ADA", "BOB"}
    by_day = ledger.group("list", lambda row: row.day)
    assert by_day[date(2026, 1, 2)].cost_cents == 2


def test_non_finite_costs_count_as_zero_and_are_counted():
    month = fold_month(
        JAN,
        [
            UsageEvent.from_raw(usage_event(JAN_1, cents=5, fee=None, chargedCents="NaN")),
            UsageEvent.from_raw(usage_event(JAN_1, cents=7, fee=None)),
        ],
        ZoneInfo("UTC"),
    )
    assert month.not_finite == 1
    ledger = Ledger("UTC", (month,))
    assert ledger.total("list").cost_cents == 12
    assert ledger.total("charged").cost_cents == 7  # the NaN charged amount counts as 0
    assert "not a finite number" in month.warnings[0]


def test_negative_costs_are_counted_in_a_warning():
    month = fold_month(
        JAN,
        [UsageEvent.from_raw(usage_event(JAN_1, cents=-5, fee=None))] * 2,
        ZoneInfo("UTC"),
    )
    assert month.negative == 2
    assert month.warnings == ("01-2026: 2 event(s) have a negative cost",)
