"""Calendar months in the configured time zone, as inclusive epoch-millisecond ranges, and
their split into API windows of at most 30 days (SPEC §4)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import msgspec

from cursor_billing.errors import UsageError

MAX_WINDOW_MS = 30 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
MAX_MONTHS_BACK = 60
_LABEL = re.compile(r"(\d{2})-(\d{4})")
_ISO_LABEL = re.compile(r"(\d{4})-(\d{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Month(msgspec.Struct, frozen=True, order=True):
    year: int
    month: int

    @classmethod
    def parse(cls, label: str) -> Month:
        """`MM-YYYY` (or `YYYY-MM`) → Month; anything else is a usage error. Any year parses:
        whether a month makes sense for a fetch is `check_fetchable`'s question."""
        text = label.strip()
        if match := _LABEL.fullmatch(text):
            number, year = int(match.group(1)), int(match.group(2))
        elif match := _ISO_LABEL.fullmatch(text):
            year, number = int(match.group(1)), int(match.group(2))
        else:
            number = year = 0
        if not 1 <= number <= 12 or year < 1:
            raise UsageError(f"'{label}' is not a month: expected MM-YYYY, e.g. 01-2026")
        return cls(year, number)

    @classmethod
    def containing(cls, moment: datetime) -> Month:
        return cls(moment.year, moment.month)

    @property
    def label(self) -> str:
        return f"{self.month:02d}-{self.year}"

    @property
    def title(self) -> str:
        """'January 2026', for people."""
        return datetime(self.year, self.month, 1).strftime("%B %Y")

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def start_ms(self, zone: ZoneInfo) -> int:
        return epoch_ms(datetime(self.year, self.month, 1, tzinfo=zone))

    def end_ms(self, zone: ZoneInfo) -> int:
        """The last millisecond of the month: the last day 23:59:59.999."""
        return self.next().start_ms(zone) - 1


FIRST_MONTH = Month(2023, 1)  # Cursor's Admin API holds nothing older


class MonthWindow(msgspec.Struct, frozen=True):
    """One API request range: both bounds inclusive, epoch milliseconds."""

    start_ms: int
    end_ms: int


def split_windows(start_ms: int, end_ms: int) -> list[MonthWindow]:
    """Consecutive windows of at most 30 days covering [start_ms, end_ms] exactly once."""
    windows = []
    while start_ms <= end_ms:
        window_end = min(start_ms + MAX_WINDOW_MS - 1, end_ms)
        windows.append(MonthWindow(start_ms, window_end))
        start_ms = window_end + 1
    return windows


def months_back(count: int, now: datetime) -> list[Month]:
    """The current month (in `now`'s zone) and the count−1 before it, oldest first; months
    before `FIRST_MONTH` are left out (the API has nothing there)."""
    if not 1 <= count <= MAX_MONTHS_BACK:
        raise UsageError(f"--months-back must be 1 to {MAX_MONTHS_BACK}, not {count}")
    months = [Month.containing(now)]
    while len(months) < count and months[-1].previous() >= FIRST_MONTH:
        months.append(months[-1].previous())
    return months[::-1]


def check_fetchable(month: Month, now: datetime) -> Month:
    """A month a fetch may ask the API for: not in the future, not before 01-2023."""
    if month > Month.containing(now):
        raise UsageError(f"{month.label} is in the future: nothing to fetch yet")
    if month < FIRST_MONTH:
        raise UsageError(
            f"{month.label} is before {FIRST_MONTH.label}: Cursor's Admin API has no usage that old"
        )
    return month


def epoch_ms(moment: datetime) -> int:
    """An aware datetime as epoch milliseconds, exactly (no float rounding)."""
    # The epoch in another tzinfo object makes the subtraction honour both UTC offsets.
    return (moment - _EPOCH) // timedelta(milliseconds=1)
