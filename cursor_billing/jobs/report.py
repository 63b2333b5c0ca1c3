"""The report job shared by `report`, `run` and `demo`: the analysis, written as the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cursor_billing.jobs.analyze import MonthSelection, Warn, _ignore, analyze
from cursor_billing.settings import Settings
from cursor_billing.views.report import BillingReport


@dataclass(frozen=True)
class WrittenReport:
    report: BillingReport
    path: Path


def write_report(
    settings: Settings,
    selection: MonthSelection,
    path: Path,
    now: datetime,
    warn: Warn = _ignore,
    *,
    anonymize: bool = False,
) -> WrittenReport:
    """Analyze the selected months and write the dashboard to `path`."""
    from cursor_billing.render.html import write_dashboard

    report = analyze(settings, selection, now, warn, anonymize=anonymize)
    write_dashboard(report, path, top=settings.top_spenders_count, generated_at=now)
    return WrittenReport(report, path)
