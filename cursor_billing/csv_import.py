"""`import-csv`: Cursor's dashboard usage export (CSV) into the monthly cache (SPEC §12).

Every given file is read and checked whole before anything is written, so a malformed file costs
no data. Kept rows become on-demand events shaped like the API's; they are grouped into months of
the configured time zone and written as complete months with `source: "csv"`."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from cursor_billing.cache import CacheDir, MonthlyCache
from cursor_billing.errors import UsageError
from cursor_billing.events import is_on_demand_kind
from cursor_billing.months import Month, epoch_ms


class Column(StrEnum):
    """The columns the import reads, by their lower-cased header; other columns are ignored."""

    DATE = "date"
    USER = "user"
    CLOUD_AGENT_ID = "cloud agent id"
    AUTOMATION_ID = "automation id"
    KIND = "kind"
    MODEL = "model"
    MAX_MODE = "max mode"
    CACHE_WRITE = "input (w/ cache write)"
    INPUT = "input (w/o cache write)"
    CACHE_READ = "cache read"
    OUTPUT = "output tokens"
    TOTAL_TOKENS = "total tokens"
    COST = "cost"
    COST_TO_YOU = "cost to you"


class SkipReason(StrEnum):
    NOT_ON_DEMAND = "not on-demand"
    NO_COST = "no cost"
    DUPLICATE = "in an earlier file"


MonthAction = Literal["written", "replaced", "left alone"]

_TOKEN_COLUMNS = (Column.INPUT, Column.OUTPUT, Column.CACHE_WRITE, Column.CACHE_READ)
_TOKEN_FIELDS = ("inputTokens", "outputTokens", "cacheWriteTokens", "cacheReadTokens")
_ID_FIELDS = ((Column.CLOUD_AGENT_ID, "cloudAgentId"), (Column.AUTOMATION_ID, "automationId"))
_NOT_AN_AMOUNT = frozenset({"", "-", "included", "free"})
_AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+")
_COUNT = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YES_NO = {"yes": True, "true": True, "no": False, "false": False}
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NOT_UTF8 = re.compile(r"[\udc80-\udcff]")  # bytes that are not UTF-8, kept by surrogateescape


@dataclass
class MonthImport:
    """What the import found and did for one month."""

    month: Month
    rows_read: int = 0
    kept: int = 0
    skipped: Counter[SkipReason] = field(default_factory=Counter)
    cost_cents: Decimal = Decimal(0)
    action: MonthAction = "written"
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)


@dataclass
class ImportResult:
    months: list[MonthImport]  # chronological
    warnings: list[str]


_Identity = tuple[tuple[str, str], ...]  # a row's non-empty cells by column name
_ReadRow = tuple[_Identity, Month, dict[str, Any] | SkipReason]


@dataclass
class _FileReading:
    """One file's rows, each with its identity for spotting rows repeated in another file."""

    rows: list[_ReadRow]
    warnings: list[str]


def import_exports(
    paths: Sequence[Path],
    cache_dir: CacheDir,
    timezone_name: str,
    now: datetime,
    user: str | None = None,
    replace: bool = False,
) -> ImportResult:
    """Read every file (all checked before anything is written), then write each month that is
    not cached yet, or every month with `replace`."""
    zone = ZoneInfo(timezone_name)
    result = read_exports(paths, zone, user)
    if not result.months:
        return result
    with cache_dir.fetch_lock():  # a fetch running meanwhile would write over these months
        for imported in result.months:
            if cache_dir.path_for(imported.month).exists():
                if not replace:
                    imported.action = "left alone"
                    continue
                imported.action = "replaced"
            month = imported.month
            cache_dir.write(
                MonthlyCache(
                    month=month,
                    timezone=timezone_name,
                    fetched_at=now,
                    complete=True,
                    covered_start_ms=month.start_ms(zone),
                    covered_end_ms=month.end_ms(zone),
                    events=imported.events,
                    source="csv",
                )
            )
            # An unfinished fetch of the month would resume and write over the import.
            cache_dir.journal_path(month).unlink(missing_ok=True)
    left_alone = [m.month.label for m in result.months if m.action == "left alone"]
    if left_alone:
        result.warnings.append(
            f"already cached, left alone: {', '.join(left_alone)} (add --replace to overwrite)"
        )
    return result


