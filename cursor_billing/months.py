"""Calendar months in the configured time zone, as inclusive epoch-millisecond ranges, and
their split into API windows of at most 30 days (SPEC §4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cursor_billing.errors import UsageError

MAX_WINDOW_MS = 30 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
_LABEL = re.compile(r"(\d{2})-(\d{4})")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, label: str) -> Month:
        """`MM-YYYY` → Month; anything else is a usage error."""
        match = _LABEL.fullmatch(label.strip())
        if not match or not 1 <= int(match.group(1)) <= 12 or int(match.group(2)) < 1970:
            raise UsageError(f"'{label}' is not a month: expected MM-YYYY, e.g. 01-2026")
        return cls(int(match.group(2)), int(match.group(1)))

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


@dataclass(frozen=True)
class MonthWindow:
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
    """The current month (in `now`'s zone) and the count−1 before it, oldest first."""
    if count < 1:
        raise UsageError(f"--months-back must be at least 1, not {count}")
    months = [Month.containing(now)]
    while len(months) < count:
        months.append(months[-1].previous())
    return months[::-1]


def check_not_future(month: Month, now: datetime) -> Month:
    if month > Month.containing(now):
        raise UsageError(f"{month.label} is in the future: nothing to fetch yet")
    return month


def epoch_ms(moment: datetime) -> int:
    """An aware datetime as epoch milliseconds, exactly (no float rounding)."""
    # The epoch in another tzinfo object makes the subtraction honour both UTC offsets.
    return (moment - _EPOCH) // timedelta(milliseconds=1)
