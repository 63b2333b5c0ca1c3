"""Small builders shared by the tests: usage events and cache files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cursor_billing.months import Month

UTC = ZoneInfo("UTC")


def usage_event(
    timestamp: int,
    email: str = "ada@example.com",
    model: str = "claude-4.5-sonnet",
    cents: float = 1.5,
    fee: float | None = 0.25,
    kind: str = "Usage-based",
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "timestamp": str(timestamp),
        "userEmail": email,
        "model": model,
        "kind": kind,
        "maxMode": False,
        "isHeadless": False,
        "isTokenBasedCall": True,
        "isChargeable": True,
        "requestsCosts": 1,
        "tokenUsage": {
            "inputTokens": 1000,
            "outputTokens": 200,
            "cacheWriteTokens": 0,
            "cacheReadTokens": 5000,
            "totalCents": cents,
        },
        "serviceAccountId": "null",
    }
    if fee is not None:
        event["cursorTokenFee"] = fee
    event.update(extra)
    return event


def write_cache_file(
    data_dir: Path, label: str, events: list[dict[str, Any]], complete: bool = True, **fields: Any
) -> Path:
    """A cache file in the SPEC §6 format, written plainly (not through the code under test)."""
    month = Month.parse(label)
    document = {
        "schema_version": 1,
        "month": label,
        "timezone": "UTC",
        "fetched_at": "2026-02-24T16:30:00Z",
        "complete": complete,
        "covered": {"start_ms": month.start_ms(UTC), "end_ms": month.end_ms(UTC)},
        "total_events": len(events),
        "events": events,
    }
    document.update(fields)
    folder = data_dir / "monthly_usage_data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{label}-usage-based-data.json"
    path.write_text(json.dumps(document))
    return path


class ReportBuilder:
    """Months of decoded events in, a `BillingReport` out: the fold and the views as the jobs
    use them, for tests that build reports by hand."""

    def __init__(
        self,
        cost_basis: str = "list",
        expensive_models: tuple[str, ...] | list[str] = (),
        expensive_models_count: int = 5,
        timezone: str = "UTC",
    ) -> None:
        from cursor_billing.views.report import ReportOptions

        if expensive_models_count < 0:
            raise ValueError("expensive_models_count must not be negative")
        self.options = ReportOptions(
            cost_basis=cost_basis,  # type: ignore[arg-type]
            expensive_models=tuple(expensive_models),
            expensive_models_count=expensive_models_count,
        )
        self.timezone = timezone
        self.months: dict[Month, Any] = {}

    def add_month(self, label: str, complete: bool, events: list) -> None:
        from cursor_billing.ledger import fold_month

        month = Month.parse(label)
        if month in self.months:
            raise ValueError(f"month {label} was already added")
        status = "complete" if complete else "in_progress"
        self.months[month] = fold_month(month, list(events), ZoneInfo(self.timezone), status)

    def report(self):
        from cursor_billing.ledger import Ledger
        from cursor_billing.views.report import billing_report

        ledger = Ledger(self.timezone, tuple(self.months[m] for m in sorted(self.months)))
        return billing_report(ledger, self.options)


def labelled(value: Any) -> Any:
    """Months as their labels, inside tuples, lists, dicts and rows of (month, …) pairs."""
    if isinstance(value, Month):
        return value.label
    if isinstance(value, dict):
        return {labelled(k): labelled(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(labelled(item) for item in value)
    return value
