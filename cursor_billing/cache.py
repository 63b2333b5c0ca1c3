"""The local monthly cache (SPEC §6): one JSON file per month, written atomically, readable by
its owner only, and never trusted when it is not whole and right."""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from cursor_billing import jsonout
from cursor_billing.choices import CostBasis, DataSource
from cursor_billing.errors import CacheError
from cursor_billing.events import ZERO, UsageEvent
from cursor_billing.months import Month

SCHEMA_VERSION = 1
FILE_SUFFIX = "-usage-based-data.json"
_MONTH = r"((?:0[1-9]|1[0-2])-\d{4})"
_FILE_NAME = re.compile(_MONTH + re.escape(FILE_SUFFIX))
# Numbers stay numbers: CSV imports hold exact Decimal cents (API events hold what was sent).


class Covered(msgspec.Struct):
    start_ms: int
    end_ms: int


class _Header(msgspec.Struct):
    """What every cache file holds besides its events; legacy files have only the first four."""

    month: str
    total_events: int
    fetched_at: str = ""
    schema_version: int = 0
    timezone: str | None = None
    complete: bool = True
    covered: Covered | None = None
    source: DataSource = "api"


class _RawFile(_Header):
    events: list[dict[str, Any]] = []


class _BillingFile(_Header):
    events: list[UsageEvent] = []


@dataclass
class MonthlyCache:
    """One cached month: its events exactly as the API sent them, and how they were fetched."""

    month: Month
    timezone: str
    fetched_at: datetime
    complete: bool
    covered_start_ms: int
    covered_end_ms: int
    events: list[dict[str, Any]]
    source: DataSource = "api"


@dataclass(frozen=True)
class CachedMonth:
    """A cache file read for analysis: only the fields the analytics need."""

    month: Month
    timezone: str | None
    fetched_at: str
    complete: bool
    covered: Covered | None
    events: list[UsageEvent]
    path: Path
    source: DataSource = "api"
    warning: str | None = None  # some values had unexpected types and count as 0


