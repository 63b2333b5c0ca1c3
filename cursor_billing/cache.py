"""The local monthly cache (SPEC §6): one JSON file per month, written atomically, readable by
its owner only, and never trusted when it is not whole and right."""

from __future__ import annotations

import mmap
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal
from zoneinfo import ZoneInfo

import msgspec

from cursor_billing import jsonout
from cursor_billing.choices import CostBasis, DataSource, MonthStatus
from cursor_billing.errors import CacheError
from cursor_billing.events import ZERO, UsageEvent
from cursor_billing.months import FIRST_MONTH, Month, epoch_ms

SCHEMA_VERSION = 1
FILE_SUFFIX = "-usage-based-data.json"
LOCK_NAME = ".fetch.lock"
_MONTH = r"((?:0[1-9]|1[0-2])-\d{4})"
_FILE_NAME = re.compile(_MONTH + re.escape(FILE_SUFFIX))
# Numbers stay numbers: CSV imports hold exact Decimal cents (API events hold what was sent).
_JOURNAL_NAME = re.compile(r"\." + _MONTH + re.escape(FILE_SUFFIX) + r"\.journal")
# The derived ledger of a cached month (SPEC §6): its folded rows, rebuilt from the month file
# whenever that changes; see `cursor_billing.ledger_file`.
LEDGER_SUFFIX = ".ledger"
_LEDGER_NAME = re.compile(r"\." + _MONTH + re.escape(FILE_SUFFIX) + re.escape(LEDGER_SUFFIX))
_TEMPORARY_NAME = re.compile(r"\..+\.[0-9a-f]+\.tmp")
# Never follow a link planted where a file of ours goes; never block on a FIFO.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def month_status(
    month: Month,
    timezone_name: str | None,
    complete: bool,
    warnings: list[str],
    source: DataSource,
    legacy: bool,
    now: datetime,
) -> MonthStatus:
    """The one classification of a cached month from its file's fields and the clock. CSV
    imports and files of the original script (no `covered`) are complete by definition."""
    if warnings:
        return "unreliable"
    if complete or source == "csv" or legacy:
        return "complete"
    zone = ZoneInfo(timezone_name or "UTC")
    if epoch_ms(now) <= month.end_ms(zone):
        return "in_progress"
    return "closing"


class MonthState(msgspec.Struct, frozen=True, array_like=True):
    """The fields of a cached month that its status is made of, with the clock (`month_status`):
    kept in its ledger file, so that a month in progress read from there follows the clock."""

    timezone: str | None
    complete: bool
    warnings: tuple[str, ...]  # why the month is unreliable
    source: DataSource
    legacy: bool  # a file of the original script (no `covered`)

    def status(self, month: Month, now: datetime) -> MonthStatus:
        return month_status(
            month,
            self.timezone,
            self.complete,
            list(self.warnings),
            self.source,
            self.legacy,
            now,
        )


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
    warnings: list[str] = []


class _RawFile(_Header):
    events: list[dict[str, Any]] = []


class _EventsFile(_Header):
    """The events kept as their JSON text, for `MonthEvents` to decode a batch at a time."""

    events: list[msgspec.Raw] = []


class MonthlyCache(msgspec.Struct):
    """One cached month: its events exactly as the API sent them, and how they were fetched."""

    month: Month
    timezone: str
    fetched_at: datetime
    complete: bool
    covered_start_ms: int
    covered_end_ms: int
    events: list[dict[str, Any]]
    source: DataSource = "api"
    warnings: list[str] = msgspec.field(default_factory=list)  # why the month is unreliable


class CachedMonth(msgspec.Struct, frozen=True):
    """A cache file read for analysis: only the fields the analytics need."""

    month: Month
    timezone: str | None
    fetched_at: str
    complete: bool
    covered: Covered | None
    events: MonthEvents
    path: Path
    source: DataSource = "api"
    warnings: tuple[str, ...] = ()  # why the month is unreliable

    @property
    def warning(self) -> str | None:
        """Some values had unexpected types and count as 0: known once the events are read."""
        return self.events.warning

    @property
    def state(self) -> MonthState:
        return MonthState(
            self.timezone, self.complete, self.warnings, self.source, self.covered is None
        )

    def status(self, now: datetime) -> MonthStatus:
        return self.state.status(self.month, now)


