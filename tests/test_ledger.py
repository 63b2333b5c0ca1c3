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


def test_money_read_from_a_cache_file_is_exact_whatever_its_spelling(tmp_path):
    """Integers stay integers and every other number is read digit for digit, on both bases,
    from the file as written (the fast decode reads JSON integers as `int`)."""
    from cursor_billing.cache import CacheDir
    from tests.helpers import write_cache_file

    texts = [("3", "0", "4"), ("0.1", "0.2", "0.30000000000000004"), ("1e2", "2.5E-3", "1")]
    texts.append(("12345678901234567890.123456789", "0.000000001", "7"))
    events = [usage_event(JAN_1 + i * DAY_MS, cents=0.0, fee=0.0) for i in range(len(texts))]
    path = write_cache_file(tmp_path, "01-2026", events)
    content = path.read_text()
    for cents, fee, charged in texts:  # replace the placeholders with the exact texts
        content = content.replace('"totalCents": 0.0}', f'"totalCents": {cents}}}', 1)
        content = content.replace('"cursorTokenFee": 0.0', f'"cursorTokenFee": {fee}', 1)
        content = content.replace('"requestsCosts": 1,', f'"chargedCents": {charged}, "rc": 1,', 1)
    path.write_text(content)
    cached = CacheDir(tmp_path / "monthly_usage_data").read_for_analysis(JAN)
    ledger = Ledger("UTC", (fold_month(JAN, cached.events, ZoneInfo("UTC")),))
    assert ledger.total("list").cost_cents == sum(
        (Decimal(c) + Decimal(f) for c, f, _ in texts), Decimal(0)
    )
    assert ledger.total("charged").cost_cents == sum((Decimal(x) for *_, x in texts), Decimal(0))
    assert all(isinstance(row.list_cents, Decimal) for row in ledger.rows())


def test_the_source_follows_the_rules_on_every_path():
    common = {"cloudAgentId": None, "automationId": None}
    cases = {
        "human": {"serviceAccountId": "null", "isHeadless": False},
        "headless": {"serviceAccountId": "null", "isHeadless": True},
        "automation": {"serviceAccountId": "null", "automationId": "auto_1"},
        "cloud_agent": {"serviceAccountId": "sa_1", "cloudAgentId": "bc-1"},
        "service_account": {"serviceAccountId": "sa_1", "isHeadless": True},
    }
    for expected, fields in cases.items():
        event = usage_event(JAN_1, **{**common, **fields})
        if fields.get("serviceAccountId") == "null" and expected == "human":
            del event["serviceAccountId"]  # absent: the property's path
        for raw in (event, usage_event(JAN_1, **{**common, **fields})):
            (row,) = ledger_of(raw).rows()
            assert row.source == expected == UsageEvent.from_raw(raw).source


def _cached_in_batches(tmp_path, monkeypatch, events: list[dict], size: int = 3):
    """The month read back from a cache file, decoded `size` events at a time."""
    from cursor_billing import cache
    from tests.helpers import write_cache_file

    monkeypatch.setattr(cache, "BATCH_EVENTS", size)
    write_cache_file(tmp_path, "01-2026", events)
    return cache.CacheDir(tmp_path / "monthly_usage_data").read_for_analysis(JAN)


def test_a_month_folded_batch_by_batch_has_the_rows_of_all_its_events_at_once(
    tmp_path, monkeypatch
):
    events = [
        usage_event(JAN_1 + i * 3_600_000, f"u{i % 4}@x.com", f"m{i % 3}", cents=i / 8, fee=i)
        for i in range(20)
    ]
    events[7]["isHeadless"] = True
    events[11]["cloudAgentId"] = "bc-1"
    cached = _cached_in_batches(tmp_path, monkeypatch, events)
    assert len(cached.events) == 20 and len(list(cached.events.batches())) == 7
    batched = fold_month(JAN, cached.events, ZoneInfo("UTC"))
    whole = fold_month(JAN, [UsageEvent.from_raw(e) for e in events], ZoneInfo("UTC"))
    assert sorted(batched.rows) == sorted(whole.rows) and len(whole.rows) > 4
    assert cached.warning is None


def test_an_odd_value_in_a_later_batch_is_named_by_its_place_in_the_file(tmp_path, monkeypatch):
    events = [usage_event(JAN_1 + i, cents=2, fee=None) for i in range(8)]
    events[6]["tokenUsage"]["inputTokens"] = "many"
    cached = _cached_in_batches(tmp_path, monkeypatch, events)
    folded = fold_month(JAN, cached.events, ZoneInfo("UTC"))
    assert sum(row.requests for row in folded.rows) == 8
    assert sum(row.list_cents for row in folded.rows) == 16
    assert sum(row.input_tokens for row in folded.rows) == 7 * 1000  # the odd one counts as 0
    assert cached.warning is not None
    assert "$.events[6].tokenUsage.inputTokens" in cached.warning
    assert cached.warning.endswith("such values count as 0")


def test_an_event_that_is_no_object_in_a_later_batch_makes_the_file_invalid(tmp_path, monkeypatch):
    import pytest

    from cursor_billing.errors import CacheError

    events: list = [usage_event(JAN_1 + i) for i in range(8)]
    events[5] = 5
    cached = _cached_in_batches(tmp_path, monkeypatch, events)
    with pytest.raises(CacheError, match=r"not a valid cache file .*\$\.events\[5\]"):
        fold_month(JAN, cached.events, ZoneInfo("UTC"))


def test_a_cost_that_is_not_finite_in_a_later_batch_counts_as_zero(tmp_path, monkeypatch):
    events = [usage_event(JAN_1 + i, cents=3, fee=None) for i in range(8)]
    events[7]["chargedCents"] = "NaN"
    cached = _cached_in_batches(tmp_path, monkeypatch, events)
    folded = fold_month(JAN, cached.events, ZoneInfo("UTC"))
    assert folded.not_finite == 1
    assert sum(row.charged_cents for row in folded.rows) == 7 * 3
    assert sum(row.list_cents for row in folded.rows) == 8 * 3


def test_rows_are_kept_in_export_order_and_charges_sharing_a_key_are_summed():
    from cursor_billing.views.export import charge_lines

    start = JAN.start_ms(ZoneInfo("UTC"))
    ledger = ledger_of(
        usage_event(start + 5, email="zed@example.com", cents=2.5, fee=None),
        usage_event(start + 4, email="amy@example.com", cents=1.25, fee=None),
        usage_event(start + 3, email="bob@example.com", cents=0.5, fee=None),
        usage_event(start + 2, email="amy@example.com", model="a-model", cents=1, fee=None),
    )
    (month,) = ledger.months
    assert [(r.user, r.model) for r in month.rows] == [
        ("amy@example.com", "a-model"),
        ("amy@example.com", "claude-4.5-sonnet"),
        ("bob@example.com", "claude-4.5-sonnet"),
        ("zed@example.com", "claude-4.5-sonnet"),
    ]

    merged = ledger.relabel_users(lambda row: "someone" if row.user != "amy@example.com" else "amy")
    lines = list(charge_lines(merged))
    assert [(line.row.user, line.row.model, line.row.requests) for line in lines] == [
        ("amy", "a-model", 1),
        ("amy", "claude-4.5-sonnet", 1),
        ("someone", "claude-4.5-sonnet", 2),
    ]
    assert lines[-1].row.charged_cents == Decimal("3.0")
    assert lines[-1].list_cents == Decimal("3.0")
    assert lines[-1].row.input_tokens == 2000