class CacheDir:
    """The folder `<data_dir>/monthly_usage_data/` and the files in it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, month: Month) -> Path:
        return self.root / f"{month.label}{FILE_SUFFIX}"

    def journal_path(self, month: Month) -> Path:
        """Where an unfinished fetch of the month keeps the pages it has saved so far."""
        return self.root / f".{month.label}{FILE_SUFFIX}.journal"

    def months(self) -> list[Month]:
        """Every month with a cache file, chronological."""
        if not self.root.is_dir():
            return []
        found = (_FILE_NAME.fullmatch(p.name) for p in self.root.iterdir())
        return sorted(Month.parse(m.group(1)) for m in found if m)

    def read(self, month: Month) -> MonthlyCache:
        """The month with its raw events, for a fetch that refreshes it."""
        path = self.path_for(month)
        data = self._decode(path, _RawFile)
        return MonthlyCache(
            month=month,
            timezone=data.timezone or "UTC",
            fetched_at=_parse_time(data.fetched_at),
            complete=data.complete,
            covered_start_ms=data.covered.start_ms if data.covered else 0,
            covered_end_ms=data.covered.end_ms if data.covered else 0,
            events=data.events,
            source=data.source,
        )

    def read_for_analysis(self, month: Month) -> CachedMonth:
        """The month decoded straight into `UsageEvent`s: fast, and exact for money."""
        path = self.path_for(month)
        warning = None
        try:
            data = self._decode(path, _BillingFile)
        except _OddShapes as odd:
            warning = f"{path.name}: {odd}; such values count as 0"
            raw = self._decode(path, _RawFile)
            events = [UsageEvent.from_raw(event) for event in raw.events]
            data = _BillingFile(
                **{f: getattr(raw, f) for f in _Header.__struct_fields__}, events=events
            )
        return CachedMonth(
            month=month,
            timezone=data.timezone,
            fetched_at=data.fetched_at,
            complete=data.complete,
            covered=data.covered,
            events=data.events,
            path=path,
            source=data.source,
            warning=warning,
        )

    def write(self, cache: MonthlyCache) -> Path:
        """Write the month whole or not at all: a temporary file, fsync, then rename."""
        document = {
            "schema_version": SCHEMA_VERSION,
            "month": cache.month.label,
            "timezone": cache.timezone,
            "fetched_at": _format_time(cache.fetched_at),
            "complete": cache.complete,
            "covered": {"start_ms": cache.covered_start_ms, "end_ms": cache.covered_end_ms},
            "source": cache.source,
            "total_events": len(cache.events),
            "events": cache.events,
        }
        path = self.path_for(cache.month)
        write_private(path, jsonout.encode(document))
        return path

    def remove(self, month: Month) -> list[Path]:
        """Delete the month's cache file, unfinished journal and any temporary file left by a
        killed write (they hold e-mails too); returns what was deleted."""
        removed = []
        name = self.path_for(month).name
        leftovers = self.root.glob(f".{name}.*.tmp") if self.root.is_dir() else []
        for path in (self.path_for(month), self.journal_path(month), *leftovers):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed.append(path)
        return removed

    @contextmanager
    def fetch_lock(self) -> Iterator[None]:
        """One fetch at a time per cache: two would write the same journals. The operating
        system releases the lock when the process ends, however it ends."""
        ensure_private_dir(self.root)
        descriptor = os.open(self.root / ".fetch.lock", os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "r+b") as handle:
            try:
                _lock_exclusively(handle.fileno())
            except OSError:
                raise CacheError(
                    f"a fetch is updating {self.root}", hint="wait for it to finish"
                ) from None
            yield

    def journal_months(self) -> list[Month]:
        if not self.root.is_dir():
            return []
        pattern = re.compile(r"\." + _MONTH + re.escape(FILE_SUFFIX) + r"\.journal")
        found = (pattern.fullmatch(p.name) for p in self.root.iterdir())
        return sorted(Month.parse(m.group(1)) for m in found if m)

    def _decode(self, path: Path, shape: type[_Header]) -> Any:
        month = _FILE_NAME.fullmatch(path.name).group(1)  # type: ignore[union-attr]
        purge = f"cursor-billing cache purge --month {month}"
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise CacheError(
                f"no cache file for {month} ({path})", hint="run `cursor-billing fetch` first"
            ) from None
        except OSError as error:
            raise CacheError(f"cannot read {path}: {error.strerror}") from None
        try:
            with handle:
                data = _decode_file(handle, shape)
        except OSError as error:
            raise CacheError(f"cannot read {path}: {error.strerror}") from None
        except msgspec.ValidationError as error:
            if shape is _BillingFile and "$.events[" in str(error):
                raise _OddShapes(f"an event has a value of an unexpected type ({error})") from None
            raise CacheError(
                f"{path} is not a valid cache file ({error})",
                hint=f"remove it with `{purge}` and fetch again",
            ) from None
        except msgspec.DecodeError:
            raise CacheError(
                f"{path} is not valid JSON (cut short or corrupted)",
                hint=f"remove it with `{purge}` and fetch again",
            ) from None
        if data.month != month:
            raise CacheError(
                f"{path} holds month {data.month!r}, not {month}",
                hint=f"remove it with `{purge}` and fetch again",
            )
        if data.total_events != len(data.events):
            raise CacheError(
                f"{path} says total_events={data.total_events} but holds {len(data.events)} events",
                hint=f"remove it with `{purge}` and fetch again",
            )
        return data


def _decode_file(handle: BinaryIO, shape: type[_Header]) -> Any:
    """Decode the file mapped in memory rather than read into a new bytes object: a big month
    is tens of megabytes, and copying them cost a tenth of `analyze`. msgspec copies what it
    decodes, so nothing refers to the mapping once it is closed."""
    decoder = _DECODERS[shape]
    try:
        content = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # an empty file, or a file system that cannot map files
        return decoder.decode(handle.read())
    with content:
        return decoder.decode(content)


# Raw events are re-written by a refresh: their numbers are read as exact decimals so that no
# digit is lost on the way (SPEC §5); the analysis reads typed fields.
_DECODERS: dict[type[_Header], msgspec.json.Decoder[Any]] = {
    _RawFile: jsonout.exact_decoder(_RawFile),
    _BillingFile: msgspec.json.Decoder(_BillingFile),
}


def _lock_exclusively(descriptor: int) -> None:
    """Lock an open file without waiting; OSError if another process holds it."""
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)


class _OddShapes(Exception):
    """Some event has a field of an unexpected type: decode it the slow, tolerant way."""


def ensure_private_dir(folder: Path) -> None:
    """Create the folder and any missing parents readable by the owner only; folders that
    exist already keep their mode (the data dir may be the user's working folder)."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def write_private(path: Path, content: bytes) -> None:
    """Atomically replace `path` with `content`, mode 0600, its folder 0700."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        ensure_private_dir(path.parent)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise CacheError(f"cannot write {path}: {error.strerror or error}") from None
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform; the rename is still atomic
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class CacheEntry:
    """One row of `cursor-billing cache ls`; `error` says why a file could not be read."""

    month: Month
    path: Path
    size_bytes: int
    events: int = 0
    cost_cents: Decimal = Decimal(0)
    complete: bool = False
    fetched_at: str = ""
    source: DataSource = "api"
    error: CacheError | None = None
    warnings: tuple[str, ...] = ()


def list_entries(cache_dir: CacheDir, cost_basis: CostBasis) -> list[CacheEntry]:
    """A row per cached month with its billable on-demand cost; an unreadable file gets a
    row with its error, so one bad month does not hide the others."""
    entries = []
    for month in cache_dir.months():
        path = cache_dir.path_for(month)
        try:
            cached = cache_dir.read_for_analysis(month)
        except CacheError as error:
            entries.append(CacheEntry(month, path, path.stat().st_size, error=error))
            continue
        from zoneinfo import ZoneInfo

        from cursor_billing.ledger import fold_month

        folded = fold_month(month, cached.events, ZoneInfo(cached.timezone or "UTC"))
        cost = sum((row.cost(cost_basis) for row in folded.rows if row.counts(cost_basis)), ZERO)
        entries.append(
            CacheEntry(
                month=month,
                path=path,
                size_bytes=path.stat().st_size,
                events=len(cached.events),
                cost_cents=cost,
                complete=cached.complete,
                fetched_at=cached.fetched_at,
                warnings=(*([cached.warning] if cached.warning else []), *folded.warnings),
                source=cached.source,
            )
        )
    return entries