def read_exports(paths: Sequence[Path], zone: ZoneInfo, user: str | None = None) -> ImportResult:
    """The months the files hold, without writing anything; a malformed file is a UsageError
    naming the file, the line and the column."""
    months: dict[Month, MonthImport] = {}
    warnings: list[str] = []
    earlier: Counter[_Identity] = Counter()  # most copies in any one file
    for path in paths:
        reading = _read_file(path, zone, user)
        warnings += reading.warnings
        in_this_file: Counter[_Identity] = Counter()
        for identity, month, outcome in reading.rows:
            tally = months.setdefault(month, MonthImport(month))
            tally.rows_read += 1
            in_this_file[identity] += 1
            if in_this_file[identity] <= earlier[identity]:
                tally.skipped[SkipReason.DUPLICATE] += 1
            elif isinstance(outcome, SkipReason):
                tally.skipped[outcome] += 1
            else:
                tally.kept += 1
                tally.cost_cents += outcome["chargedCents"]
                tally.events.append(outcome)
        earlier |= in_this_file  # the union of multisets keeps the larger count
    for tally in months.values():
        tally.events.sort(key=lambda event: int(event["timestamp"]), reverse=True)  # as the API
    return ImportResult([months[m] for m in sorted(months)], warnings)


def _read_file(path: Path, zone: ZoneInfo, user: str | None) -> _FileReading:
    try:
        # surrogateescape: a byte that is not UTF-8 is found below with its line and column.
        handle = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    with handle:
        records = _records(path, csv.reader(handle))
        header_line, header = next(records, (1, []))
        if not any(cell.strip() for cell in header):
            raise UsageError(f"{path} is empty: expected Cursor's usage export with a header line")
        columns = _columns(path, header_line, header)
        if user is None and Column.USER not in columns:
            raise UsageError(
                f"{path} has no User column (a personal export)",
                hint="say whose usage it is with --user EMAIL",
            )
        rows = _RowReader(path, header, columns, zone, user)
        for line, cells in records:
            if any(cells):
                rows.read(line, cells)
    return _FileReading(rows.rows, rows.warnings())


