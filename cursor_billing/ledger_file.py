"""The derived ledger file of a complete month (SPEC §6): the month's folded rows beside its cache
file, so that a second `analyze` reads no JSON at all.

`.MM-YYYY-usage-based-data.json.ledger` holds the `MonthLedger` in msgpack with the key it was
folded under: the month file's size, mtime_ns and inode, the format version, the configured time
zone and the team mapping's fingerprint. It is used only when every part of the key still
matches; otherwise the month file is read and validated as always, and the ledger file rebuilt.
A ledger file that is missing, broken, unreadable or not a regular file is ignored (and
rewritten); failing to write one is never an error. Only complete months get one: their file
no longer changes and their status does not depend on the clock."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import msgspec

from cursor_billing.cache import CacheDir, write_private
from cursor_billing.choices import DataSource
from cursor_billing.errors import CacheError
from cursor_billing.ledger import MonthLedger, Row
from cursor_billing.months import Month

FORMAT_VERSION = 2  # 2: rows in `ROW_ORDER`
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


class _Stored(msgspec.Struct, array_like=True):
    key: LedgerKey
    zone: str  # the zone the month was fetched (and folded) in
    read_warning: str | None  # what reading the month file warned about
    covered_end_ms: int
    source: DataSource
    not_finite: int
    negative: int
    warnings: list[str]
    rows: list[Row]


class StoredMonth(msgspec.Struct, frozen=True):
    """A month ledger as a ledger file gives it back."""

    ledger: MonthLedger
    zone: str
    read_warning: str | None


_DECODER = msgspec.msgpack.Decoder(_Stored)
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


def load(cache_dir: CacheDir, month: Month, key: LedgerKey) -> StoredMonth | None:
    """The month's folded ledger when its ledger file was written under `key`, else None."""
    content = _read(cache_dir.ledger_path(month))
    if content is None:
        return None
    try:
        stored = _DECODER.decode(content)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError):
        return None
    if stored.key != key:
        return None
    ledger = MonthLedger(
        month,
        "complete",
        stored.covered_end_ms,
        tuple(stored.rows),
        stored.source,
        stored.not_finite,
        stored.negative,
        tuple(stored.warnings),
    )
    return StoredMonth(ledger, stored.zone, stored.read_warning)


def save(
    cache_dir: CacheDir,
    key: LedgerKey,
    ledger: MonthLedger,
    zone: str,
    read_warning: str | None,
) -> None:
    """Write the month's ledger file (0600, atomically) if the month is complete; a failure
    only means the next run folds the month file again."""
    if not ledger.complete:
        return
    stored = _Stored(
        key,
        zone,
        read_warning,
        ledger.covered_end_ms,
        ledger.source,
        ledger.not_finite,
        ledger.negative,
        list(ledger.warnings),
        list(ledger.rows),
    )
    try:
        write_private(cache_dir.ledger_path(ledger.month), _ENCODER.encode(stored))
    except CacheError:
        pass


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