StrayKind = Literal["not a cache file", "leftover temporary file"]


class StrayFile(msgspec.Struct, frozen=True):
    """Something in the cache folder that is not a cache file, a journal or the lock."""

    path: Path
    kind: StrayKind
    size_bytes: int


class CacheDir:
    """The folder `<data_dir>/monthly_usage_data/` and the files in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._checked = False

    def check_folders(self) -> None:
        """Refuse a cache folder or data folder that another user could tamper with, before
        anything in it is read or written (SPEC §6)."""
        if not self._checked:
            check_folder_safe(self.root.parent)
            check_folder_safe(self.root)
            self._checked = True

    def path_for(self, month: Month) -> Path:
        return self.root / f"{month.label}{FILE_SUFFIX}"

    def journal_path(self, month: Month) -> Path:
        """Where an unfinished fetch of the month keeps the pages it has saved so far."""
        return self.root / f".{month.label}{FILE_SUFFIX}.journal"

    def ledger_path(self, month: Month) -> Path:
        """Where the month's derived ledger file goes (`cursor_billing.ledger_file`)."""
        return self.root / f".{month.label}{FILE_SUFFIX}{LEDGER_SUFFIX}"

    def months(self) -> list[Month]:
        """Every month with a cache file, chronological. Names that are no month the API can
        hold (`02-1944`), and folders, FIFOs or links under a month's name, are not cache files."""
        return sorted(
            month
            for path, month in self._named(_FILE_NAME)
            if month is not None and _is_regular(path)
        )

    def _named(self, pattern: re.Pattern[str]) -> Iterator[tuple[Path, Month | None]]:
        """The folder's entries whose name fits `pattern`, with the month in it (None when
        the month is before the API's first)."""
        self.check_folders()
        try:
            paths = sorted(self.root.iterdir())
        except FileNotFoundError:
            return
        except OSError as error:
            raise CacheError(f"cannot read {self.root}: {error.strerror}") from None
        for path in paths:
            match = pattern.fullmatch(path.name)
            if match:
                month = Month.parse(match.group(1))
                yield path, month if month >= FIRST_MONTH else None

    def strays(self) -> list[StrayFile]:
        """What `cache ls` lists besides the months: temporary files a killed write left
        (the next fetch removes them) and anything that is not a cache file."""
        self.check_folders()
        known = {path for path, month in self._named(_FILE_NAME) if month and _is_regular(path)}
        known |= {p for p, month in self._named(_JOURNAL_NAME) if month and _is_regular(p)}
        known |= {p for p, month in self._named(_LEDGER_NAME) if month and _is_regular(p)}
        found = []
        for path in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            if path in known or path.name == LOCK_NAME:
                continue
            info = path.lstat()
            leftover = stat.S_ISREG(info.st_mode) and _TEMPORARY_NAME.fullmatch(path.name)
            kind: StrayKind = "leftover temporary file" if leftover else "not a cache file"
            found.append(StrayFile(path, kind, info.st_size))
        return found

    def remove_leftovers(self) -> list[Path]:
        """Delete the temporary files of writes killed before their rename (they hold e-mails);
        only under the fetch lock, so that no write in progress loses its file."""
        leftovers = [s.path for s in self.strays() if s.kind == "leftover temporary file"]
        for path in leftovers:
            path.unlink(missing_ok=True)
        return leftovers

    def read(self, month: Month, with_events: bool = True) -> MonthlyCache:
        """The month with its raw events, for a fetch that refreshes it; without them (faster:
        nothing of the events is kept), to decide whether there is anything to fetch."""
        path = self.path_for(month)
        data, _ = self._decode(path, _RawFile if with_events else _Header)
        return MonthlyCache(
            warnings=data.warnings,
            source=data.source,
            month=month,
            timezone=data.timezone or "UTC",
            fetched_at=_parse_time(data.fetched_at),
            complete=data.complete,
            covered_start_ms=data.covered.start_ms if data.covered else 0,
            covered_end_ms=data.covered.end_ms if data.covered else 0,
            events=data.events if with_events else [],
        )

    def read_for_analysis(self, month: Month) -> CachedMonth:
        """The month with its events to decode a batch at a time (`MonthEvents`): fast, exact
        for money, and never all of them in memory as objects."""
        path = self.path_for(month)
        data, mapping = self._decode(path, _EventsFile)
        return CachedMonth(
            month=month,
            timezone=data.timezone,
            fetched_at=data.fetched_at,
            complete=data.complete,
            covered=data.covered,
            events=MonthEvents(path, data.events, mapping),
            path=path,
            source=data.source,
            warnings=tuple(data.warnings),
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
            "warnings": cache.warnings,
            "total_events": len(cache.events),
            "events": cache.events,
        }
        path = self.path_for(cache.month)
        self.check_folders()
        write_private(path, jsonout.encode(document))
        return path

    def remove(self, month: Month) -> list[Path]:
        """Delete the month's cache file, unfinished journal, derived ledger and any temporary
        file left by a killed write (they hold e-mails too); returns what was deleted."""
        self.check_folders()
        removed = []
        name = self.path_for(month).name
        leftovers: list[Path] = []
        if self.root.is_dir():
            leftovers += self.root.glob(f".{name}.*.tmp")
            leftovers += self.root.glob(f"..{name}{LEDGER_SUFFIX}.*.tmp")
        derived = (self.journal_path(month), self.ledger_path(month))
        for path in (self.path_for(month), *derived, *leftovers):
            if not _is_regular(path):  # a folder or FIFO under a cache file's name: not ours
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as error:
                raise CacheError(f"cannot delete {path}: {error.strerror}") from None
            removed.append(path)
        return removed

    @contextmanager
    def fetch_lock(self) -> Iterator[None]:
        """One fetch at a time per cache: two would write the same journals. The operating
        system releases the lock when the process ends, however it ends."""
        self.check_folders()
        path = self.root / LOCK_NAME
        try:
            ensure_private_dir(self.root)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        except OSError as error:
            raise CacheError(f"cannot create {path}: {error.strerror or error}") from None
        with os.fdopen(descriptor, "r+b") as handle:
            try:
                _lock_exclusively(handle.fileno())
            except OSError:
                raise CacheError(
                    f"a fetch is updating {self.root}", hint="wait for it to finish"
                ) from None
            yield

    def journal_months(self) -> list[Month]:
        return sorted(
            month
            for path, month in self._named(_JOURNAL_NAME)
            if month is not None and _is_regular(path)
        )

    def _decode(self, path: Path, shape: type[_Header]) -> tuple[Any, mmap.mmap | None]:
        """The file decoded and checked, with its mapping when the events stay in it."""
        month = _FILE_NAME.fullmatch(path.name).group(1)  # type: ignore[union-attr]
        purge = f"cursor-billing cache purge --month {month}"
        self.check_folders()
        try:
            handle = _open_regular(path)
        except FileNotFoundError:
            raise CacheError(
                f"no cache file for {month} ({path})", hint="run `cursor-billing fetch` first"
            ) from None
        except OSError as error:
            raise CacheError(f"cannot read {path}: {error.strerror}") from None
        try:
            with handle:
                data, mapping = _decode_file(handle, shape)
        except OSError as error:
            raise CacheError(f"cannot read {path}: {error.strerror}") from None
        except msgspec.ValidationError as error:
            raise _not_valid(path, str(error)) from None
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
        if isinstance(data, _RawFile | _EventsFile) and data.total_events != len(data.events):
            raise CacheError(
                f"{path} says total_events={data.total_events} but holds {len(data.events)} events",
                hint=f"remove it with `{purge}` and fetch again",
            )
        return data, mapping