def _records(path: Path, reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each record; quoted cells may span lines."""
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1  # type: ignore[attr-defined]
    except csv.Error as error:
        raise UsageError(f"{path} line {line}: not valid CSV ({error})") from None


def _columns(path: Path, line: int, header: list[str]) -> dict[Column, int]:
    """Where each known column is, by name in any case."""
    found: dict[Column, int] = {}
    for index, name in enumerate(header):
        _check_text(path, line, f"{index + 1}", name)
        key = " ".join(name.split()).lower()
        if key in Column._value2member_map_:
            column = Column(key)
            if column in found:
                raise UsageError(f"{path} line {line}: column {name.strip()} appears twice")
            found[column] = index
    for required in (Column.DATE, Column.MODEL):
        if required not in found:
            raise UsageError(
                f"{path} line {line}, column {required.title()}: missing; the header has "
                f"{_shown(', '.join(header), 120)}",
                hint="give Cursor's usage export as downloaded from the dashboard",
            )
    if Column.COST not in found and Column.COST_TO_YOU not in found:
        raise UsageError(f"{path} line {line}, column Cost: missing")
    return found


class _RowReader:
    """Turns the rows of one file into events or skip reasons, checking every cell it reads."""

    def __init__(
        self,
        path: Path,
        header: list[str],
        columns: dict[Column, int],
        zone: ZoneInfo,
        user: str | None,
    ) -> None:
        self.path, self.header, self.columns = path, header, columns
        self.zone, self.user = zone, user
        self.has_kind = Column.KIND in columns
        # With Kind, Cost says what an on-demand row cost; the oldest export (no Kind) has the
        # money in Cost to you.
        order = (Column.COST, Column.COST_TO_YOU)
        cost_columns = order if self.has_kind else order[::-1]
        self.cost_column = next(c for c in cost_columns if c in columns)
        self.rows: list[_ReadRow] = []
        self.token_mismatches: list[int] = []

    def read(self, line: int, cells: list[str]) -> None:
        if len(cells) > len(self.header):
            raise UsageError(
                f"{self.path} line {line}: {len(cells)} cells, the header has {len(self.header)}"
            )
        cells = cells + [""] * (len(self.header) - len(cells))
        for index, cell in enumerate(cells):
            _check_text(self.path, line, self.header[index].strip() or f"{index + 1}", cell)
        row = _Row(self, line, cells)
        moment = row.date()
        month = Month.containing(moment.astimezone(self.zone))
        tokens = [row.count(column) for column in _TOKEN_COLUMNS]
        cost = row.amount(self.cost_column)
        max_mode = row.yes_no(Column.MAX_MODE)
        outcome: dict[str, Any] | SkipReason
        if self.has_kind and not is_on_demand_kind(row.text(Column.KIND)):
            outcome = SkipReason.NOT_ON_DEMAND
        elif cost is None or (not self.has_kind and cost <= 0):
            outcome = SkipReason.NO_COST
        else:
            outcome = self._event(row, moment, tokens, cost, max_mode)
            total = row.count(Column.TOTAL_TOKENS) if row.text(Column.TOTAL_TOKENS) else None
            if total is not None and total != sum(tokens):
                self.token_mismatches.append(line)
        identity = tuple(
            sorted((" ".join(self.header[i].split()).lower(), c) for i, c in enumerate(cells) if c)
        )
        self.rows.append((identity, month, outcome))

    def _event(
        self,
        row: _Row,
        moment: datetime,
        tokens: list[int],
        cost: Decimal,
        max_mode: bool | None,
    ) -> dict[str, Any]:
        email = row.text(Column.USER) or self.user
        if not email:
            raise UsageError(
                f"{self.path} line {row.line}, column {row.name(Column.USER)}: empty",
                hint="say whose rows have no user with --user EMAIL",
            )
        cents = cost * 100
        event: dict[str, Any] = {
            "timestamp": str(epoch_ms(moment)),
            "userEmail": email,
            "model": row.text(Column.MODEL),
            "kind": "Usage-based",
            "isChargeable": True,
            "isTokenBasedCall": True,
            "tokenUsage": {**dict(zip(_TOKEN_FIELDS, tokens, strict=True)), "totalCents": cents},
            "cursorTokenFee": 0,
            "chargedCents": cents,
        }
        if self.has_kind:
            event["kindLabel"] = row.text(Column.KIND)
        if max_mode is not None:
            event["maxMode"] = max_mode
        for column, name in _ID_FIELDS:
            if row.text(column):
                event[name] = row.text(column)
        return event

    def warnings(self) -> list[str]:
        if not self.token_mismatches:
            return []
        lines = ", ".join(str(line) for line in self.token_mismatches[:5])
        more = ", …" if len(self.token_mismatches) > 5 else ""
        return [
            f"{self.path}: {len(self.token_mismatches)} kept row(s) whose token columns do not add "
            f"up to Total Tokens (line {lines}{more}); imported with the columns as they are"
        ]


@dataclass
class _Row:
    reader: _RowReader
    line: int
    cells: list[str]

    def name(self, column: Column) -> str:
        index = self.reader.columns.get(column)
        return _escaped(self.reader.header[index].strip()) if index is not None else column.title()

    def text(self, column: Column) -> str:
        index = self.reader.columns.get(column)
        return self.cells[index].strip() if index is not None else ""

    def fail(self, column: Column, expected: str) -> UsageError:
        return UsageError(
            f"{self.reader.path} line {self.line}, column {self.name(column)}: "
            f"{_shown(self.text(column))} is not {expected}"
        )

    def date(self) -> datetime:
        """ISO-8601 (UTC unless it says otherwise); a bare date is 12:00 UTC that day."""
        text = self.text(Column.DATE)
        try:
            if _BARE_DATE.fullmatch(text):
                return datetime.combine(
                    datetime.fromisoformat(text).date(), time(12), tzinfo=timezone.utc
                )
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(
                Column.DATE, "a date (2026-09-03T14:22:31.123Z or 2026-09-03)"
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    def count(self, column: Column) -> int:
        text = self.text(column)
        if text in ("", "-"):
            return 0
        if not _COUNT.fullmatch(text):
            raise self.fail(column, "a token count")
        return int(text.replace(",", ""))

    def amount(self, column: Column) -> Decimal | None:
        """Dollars as an exact decimal (`1.23`, `$1.23`, `-$0.50`); None for Included, Free,
        `-` or empty."""
        text = self.text(column)
        if text.lower() in _NOT_AN_AMOUNT:
            return None
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        digits = digits.removeprefix("$").strip()
        if not _AMOUNT.fullmatch(digits):
            raise self.fail(column, "a cost (1.23, $1.23, Included, Free, - or empty)")
        return Decimal(sign + digits.replace(",", ""))

    def yes_no(self, column: Column) -> bool | None:
        text = self.text(column)
        if not text:
            return None
        if text.lower() not in _YES_NO:
            raise self.fail(column, "Yes or No")
        return _YES_NO[text.lower()]


def _check_text(path: Path, line: int, column: str, cell: str) -> None:
    bad = _NOT_UTF8.search(cell)
    if bad:
        byte = ord(bad.group()) - 0xDC00
        raise UsageError(
            f"{path} line {line}, column {_escaped(column)}: byte 0x{byte:02x} is not UTF-8",
            hint="save the file as UTF-8 (Cursor's export is UTF-8)",
        )


def _shown(text: str, limit: int = 40) -> str:
    """A cell quoted for an error line: control and bidi characters escaped, long text cut."""
    return "'" + _escaped(text if len(text) <= limit else text[: limit - 1] + "…") + "'"


def _escaped(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)
