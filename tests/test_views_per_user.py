"""The per-user views take shortcuts for users with one cell and for days no user can spike on:
checked here against the plain rules of SPEC §7 and §9 on random ledgers."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Context, Decimal, localcontext

import pytest

from cursor_billing.ledger import EXACT, ZERO, Ledger, MonthLedger, Row
from cursor_billing.months import Month
from cursor_billing.render.json import json_decimal
from cursor_billing.render.text import money
from cursor_billing.settings import Anomalies
from cursor_billing.views.checks import Anomaly, anomalies
from cursor_billing.views.report import ReportOptions, billing_report

RATIO = Context(prec=28)
MODELS = ("gpt-5", "claude-4-opus", "claude-4.5-sonnet")


def random_ledger(seed: int, users: int, rows: int) -> Ledger:
    """Two months (Jan, Feb 2026) of random rows; costs with 0–4 places, ties on purpose."""
    rng = random.Random(seed)
    by_month: dict[Month, list[Row]] = defaultdict(list)
    for _ in range(rows):
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(59))
        cost = Decimal(rng.choice([0, 5, 250, rng.randrange(1, 10**6)])).scaleb(-rng.randrange(5))
        by_month[Month(day.year, day.month)].append(
            Row(day, f"u{rng.randrange(users):05d}@example.com", rng.choice(MODELS), "ide",
                True, rng.randrange(1, 4), 1, 2, 3, 4, ZERO, cost, cost)
        )  # fmt: skip
    months = tuple(
        MonthLedger(month, "complete", int(datetime(2026, month.month + 1, 1,
                    tzinfo=timezone.utc).timestamp() * 1000) - 1, tuple(rows))
        for month, rows in sorted(by_month.items())
    )  # fmt: skip
    return Ledger("UTC", months)


def reference_anomalies(ledger: Ledger, config: Anomalies) -> list[Anomaly]:
    """SPEC §9 spelled out: every user's mean over the baseline days, the median of the means
    of those who spent something, every user of each judged day compared."""
    costs: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in ledger.rows("list"):
        costs[row.day][row.user] += row.list_cents
    last_day = date(2026, 2, 28)
    found = []
    for back in range(config.window_days):
        day = last_day - timedelta(days=back)
        history = [
            d
            for d in (day - timedelta(days=n) for n in range(1, config.baseline_days + 1))
            if d.year == 2026 and d.month <= 2
        ]
        if not history:
            continue
        sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for d in history:
            for user, cost in costs.get(d, {}).items():
                sums[user] += cost
        means = {user: RATIO.divide(total, len(history)) for user, total in sums.items()}
        spenders = [mean for mean in means.values() if mean > 0]
        median = statistics.median(spenders) if spenders else ZERO
        for user, cost in costs.get(day, {}).items():
            own = means.get(user, ZERO)
            baseline = max(own, median)
            if (
                baseline > 0
                and cost >= config.min_usd * 100
                and cost >= config.spike_factor * baseline
            ):
                factor = RATIO.divide(cost, baseline)
                whose = "their" if own >= median else "the team's"
                reason = (
                    f"{user} spent {money(cost)} on {day.isoformat()}, "
                    f"{factor.quantize(Decimal('0.1'))}× {whose} usual {money(baseline)} a day"
                )
                found.append(Anomaly(user, day, cost, baseline, factor, reason))
    found.sort(key=lambda a: (-a.cost_cents, a.email, a.day))
    return found


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("users", "rows"), [(8, 3000), (5000, 3000)])
def test_anomalies_follow_the_spelled_out_rule(seed, users, rows):
    ledger = random_ledger(seed, users, rows)
    configs = [
        Anomalies(),
        Anomalies(spike_factor=Decimal("1.5"), min_usd=Decimal("0.5"), window_days=5),
        Anomalies(spike_factor=Decimal(2), min_usd=Decimal(0), baseline_days=3, window_days=40),
    ]
    seen = 0
    for config in configs:
        with localcontext(EXACT):
            expected = reference_anomalies(ledger, config)
            assert list(anomalies(ledger, "list", config)) == expected
        seen += len(expected)
    assert seen  # the rule was exercised, not only its empty answer


def reference_rounding(value: Decimal) -> Decimal:
    rounded = value.quantize(Decimal("0.000001"), context=EXACT)
    if rounded == rounded.to_integral_value():
        return EXACT.add(rounded.quantize(Decimal(1), context=EXACT), 0)
    return rounded.normalize(EXACT)


def test_json_decimal_rounds_like_quantize_and_normalize():
    rng = random.Random(5)
    values = [
        Decimal(t)
        for t in (
            "1E+2",
            "1.23E+5",
            "-0.0000001",
            "5.000000",
            "100.100",
            "9.9999995",
            "-7",
            "0.000001",
            "1E-7",
            "12.3456785",
        )
    ]
    values += [
        Decimal(rng.randrange(-(10**9), 10**9)).scaleb(-rng.randrange(-3, 10)) for _ in range(20000)
    ]
    for value in values:
        assert str(json_decimal(value)) == str(reference_rounding(value)), value


@pytest.mark.parametrize("seed", range(4))
def test_users_and_month_users_match_their_rows(seed):
    ledger = random_ledger(seed, users=300, rows=700)  # many users with a single cell, some not
    report = billing_report(ledger, ReportOptions(expensive_models=("claude-4-opus",)))
    spend: dict[str, list] = defaultdict(
        lambda: [ZERO, 0, ZERO, set(), defaultdict(lambda: [0, ZERO]), defaultdict(lambda: ZERO)]
    )
    month_spend: dict[tuple[Month, str], list] = defaultdict(lambda: [ZERO, 0])
    for row in ledger.rows("list"):
        month = Month(row.day.year, row.day.month)
        entry = spend[row.user]
        entry[0] += row.list_cents
        entry[1] += row.requests
        if row.model == "claude-4-opus":
            entry[2] += row.list_cents
            entry[3].add(month)
        entry[4][row.model][0] += row.requests
        entry[4][row.model][1] += row.list_cents
        entry[5][month] += row.list_cents
        month_spend[month, row.user][0] += row.list_cents
        month_spend[month, row.user][1] += row.requests
    assert [u.email for u in report.users] == sorted(spend, key=lambda e: (-spend[e][0], e))
    for user in report.users:
        cost, requests, expensive, months, models, by_month = spend[user.email]
        assert (user.cost_cents, user.requests, user.expensive_cost_cents) == (
            cost,
            requests,
            expensive,
        )
        assert user.expensive_months == len(months)
        assert user.expensive_share == (RATIO.divide(expensive, cost) if cost else 0)
        assert user.top_model == min(models, key=lambda m: (-models[m][0], -models[m][1], m))
        assert dict(user.by_month) == {m: by_month[m] for m in ledger.labels}
    assert [(r.month, r.email, r.cost_cents, r.requests) for r in report.month_users] == sorted(
        ((m, e, c, r) for (m, e), (c, r) in month_spend.items()), key=lambda t: (t[0], -t[2], t[1])
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_month_users_of_a_single_month_are_its_users(seed):
    """One month: `month_users` is taken from `users`; checked against the rows themselves."""
    two_months = random_ledger(seed, users=300, rows=700)
    ledger = Ledger("UTC", two_months.months[:1])
    report = billing_report(ledger, ReportOptions(expensive_models=("claude-4-opus",)))
    spend: dict[str, list] = defaultdict(lambda: [ZERO, 0, defaultdict(lambda: [0, ZERO])])
    for row in ledger.rows("list"):
        entry = spend[row.user]
        entry[0] += row.list_cents
        entry[1] += row.requests
        entry[2][row.model][0] += row.requests
        entry[2][row.model][1] += row.list_cents

    def top(models: dict) -> str:
        return min(models, key=lambda m: (-models[m][0], -models[m][1], m))

    expected = [
        (Month(2026, 1), email, cost, requests, top(models))
        for email, (cost, requests, models) in sorted(
            spend.items(), key=lambda item: (-item[1][0], item[0])
        )
    ]
    assert [
        (r.month, r.email, r.cost_cents, r.requests, r.top_model) for r in report.month_users
    ] == expected
    for user in report.users:
        assert user.avg_cost_cents == RATIO.divide(user.cost_cents, user.requests)
        assert str(user.avg_cost_cents) == str(RATIO.divide(user.cost_cents, user.requests))
