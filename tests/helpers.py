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