def _decode_file(handle: BinaryIO, shape: type[_Header]) -> tuple[Any, mmap.mmap | None]:
    """Decode the file mapped in memory rather than read into a new bytes object: a big month
    is tens of megabytes, and copying them cost a tenth of `analyze`. msgspec copies what it
    decodes, so nothing refers to the mapping once it is closed. Except the events' texts
    (`_EventsFile`): each `msgspec.Raw` refers to the mapping, which stays open (and then
    mapped, not copied) until the last of them is gone; it is given back with them."""
    decoder = _DECODERS[shape]
    try:
        content = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # an empty file, or a file system that cannot map files
        return decoder.decode(handle.read()), None
    if shape is _EventsFile:
        data = decoder.decode(content)
        _forget_pages(content)  # read whole to find the events: none needed until a batch
        return data, content
    with content:
        return decoder.decode(content), None


def _forget_pages(mapping: mmap.mmap | None) -> None:
    """Let the pages of a mapped month file go (they are read again from the file's cache if
    touched): once read, the file's pages no longer count in the memory the process holds."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if mapping is not None and advice is not None:
        try:
            mapping.madvise(advice)
        except (OSError, ValueError):
            pass


# Raw events are re-written by a refresh: their numbers are read as exact decimals so that no
# digit is lost on the way (SPEC §5); the analysis reads typed fields.
_DECODERS: dict[type[_Header], msgspec.json.Decoder[Any]] = {
    _RawFile: jsonout.exact_decoder(_RawFile),
    _EventsFile: msgspec.json.Decoder(_EventsFile),
    _Header: msgspec.json.Decoder(_Header),  # the events skipped: is there anything to fetch?
}


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _open_regular(path: Path) -> BinaryIO:
    """Open a cache file for reading, refusing anything but a regular file: a FIFO would
    block forever, a link could point anywhere."""
    descriptor = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise CacheError(f"{path} is not a regular file", hint="move it out of the folder")
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def check_folder_safe(folder: Path) -> None:
    """A data or cache folder that exists must be the user's own and not writable by everyone:
    otherwise another local user could read the e-mails, or plant files and links in it."""
    if os.name == "nt":  # ACLs, not modes: nothing this check could read
        return
    try:
        info = folder.stat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise CacheError(f"cannot use {folder}: {error.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise CacheError(f"{folder} is not a folder", hint="point --data-dir at a folder")
    if info.st_uid != os.geteuid():
        raise CacheError(
            f"refusing {folder}: it belongs to another user (uid {info.st_uid}), who could read "
            "or replace the cached data",
            hint="use a folder of your own with --data-dir (or billing.data_dir)",
        )
    if info.st_mode & stat.S_IWOTH:
        raise CacheError(
            f"refusing {folder}: every user can write in it and plant files there",
            hint=f"make it private with `chmod 700 {folder}`",
        )


def _lock_exclusively(descriptor: int) -> None:
    """Lock an open file without waiting; OSError if another process holds it."""
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _not_valid(path: Path, error: str) -> CacheError:
    month = _FILE_NAME.fullmatch(path.name).group(1)  # type: ignore[union-attr]
    return CacheError(
        f"{path} is not a valid cache file ({error})",
        hint=f"remove it with `cursor-billing cache purge --month {month}` and fetch again",
    )


# Events decoded per batch: a few hundred at a time bound the memory by the month file (its
# bytes and a small `msgspec.Raw` per event), not by a million decoded events. A batch this
# small is still in the processor's cache when the fold reads it: decode and fold took about
# a sixth less CPU time than with 2,000 (and than the whole month decoded at once).
BATCH_EVENTS = 500
FORGET_EVERY = 64  # batches read between two `_forget_pages`
_EXACT_DECODER = msgspec.json.Decoder(list[UsageEvent])
_TOLERANT_DECODER = jsonout.exact_decoder(list[dict[str, Any]])
_BATCH_INDEX = re.compile(r"`\$\[(\d+)\]")


class MonthEvents:
    """A month file's events, decoded straight into `UsageEvent`s (fast, and exact for money)
    a batch at a time as the fold asks for them. A batch with a value of an unexpected type is
    decoded the slow, tolerant way (`UsageEvent.from_raw`), and `warning` says so."""

    def __init__(
        self, path: Path, texts: list[msgspec.Raw], mapping: mmap.mmap | None = None
    ) -> None:
        self.path = path
        self.texts = texts
        self.mapping = mapping  # the mapped file the texts are in, if it is mapped
        self.warning: str | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def batches(self) -> Iterator[list[UsageEvent]]:
        texts = self.texts
        for number, start in enumerate(range(0, len(texts), BATCH_EVENTS), 1):
            yield self._decode(b"[" + b",".join(texts[start : start + BATCH_EVENTS]) + b"]", start)
            if number % FORGET_EVERY == 0:
                _forget_pages(self.mapping)  # a few MB of the file in memory at most

    def _decode(self, text: bytes, start: int) -> list[UsageEvent]:
        try:
            return _EXACT_DECODER.decode(text)
        except msgspec.ValidationError as error:
            if self.warning is None:
                odd = f"an event has a value of an unexpected type ({_in_file(error, start)})"
                self.warning = f"{self.path.name}: {odd}; such values count as 0"
        try:
            raw = _TOLERANT_DECODER.decode(text)
        except msgspec.ValidationError as error:
            raise _not_valid(self.path, _in_file(error, start)) from None
        return [UsageEvent.from_raw(event) for event in raw]


def _in_file(error: msgspec.ValidationError, start: int) -> str:
    """The error of a batch decode, naming the event by its place in the file."""
    return _BATCH_INDEX.sub(lambda m: f"`$.events[{start + int(m.group(1))}]", str(error))


def ensure_private_dir(folder: Path) -> None:
    """Create the folder and any missing parents readable by the owner only; folders that
    exist already keep their mode (the data dir may be the user's working folder)."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def write_private(path: Path, content: bytes) -> None:
    """Atomically replace `path` with `content`, mode 0600, its folder 0700: the one way the
    tool writes a file (cache, journal start, report, exports). The temporary file has a random
    name and is created fresh, never through an existing file or link, so in a shared folder
    nobody can pre-create it; the rename then replaces `path` itself, never a link's target."""
    temporary = _temporary_beside(path)
    try:
        ensure_private_dir(path.parent)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
        descriptor = os.open(temporary, flags, 0o600)
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


class CacheEntry(msgspec.Struct, frozen=True):
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
    status: MonthStatus | None = None  # None when the file could not be read


def list_entries(
    cache_dir: CacheDir, cost_basis: CostBasis, now: datetime | None = None
) -> list[CacheEntry]:
    """A row per cached month with its billable on-demand cost; an unreadable file gets a
    row with its error, so one bad month does not hide the others."""
    from zoneinfo import ZoneInfo

    from cursor_billing.ledger import fold_month

    entries = []
    for month in cache_dir.months():
        path = cache_dir.path_for(month)
        try:
            cached = cache_dir.read_for_analysis(month)
            folded = fold_month(month, cached.events, ZoneInfo(cached.timezone or "UTC"))
        except CacheError as error:
            entries.append(CacheEntry(month, path, path.stat().st_size, error=error))
            continue
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
                status=cached.status(now or datetime.now(timezone.utc)),
            )
        )
    return entries


@contextmanager
def private_output(path: Path) -> Iterator[BinaryIO]:
    """A file the caller writes in pieces (an export), put in place whole or not at all: a
    fresh temporary file (random name, created exclusively, never following a link), mode
    0600, renamed over `path` once the block ends without an error. A `path` that is a
    symbolic link or not a regular file is refused: nothing is written through it."""
    try:
        found = path.lstat()
    except FileNotFoundError:
        found = None
    except OSError as error:
        raise CacheError(f"cannot write {path}: {error.strerror or error}") from None
    if found is not None and stat.S_ISLNK(found.st_mode):
        raise CacheError(
            f"refusing to write {path}: it is a symbolic link",
            hint="give the path of a new or regular file",
        )
    if found is not None and not stat.S_ISREG(found.st_mode):
        raise CacheError(f"refusing to write {path}: it is not a regular file")
    temporary = _temporary_beside(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
    try:
        ensure_private_dir(path.parent)
        descriptor = os.open(temporary, flags, 0o600)
    except OSError as error:
        raise CacheError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise CacheError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _temporary_beside(path: Path) -> Path:
    """A fresh name beside `path` for a file written whole, then renamed over it."""
    import secrets  # hashlib and hmac: only a run that writes a file loads them

    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
