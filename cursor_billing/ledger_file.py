"""The derived ledger file of a cached month (SPEC §6): the month's folded rows beside its cache
file, so that a second `analyze` reads no JSON at all.

`.MM-YYYY-usage-based-data.json.ledger` holds the `MonthLedger` in msgpack: its rows, and the
rows summed on the configured basis (`MonthSums`), which is all a report of complete months
reads; each part is decoded only when a view first asks for it (a checksum of the whole file
catches a damaged one when it is opened). With them, the key they were folded under: the month
file's size, mtime_ns and inode, the format version, the configured time zone and the team
mapping's fingerprint.
It is used only when every part of the key still matches; otherwise the month file is read
and validated as always, and the ledger file rebuilt. A ledger file that is missing, broken,
unreadable or not a regular file is ignored (and rewritten); failing to write one is never an
error. Every month gets one, the month in progress too: a fetch that brings new events writes
a new month file (a new key), and the month's status is made from the clock when the file is
read (`MonthState`), as it is from the month file's own fields."""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, overload

import msgspec

from cursor_billing.cache import CacheDir, MonthState, write_private
from cursor_billing.choices import CostBasis, Source
from cursor_billing.errors import CacheError
from cursor_billing.ledger import MonthLedger, MonthSums, Row, Tally
from cursor_billing.months import Month

# 2: rows in `ROW_ORDER`; 3: the month summed beside them; 4: every month, with its `MonthState`;
# 5: the cells as tallies, each part as msgpack `bin` (`_part`); 6: the cells by model
FORMAT_VERSION = 6
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class LedgerKey(msgspec.Struct, frozen=True, array_like=True):
    """What the folded rows depend on besides the month file's content."""

    format_version: int
    size: int
    mtime_ns: int
    inode: int
    timezone: str  # the configured one
    teams: str | None  # `TeamMapping.fingerprint`, None without teams


def _part(value: Any) -> memoryview:
    """A part of the file encoded on its own, to be stored as msgpack `bin`: opening the file
    steps over it by its length (a `msgspec.Raw` part is walked through element by element, a
    tenth of a second run) and gives a view of it, not a copy, to decode when first read."""
    return memoryview(_ENCODER.encode(value))


class _StoredSums(msgspec.Struct, array_like=True):
    """`MonthSums` as lists, which msgpack stores without keys of several parts."""

    cells: list[tuple[tuple[str, str], Tally]]  # (user, model) and its tally
    days: list[tuple[date, int, Decimal]]
    day_users: memoryview  # list[tuple[date, dict[str, Decimal]]], decoded when first read
    day_spenders: list[tuple[date, int, str]]
    day_models: list[tuple[date, dict[str, tuple[int, Decimal]]]]
    sources: list[tuple[Source, int, Decimal, list[str]]]  # with the source's users
    total_list: Decimal
    total_charged: Decimal
    left_requests: int
    left_charged: Decimal
    models: list[tuple[str, Tally]]

    @classmethod
    def of(cls, sums: MonthSums) -> _StoredSums:
        return cls(
            list(sums.cells.items()),
            [(day, *spend) for day, spend in sums.days.items()],
            _part(list(sums.day_users.items())),
            [(day, *spenders) for day, spenders in sums.day_spenders.items()],
            [
                (day, {model: (spend[0], spend[1]) for model, spend in models.items()})
                for day, models in sums.day_models.items()
            ],
            [
                (source, *spend, sorted(sums.source_users[source]))
                for source, spend in sums.sources.items()
            ],
            sums.total_list,
            sums.total_charged,
            sums.left_requests,
            sums.left_charged,
            list(sums.models.items()),
        )

    def sums(self) -> MonthSums:
        return MonthSums(
            dict(self.cells),
            {day: [requests, cost] for day, requests, cost in self.days},
            _StoredDayUsers(self.day_users),
            {day: (users, top) for day, users, top in self.day_spenders},
            {
                day: {model: list(spend) for model, spend in models.items()}
                for day, models in self.day_models
            },
            {source: [requests, cost] for source, requests, cost, _ in self.sources},
            {source: set(users) for source, _, _, users in self.sources},
            self.total_list,
            self.total_charged,
            self.left_requests,
            self.left_charged,
            dict(self.models),
        )


class _StoredDayUsers(Mapping[date, Mapping[str, Decimal]]):
    """A ledger file's (day, user) costs, decoded when a view first reads them (the
    anomalies, on the latest months only)."""

    __slots__ = ("_raw", "_days")

    def __init__(self, raw: memoryview) -> None:
        self._raw: memoryview | None = raw
        self._days: dict[date, dict[str, Decimal]] = {}

    def _decoded(self) -> dict[date, dict[str, Decimal]]:
        if self._raw is not None:
            self._days = dict(_DAY_USERS.decode(self._raw))
            self._raw = None
        return self._days

    def __getitem__(self, day: date) -> Mapping[str, Decimal]:
        return self._decoded()[day]

    def __iter__(self) -> Iterator[date]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())


