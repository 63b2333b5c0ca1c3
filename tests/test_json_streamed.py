"""`analyze --json` is written a chunk of users at a time (`analysis_chunks`): its bytes must be
those of the whole document encoded and indented at once, for any report."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from cursor_billing import jsonout
from cursor_billing.jsonout import Rows, dump_chunks, dumps, materialized
from cursor_billing.ledger import ZERO, Ledger, MonthLedger, Row
from cursor_billing.months import Month
from cursor_billing.render.json import analysis_chunks, analysis_document
from cursor_billing.settings import Anomalies
from cursor_billing.views.report import ReportOptions, billing_report

MODELS = ("gpt-5", "claude-4-opus", "claude-4.5-sonnet", "o3")
EMAILS = ("plain", 'quo"te', "back\\slash", "tab\there", "new\nline", "ünï", "😀", "ctl\x01")


def random_ledger(seed: int, users: int, rows: int, teams: bool) -> Ledger:
    """Up to three months of random rows: odd e-mails, costs with 0–8 places, request-based
    rows (left out on the list basis), teams when asked."""
    rng = random.Random(seed)
    by_month: dict[Month, list[Row]] = defaultdict(list)
    for _ in range(rows):
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(90))
        cost = Decimal(rng.choice([0, 5, 250, rng.randrange(1, 10**9)])).scaleb(-rng.randrange(9))
        user = f"{rng.choice(EMAILS)}{rng.randrange(users)}@example.com"
        by_month[Month(day.year, day.month)].append(
            Row(day, user, rng.choice(MODELS), rng.choice(["ide", "cli"]), rng.random() < 0.9,
                rng.randrange(1, 4), 1, 2, 3, 4, ZERO, cost, cost * 2,
                rng.choice(["a", "b", None]) if teams else None)
        )  # fmt: skip
    months = tuple(
        MonthLedger(month, "complete", int(datetime(2026, month.month, 28,
                    tzinfo=timezone.utc).timestamp() * 1000), tuple(rows))
        for month, rows in sorted(by_month.items())
    )  # fmt: skip
    return Ledger("UTC", months, has_teams=teams)


@pytest.mark.parametrize("seed", range(12))
def test_streamed_analysis_is_the_whole_document_byte_for_byte(seed, monkeypatch):
    rng = random.Random(seed)
    monkeypatch.setattr(jsonout, "_CHUNK", rng.choice([1, 2, 3, 7, 2048]))
    ledger = random_ledger(seed, users=rng.choice([1, 5, 60]), rows=rng.choice([0, 1, 300]),
                           teams=seed % 3 == 0)  # fmt: skip
    options = ReportOptions(
        cost_basis=rng.choice(["list", "charged"]),
        expensive_models=tuple(rng.sample(MODELS, rng.randrange(3))),
        expensive_models_count=rng.randrange(4),
        anonymized=seed % 2 == 1,
        anomalies=Anomalies() if seed % 4 == 1 else None,
    )
    report = billing_report(ledger, options)
    whole = dumps(analysis_document(report, decimals=True))
    assert b"".join(analysis_chunks(report)) == whole
    if report.users:
        assert len(list(analysis_chunks(report))) > 3  # written in pieces, not whole


def test_rows_anywhere_in_a_document_stream_as_the_materialized_document(monkeypatch):
    monkeypatch.setattr(jsonout, "_CHUNK", 2)
    squares = Rows(range(5), lambda n: {"n": n, "sq": [n * n]})
    nested = Rows(range(3), lambda n: {"n": n, "inner": Rows(range(n), str)}, nested=True)
    document = {
        "empty": Rows([], str),
        "squares": squares,
        "deep": {"x": {"y": [1, {"z": nested}]}, "none": None},
        "plain": [{}, [], {"a": [1.5, Decimal("2.50")]}],
        "after": "é",
    }
    whole = dumps(materialized(document))
    assert b"".join(dump_chunks(document)) == whole
    assert materialized(document)["deep"]["x"]["y"][1]["z"][2] == {"n": 2, "inner": ["0", "1"]}
