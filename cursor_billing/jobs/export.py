"""The export job (SPEC §12): the selected cached months as usage CSV or FOCUS CSV, written to a
stream or to a private file. Lines are made and written one month at a time. Never calls the API."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from cursor_billing.jobs.analyze import MonthSelection, Warn, _ignore, load_ledger
from cursor_billing.ledger import Ledger
from cursor_billing.months import Month
from cursor_billing.settings import Settings
from cursor_billing.views.export import ExportFormat, ExportGrain, charge_lines, usage_lines


@dataclass(frozen=True)
class ExportRequest:
    format: ExportFormat = "csv"
    grain: ExportGrain = "day"  # the CSV's periods; FOCUS rows are always per day
    selection: MonthSelection = MonthSelection()
    anonymize: bool = False  # every e-mail replaced by its pseudonym (SPEC §14)


@dataclass(frozen=True)
class ExportResult:
    months: tuple[Month, ...]
    rows: int
    path: Path | None = None  # where it was written; None = the given stream


def export(
    settings: Settings,
    request: ExportRequest,
    now: datetime,
    out: IO[str] | None = None,
    path: Path | None = None,
    warn: Warn = _ignore,
) -> ExportResult:
    """Write the export to `path` (a fresh 0600 file, put in place only when whole) or else to
    `out`. The cache is read, and every error raised, before the first byte is written."""
    ledger = load_ledger(settings, request.selection, now, warn, anonymize=request.anonymize)
    write = _writer(request, settings.account_name)
    if path is None:
        if out is None:
            raise ValueError("export needs a stream or a path")
        return ExportResult(ledger.labels, write(ledger, out))
    from cursor_billing.cache import private_output

    with private_output(path) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        rows = write(ledger, text)
        text.flush()
        text.detach()  # the handle stays open for private_output to fsync and close
    return ExportResult(ledger.labels, rows, path)


def _writer(request: ExportRequest, account_name: str) -> Callable[[Ledger, IO[str]], int]:
    from cursor_billing.render.csv import write_focus_csv, write_usage_csv

    if request.format == "focus":
        return lambda ledger, out: write_focus_csv(charge_lines(ledger), out, account_name)
    return lambda ledger, out: write_usage_csv(usage_lines(ledger, request.grain), out)