class _Stored(msgspec.Struct, array_like=True):
    key: LedgerKey
    zone: str  # the zone the month was fetched (and folded) in
    read_warning: str | None  # what reading the month file warned about
    covered_end_ms: int
    state: MonthState  # what the month's status is made of, with the clock
    not_finite: int
    negative: int
    warnings: list[str]
    sums_basis: CostBasis
    sums: memoryview  # _StoredSums on that basis, decoded when first read
    rows: memoryview  # list[Row], decoded when first read


class _File(msgspec.Struct, array_like=True):
    """The file: `_Stored` and its checksum, so that a damaged file is caught when it is
    opened, not when a view first reads a part decoded late."""

    crc: int  # zlib.crc32 of `stored`
    stored: memoryview


class _StoredRows(Sequence[Row]):
    """A ledger file's rows, decoded when a view first reads them."""

    __slots__ = ("_raw", "_rows")

    def __init__(self, raw: memoryview) -> None:
        self._raw: memoryview | None = raw
        self._rows: tuple[Row, ...] = ()

    def _decoded(self) -> tuple[Row, ...]:
        if self._raw is not None:
            self._rows = tuple(_ROWS.decode(self._raw))
            self._raw = None
        return self._rows

    def __len__(self) -> int:
        return len(self._decoded())

    def __iter__(self) -> Iterator[Row]:
        return iter(self._decoded())

    @overload
    def __getitem__(self, index: int) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Row]: ...
    def __getitem__(self, index: int | slice) -> Row | Sequence[Row]:
        return self._decoded()[index]

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return self._decoded() == tuple(other)

    __hash__ = None  # type: ignore[assignment]


class StoredMonth(msgspec.Struct, frozen=True):
    """A month ledger as a ledger file gives it back."""

    ledger: MonthLedger
    zone: str
    read_warning: str | None
    sums_basis: CostBasis  # the basis of the sums the file keeps
    state: MonthState


def _kept_sums(kept: CostBasis, raw: memoryview) -> Callable[[CostBasis], MonthSums | None]:
    def sums(basis: CostBasis) -> MonthSums | None:
        return _SUMS.decode(raw).sums() if basis == kept else None

    return sums


_FILE = msgspec.msgpack.Decoder(_File)
_DECODER = msgspec.msgpack.Decoder(_Stored)
_SUMS = msgspec.msgpack.Decoder(_StoredSums)
_ROWS = msgspec.msgpack.Decoder(list[Row])
_DAY_USERS = msgspec.msgpack.Decoder(list[tuple[date, dict[str, Decimal]]])
_ENCODER = msgspec.msgpack.Encoder()


def month_key(
    cache_dir: CacheDir, month: Month, timezone: str, teams: str | None
) -> LedgerKey | None:
    """The key of the month file as it is now; None when it is not a regular file."""
    try:
        info = cache_dir.path_for(month).lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return LedgerKey(FORMAT_VERSION, info.st_size, info.st_mtime_ns, info.st_ino, timezone, teams)


def load(cache_dir: CacheDir, month: Month, key: LedgerKey, now: datetime) -> StoredMonth | None:
    """The month's folded ledger when its ledger file was written under `key`, else None; its
    status as of `now`."""
    content = _read(cache_dir.ledger_path(month))
    if content is None:
        return None
    try:
        file = _FILE.decode(content)
        if zlib.crc32(file.stored) != file.crc:
            return None
        stored = _DECODER.decode(file.stored)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError):
        return None
    if stored.key != key:
        return None
    ledger = MonthLedger(
        month,
        stored.state.status(month, now),
        stored.covered_end_ms,
        _StoredRows(stored.rows),
        stored.state.source,
        stored.not_finite,
        stored.negative,
        tuple(stored.warnings),
        kept_sums=_kept_sums(stored.sums_basis, stored.sums),
    )
    return StoredMonth(ledger, stored.zone, stored.read_warning, stored.sums_basis, stored.state)


def save(
    cache_dir: CacheDir,
    key: LedgerKey,
    ledger: MonthLedger,
    zone: str,
    read_warning: str | None,
    basis: CostBasis,
    state: MonthState,
) -> Sequence[Row]:
    """Write the month's ledger file (0600, atomically), with its rows summed on `basis`; a
    failure only means the next run folds the month file again. Gives back the rows as the file
    keeps them (a tenth of their size as objects, decoded again if a view reads them)."""
    rows = _part(list(ledger.rows))
    stored = _Stored(
        key,
        zone,
        read_warning,
        ledger.covered_end_ms,
        state,
        ledger.not_finite,
        ledger.negative,
        list(ledger.warnings),
        basis,
        _part(_StoredSums.of(ledger.sums(basis))),
        rows,
    )
    payload = _ENCODER.encode(stored)
    file = _File(zlib.crc32(payload), memoryview(payload))
    try:
        write_private(cache_dir.ledger_path(ledger.month), _ENCODER.encode(file))
    except CacheError:
        pass
    return _StoredRows(rows)


def _read(path: Path) -> bytes | None:
    """The file's bytes, or None when it is missing, unreadable or not a regular file."""
    try:
        descriptor = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(descriptor)
