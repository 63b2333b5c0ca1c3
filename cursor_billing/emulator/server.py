"""A local HTTP emulator of Cursor's `POST /teams/filtered-usage-events`, faithful to what is known
about the real API (cursor-admin-api.md), with faults that tests can inject.

Choices where the real API's behaviour is unknown:
- Missing dates: `endDate` defaults to now (wall clock) and `startDate` to `endDate` minus 7 days,
  so an empty body asks for the last 7 days. The 30-day limit applies to the result.
- A range longer than 30 days (endDate - startDate + 1 > 30 days of ms) is a 400; so is a date,
  `page` or `pageSize` that is not a whole number (booleans and strings included), an `email`
  that is not a string, or a body that is not a JSON object. An empty body counts as `{}`.
  Unknown fields are ignored.
- Zero results give `numPages = empty_num_pages` (0 by default, 1 if asked). A page past the end
  is empty, `hasNextPage` false, `hasPreviousPage` true.
- Events with equal timestamps keep one fixed order on every request (newest first is the
  reverse of arrival order), so pages never overlap or skip.
- `email` matches `userEmail` exactly (case-sensitive).
- The rate limit counts authenticated requests to the endpoint only (real limits are per team,
  and a request without a valid key names no team). A request refused with 429 still counts.
  Windows are fixed: window index = floor(clock() / rate_window_seconds).
- Order of checks: unknown path 404, wrong method 405, bad key 401; then the request counts
  against the rate limit, takes the next injected fault if there is one, else gets 429 when over
  the limit, else is validated (400) and answered.
- The server's own 429 carries no `Retry-After` (none has ever been observed); an injected
  `Fault.rate_limited(retry_after=...)` does.

Events are served exactly as given (the same dicts, encoded on each request): treat them as
read-only once handed over."""

from __future__ import annotations

import base64
import binascii
import calendar
import http
import math
import operator
import socket
import sys
import threading
import time
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from cursor_billing.emulator.team import Member, Team, iso, name_from_email, user_id_for

ENDPOINT = "/teams/filtered-usage-events"
SPEND_ENDPOINT = "/teams/spend"
MEMBERS_ENDPOINT = "/teams/members"
GROUPS_ENDPOINT = "/teams/groups"
METHODS = {
    ENDPOINT: "POST",
    SPEND_ENDPOINT: "POST",
    MEMBERS_ENDPOINT: "GET",
    GROUPS_ENDPOINT: "GET",
}
DEFAULT_SPEND_PAGE_SIZE = 100
ENTERPRISE_REQUIRED_BODY = {"error": "Forbidden", "message": "Enterprise access required"}
ON_DEMAND_KIND_LABELS = frozenset({"usage-based", "on-demand", "usage_event_kind_usage_based"})
DAY_MS = 86_400_000
MAX_RANGE_MS = 30 * DAY_MS
DEFAULT_RANGE_MS = 7 * DAY_MS
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
RATE_LIMITED_BODY = {
    "error": "Too Many Requests",
    "message": "Rate limit exceeded. Please try again later.",
}
UNAUTHORIZED_BODY = {"error": "Unauthorized", "message": "Invalid Team API Key"}
_NOT_JSON_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server returned an invalid response.</p>"
    b"</body></html>\n"
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received. `status` is 0 when the connection was dropped;
    `at` is the emulator's clock when the request arrived; header names are lower case."""

    path: str
    body: dict[str, Any] | None
    status: int
    at: float
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """A misbehaviour the next authenticated request to the endpoint gets instead of its answer."""

    kind: str
    code: int = 0
    message: str = ""
    retry_after: float | None = None
    seconds: float = 0.0

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        if not 500 <= status <= 599:
            raise ValueError(f"a server error is a 5xx status, not {status}")
        return cls("status", status, "An internal error occurred. Please try again later.")

    @classmethod
    def rate_limited(cls, retry_after: float | None = None) -> Fault:
        return cls("rate_limited", 429, retry_after=retry_after)

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        """Wait `seconds` (really), then answer normally."""
        return cls("latency", seconds=seconds)

    @classmethod
    def drop_connection(cls) -> Fault:
        """Close the socket without sending any HTTP response."""
        return cls("drop_connection")

    @classmethod
    def not_json(cls) -> Fault:
        """200 with an HTML page, as a misconfigured proxy would send."""
        return cls("not_json", 200)

    @classmethod
    def status(cls, code: int, message: str | None = None) -> Fault:
        """Any error status (400, 403, 404, ...) with the `{"error", "message"}` envelope."""
        if not 400 <= code <= 599:
            raise ValueError(f"a fault status is 4xx or 5xx, not {code}")
        return cls("status", code, _phrase(code) if message is None else message)


class Emulator:
    """The fake Admin API server. Use as a context manager, or call start() and stop()."""

    def __init__(
        self,
        events: Iterable[dict[str, Any]] = (),
        api_key: str = "key_test",
        rate_limit: int | None = 20,
        rate_window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        empty_num_pages: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        team: Team | None = None,
        kind_label: bool = False,
        enterprise: bool = True,
        cycle_start_ms: int | None = None,
        admin_rate_limit: int | None = 20,
        wall_clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        if empty_num_pages not in (0, 1):
            raise ValueError("empty_num_pages must be 0 or 1")
        for limit in (rate_limit, admin_rate_limit):
            if limit is not None and limit < 0:
                raise ValueError("rate limits must be >= 0 or None")
        self.api_key = api_key
        self.rate_limit = rate_limit
        self.admin_rate_limit = admin_rate_limit
        self.rate_window_seconds = rate_window_seconds
        self.clock = clock
        self.wall_clock_ms = wall_clock_ms
        self.empty_num_pages = empty_num_pages
        self.kind_label = kind_label
        self.enterprise = enterprise
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._faults: dict[str, deque[Fault]] = {path: deque() for path in METHODS}
        self._windows: dict[str, tuple[int | None, int]] = {}  # path -> (window, requests)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Sorted by timestamp (stable), with the int timestamps in a parallel list for bisect.
        self._events = list(events)
        self._timestamps = [_timestamp_ms(event) for event in self._events]
        if any(map(operator.gt, self._timestamps, islice(self._timestamps, 1, None))):
            order = sorted(range(len(self._events)), key=self._timestamps.__getitem__)
            self._events = [self._events[i] for i in order]
            self._timestamps = [self._timestamps[i] for i in order]
        self._by_email: dict[str, list[int]] | None = None  # positions per e-mail, built lazily
        self.team = team if team is not None else Team.from_events(self._events)
        self._cycle_start_ms = cycle_start_ms
        self._spend_skew: dict[str, Decimal] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = _Server((self.host, self.port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # how long stop() may wait; tests stop a lot
            name="cursor-admin-api-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() first")
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    # -- test controls -----------------------------------------------------------------------

    def inject(self, *faults: Fault, path: str = ENDPOINT) -> None:
        """Queue faults for one endpoint (default: the usage events); each is consumed, in
        order, by one authenticated request to it."""
        if path not in METHODS:
            raise ValueError(f"no such endpoint: {path}")
        with self._lock:
            self._faults[path].extend(faults)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return sum(map(len, self._faults.values()))

    def skew_spend(self, email: str, cents: Decimal | int | str) -> None:
        """Make `/teams/spend` report `cents` more (or less) for `email` than its events add
        up to. An e-mail of nobody on the team adds a member with that spend and no events."""
        with self._lock:
            self._spend_skew[email] = self._spend_skew.get(email, Decimal(0)) + Decimal(cents)

    def cycle(self) -> tuple[int, int]:
        """(start, end) epoch ms of the current billing cycle; end exclusive. The start is
        `cycle_start_ms` if given, else the signup anniversary before the wall clock."""
        if self._cycle_start_ms is not None:
            return self.team.cycle_containing(self._cycle_start_ms, self._cycle_start_ms)
        return self.team.cycle_containing(self.wall_clock_ms())

    def member_spend(self, start_ms: int, end_ms: int) -> dict[str, tuple[Decimal, Decimal, int]]:
        """Per e-mail over [start_ms, end_ms): (on-demand charged cents, included charged
        cents, included requests), from the stored events, without any skew."""
        spend: dict[str, tuple[Decimal, Decimal, int]] = {}
        with self._lock:
            for i in self._positions(start_ms, end_ms - 1, None):
                event = self._events[i]
                bucket = _bucket(event)
                if bucket is None:
                    continue
                email = str(event.get("userEmail"))
                on_demand, included, requests = spend.get(email, (Decimal(0), Decimal(0), 0))
                if bucket == "on_demand":
                    on_demand += charged_cents(event)
                else:
                    included += charged_cents(event)
                    requests += 1
                spend[email] = (on_demand, included, requests)
        return spend

    def members(self) -> list[Member]:
        """The team's members, then anyone else seen in the events or given a spend skew."""
        with self._lock:
            known = {member.email for member in self.team.members}
            extra = [str(e.get("userEmail")) for e in self._events]
            extra += list(self._spend_skew)
        found = list(self.team.members)
        for email in dict.fromkeys(extra):
            if email not in known:
                known.add(email)
                found.append(Member(email, name_from_email(email), user_id_for(email)))
        return found

    def add_events(self, events: Iterable[dict[str, Any]]) -> None:
        """Late-arriving events: each goes after any stored event with the same timestamp."""
        with self._lock:
            for event in events:
                ts = _timestamp_ms(event)
                index = bisect_right(self._timestamps, ts)
                self._timestamps.insert(index, ts)
                self._events.insert(index, event)
            self._by_email = None

    def events_between(
        self, start_ms: int, end_ms: int, email: str | None = None
    ) -> list[dict[str, Any]]:
        """The stored events with start_ms <= timestamp <= end_ms, oldest first."""
        with self._lock:
            positions = self._positions(start_ms, end_ms, email)
            return [self._events[i] for i in positions]

    # -- the endpoint ------------------------------------------------------------------------

    def _admit(self, path: str) -> tuple[Fault | None, bool]:
        """Count one authenticated request to `path` (each endpoint has its own limit); return
        the fault it takes and whether it is over the rate limit."""
        limit = self.rate_limit if path == ENDPOINT else self.admin_rate_limit
        with self._lock:
            over = False
            if limit is not None:
                index = math.floor(self.clock() / self.rate_window_seconds)
                current, used = self._windows.get(path, (None, 0))
                used = used + 1 if index == current else 1
                self._windows[path] = (index, used)
                over = used > limit
            faults = self._faults[path]
            fault = faults.popleft() if faults else None
            return fault, over

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _positions(self, start_ms: int, end_ms: int, email: str | None) -> range | list[int]:
        """Positions in self._events of the matching events, ascending. Call with the lock."""
        if email is None:
            return range(
                bisect_left(self._timestamps, start_ms), bisect_right(self._timestamps, end_ms)
            )
        if self._by_email is None:
            by_email: dict[str, list[int]] = {}
            for position, event in enumerate(self._events):
                by_email.setdefault(str(event.get("userEmail")), []).append(position)
            self._by_email = by_email
        positions = self._by_email.get(email, [])
        stamps = self._timestamps
        lo = bisect_left(positions, start_ms, key=stamps.__getitem__)
        hi = bisect_right(positions, end_ms, key=stamps.__getitem__)
        return positions[lo:hi]

    def _page(self, query: _Query) -> bytes:
        """The JSON body of one page, newest first."""
        with self._lock:
            positions = self._positions(query.start_ms, query.end_ms, query.email)
            total = len(positions)
            # Newest first: page 1 starts at the end of the ascending positions.
            first = total - (query.page - 1) * query.page_size
            last = max(0, first - query.page_size)
            page = [self._events[positions[i]] for i in range(first - 1, last - 1, -1)]
            if self.kind_label:
                page = [_with_kind_label(event) for event in page]
            events_json = msgspec.json.encode(page)
        num_pages = math.ceil(total / query.page_size) if total else self.empty_num_pages
        pagination = {
            "numPages": num_pages,
            "currentPage": query.page,
            "pageSize": query.page_size,
            "hasNextPage": query.page < num_pages,
            "hasPreviousPage": query.page > 1,
        }
        period = {"startDate": query.start_ms, "endDate": query.end_ms}
        return b"".join(
            (
                b'{"totalUsageEventsCount":%d,"pagination":' % total,
                msgspec.json.encode(pagination),
                b',"usageEvents":',
                events_json,
                b',"period":',
                msgspec.json.encode(period),
                b"}",
            )
        )

    def _spend_page(self, query: _SpendQuery) -> bytes:
        start, end = self.cycle()
        spend = self.member_spend(start, end)
        with self._lock:
            skew = dict(self._spend_skew)
        rows: list[dict[str, Any]] = []
        for member in self.members():
            on_demand, included, requests = spend.get(member.email, (Decimal(0), Decimal(0), 0))
            on_demand += skew.get(member.email, Decimal(0))
            limit = member.monthly_limit_dollars
            effective = member.hard_limit_override_dollars or limit
            rows.append(
                {
                    "userId": member.user_id,
                    "name": member.name,
                    "email": member.email,
                    "role": member.role,
                    "spendCents": on_demand,
                    "includedSpendCents": included,
                    "fastPremiumRequests": requests,
                    "hardLimitOverrideDollars": member.hard_limit_override_dollars,
                    "monthlyLimitDollars": limit,
                    "effectivePerUserLimitDollars": (
                        effective if effective is not None else self.team.default_user_limit_dollars
                    ),
                }
            )
        if query.search:
            needle = query.search.casefold()
            rows = [
                r for r in rows if needle in r["email"].casefold() or needle in r["name"].casefold()
            ]
        key = {"amount": "spendCents", "user": "email", "date": "userId"}[query.sort_by]
        rows.sort(key=lambda row: row["email"])
        rows.sort(key=lambda row: row[key], reverse=query.descending)
        total_pages = math.ceil(len(rows) / query.page_size)
        first = (query.page - 1) * query.page_size
        return _ENCODER.encode(
            {
                "teamMemberSpend": rows[first : first + query.page_size],
                "subscriptionCycleStart": start,
                "totalMembers": len(rows),
                "totalPages": total_pages,
            }
        )

    def _members_body(self) -> bytes:
        return _ENCODER.encode(
            {
                "teamMembers": [
                    {
                        "id": member.user_id,
                        "name": member.name,
                        "email": member.email,
                        "role": member.role,
                        "isRemoved": member.is_removed,
                    }
                    for member in self.members()
                ]
            }
        )

    def _groups_body(self, start: int, end: int) -> bytes:
        """Every group with its members' spend in the cycle [start, end): each on-demand event
        goes to the group its user was in at the event's time."""
        team = self.team
        stints = team.memberships
        by_stint = [Decimal(0)] * len(stints)
        unassigned: dict[str, Decimal] = {}
        daily: dict[str | None, dict[str, Decimal]] = {}
        members = {member.email: member for member in self.members()}
        with self._lock:
            events = [self._events[i] for i in self._positions(start, end - 1, None)]
        for event in events:
            if _bucket(event) != "on_demand":
                continue
            email, ts = str(event.get("userEmail")), _timestamp_ms(event)
            cents = charged_cents(event)
            index = next(
                (i for i, m in enumerate(stints) if m.email == email and m.covers(ts)), None
            )
            group_id = None if index is None else stints[index].group_id
            if index is None:
                unassigned[email] = unassigned.get(email, Decimal(0)) + cents
            else:
                by_stint[index] += cents
            day = datetime.fromtimestamp(ts // 1000, timezone.utc).date().isoformat()
            per_day = daily.setdefault(group_id, {})
            per_day[day] = per_day.get(day, Decimal(0)) + cents
        last = min(end - 1, max(start, self.wall_clock_ms()))
        days = _dates(start, last)

        def person(email: str, spend: Decimal, joined: int | None, left: int | None) -> dict:
            member = members.get(email) or Member(email, name_from_email(email), user_id_for(email))
            return {
                "userId": member.user_id,
                "name": member.name,
                "email": email,
                "joinedAt": None if joined is None else iso(joined),
                "leftAt": None if left is None else iso(left),
                "spendCents": spend,
            }

        def group(gid: str, name: str, directory: str | None, current: list, former: list) -> dict:
            per_day = daily.get(None if gid == UNASSIGNED_GROUP_ID else gid, {})
            return {
                "id": gid,
                "name": name,
                "type": "BILLING",
                "directoryGroupId": directory,
                "memberCount": len(current),
                "spendCents": sum((m["spendCents"] for m in current + former), Decimal(0)),
                "currentMembers": current,
                "formerMembers": former,
                "dailySpend": [
                    {"date": day, "spendCents": per_day.get(day, Decimal(0))} for day in days
                ],
            }

        groups = []
        for billing_group in team.groups:
            current: list[dict[str, Any]] = []
            former: list[dict[str, Any]] = []
            for index, stint in enumerate(stints):
                if stint.group_id != billing_group.id:
                    continue
                row = person(stint.email, by_stint[index], stint.joined_ms, stint.left_ms)
                (current if stint.left_ms is None else former).append(row)
            groups.append(
                group(
                    billing_group.id,
                    billing_group.name,
                    billing_group.directory_group_id,
                    current,
                    former,
                )
            )
        grouped_now = {m.email for m in stints if m.left_ms is None}
        loose = [
            person(email, unassigned.get(email, Decimal(0)), None, None)
            for email, member in members.items()
            if email not in grouped_now and not member.is_removed
        ]
        loose_emails = {row["email"] for row in loose}
        # Spend of people no longer unassigned (or gone) still counts in the group's total.
        former = [
            person(email, cents, None, None)
            for email, cents in unassigned.items()
            if email not in loose_emails
        ]
        return _ENCODER.encode(
            {
                "groups": groups,
                "unassignedGroup": group(UNASSIGNED_GROUP_ID, "Unassigned", None, loose, former),
                "billingCycle": {"cycleStart": iso(start), "cycleEnd": iso(end)},
            }
        )


UNASSIGNED_GROUP_ID = "group_unassigned"
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def _bucket(event: dict[str, Any]) -> str | None:
    """`on_demand` for on-demand chargeable events (what `spendCents` sums), `included` for
    included chargeable ones, else None. `kindLabel` where `kind` is absent."""
    if event.get("isChargeable") is not True:
        return None
    kind = str(event.get("kind", event.get("kindLabel", ""))).casefold()
    if kind in ON_DEMAND_KIND_LABELS:
        return "on_demand"
    return "included" if kind.startswith("included") else None


def charged_cents(event: dict[str, Any]) -> Decimal:
    """What Cursor charged for the event: `chargedCents`, else `totalCents + cursorTokenFee`;
    a missing or non-finite number counts as 0."""
    if "chargedCents" in event:
        return _cents(event["chargedCents"])
    usage = event.get("tokenUsage")
    total = _cents(usage.get("totalCents")) if isinstance(usage, dict) else Decimal(0)
    return total + _cents(event.get("cursorTokenFee"))


def _cents(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return Decimal(0)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def _with_kind_label(event: dict[str, Any]) -> dict[str, Any]:
    """The same event with `kindLabel` in place of `kind` (same position in the object)."""
    if "kind" not in event:
        return event
    return {("kindLabel" if key == "kind" else key): value for key, value in event.items()}


def _dates(start_ms: int, last_ms: int) -> list[str]:
    day = datetime.fromtimestamp(start_ms // 1000, timezone.utc).date()
    last = datetime.fromtimestamp(last_ms // 1000, timezone.utc).date()
    days = []
    while day <= last:
        days.append(day.isoformat())
        day = date.fromordinal(day.toordinal() + 1)
    return days


@dataclass(frozen=True)
class _SpendQuery:
    page: int
    page_size: int
    search: str | None
    sort_by: str
    descending: bool


def _parse_spend_query(body: dict[str, Any]) -> _SpendQuery:
    page = _whole_number(body, "page", 1)
    if page < 1:
        raise _BadRequest("page must be 1 or more")
    page_size = _whole_number(body, "pageSize", DEFAULT_SPEND_PAGE_SIZE)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise _BadRequest(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    search = body.get("searchTerm")
    if search is not None and not isinstance(search, str):
        raise _BadRequest("searchTerm must be a string")
    sort_by = body.get("sortBy", "amount")
    if sort_by not in ("amount", "date", "user"):
        raise _BadRequest("sortBy must be amount, date or user")
    direction = body.get("sortDirection", "desc" if sort_by == "amount" else "asc")
    if direction not in ("asc", "desc"):
        raise _BadRequest("sortDirection must be asc or desc")
    return _SpendQuery(page, page_size, search, sort_by, direction == "desc")


def _billing_cycle_date(path: str) -> int | None:
    """The last ms of the day named by `?billingCycle=YYYY-MM-DD`, None when absent."""
    values = parse_qs(urlsplit(path).query).get("billingCycle")
    if not values:
        return None
    try:
        day = date.fromisoformat(values[0])
    except ValueError:
        raise _BadRequest("billingCycle must be a date, YYYY-MM-DD") from None
    return calendar.timegm((day.year, day.month, day.day, 23, 59, 59)) * 1000 + 999


@dataclass(frozen=True)
class _Query:
    start_ms: int
    end_ms: int
    page: int
    page_size: int
    email: str | None


class _BadRequest(Exception):
    pass


def _parse_query(body: dict[str, Any], now_ms: int) -> _Query:
    end_ms = _whole_number(body, "endDate", now_ms)
    start_ms = _whole_number(body, "startDate", end_ms - DEFAULT_RANGE_MS)
    if end_ms < start_ms:
        raise _BadRequest("endDate must not be before startDate")
    if end_ms - start_ms + 1 > MAX_RANGE_MS:
        raise _BadRequest("Date range cannot exceed 30 days")
    page = _whole_number(body, "page", 1)
    if page < 1:
        raise _BadRequest("page must be 1 or more")
    page_size = _whole_number(body, "pageSize", DEFAULT_PAGE_SIZE)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise _BadRequest(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    email = body.get("email")
    if email is not None and not isinstance(email, str):
        raise _BadRequest("email must be a string")
    return _Query(start_ms, end_ms, page, page_size, email)


def _whole_number(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadRequest(f"{name} must be a whole number")
    return value


def _timestamp_ms(event: dict[str, Any]) -> int:
    return int(event["timestamp"])


def _phrase(code: int) -> str:
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _envelope(code: int, message: str) -> bytes:
    return msgspec.json.encode({"error": _phrase(code), "message": message})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, emulator: Emulator) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake the handler threads idling on keep-alive connections, so they finish."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (timeouts, dropped connections) is not news.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx clients expect
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server_version = "cursor-admin-api-emulator"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the demo own the terminal

    def do_POST(self) -> None:
        self._dispatch()

    do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_POST

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        at = emulator.clock()
        raw = self._read_body()
        body: dict[str, Any] | None = None
        bad_json = False
        if raw.strip():
            try:
                decoded = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                decoded = None
                bad_json = True
            if isinstance(decoded, dict):
                body = decoded
            else:
                bad_json = True

        def answer(status: int, payload: bytes, **kwargs: Any) -> None:
            self._record(emulator, body, status, at)
            self._send(status, payload, **kwargs)

        path = urlsplit(self.path).path
        method = METHODS.get(path)
        if method is None:
            return answer(404, _envelope(404, f"No route for {self.command} {self.path}"))
        if self.command != method:
            return answer(405, _envelope(405, f"Use {method}"), headers={"Allow": method})
        if not self._authorized(emulator.api_key):
            return answer(401, msgspec.json.encode(UNAUTHORIZED_BODY))

        fault, over_limit = emulator._admit(path)
        if fault is not None:
            if fault.kind == "latency":
                time.sleep(fault.seconds)
            elif fault.kind == "drop_connection":
                self._record(emulator, body, 0, at)
                self.close_connection = True  # nothing is written: the client sees EOF
                return
            elif fault.kind == "not_json":
                return answer(200, _NOT_JSON_PAGE, content_type="text/html; charset=utf-8")
            elif fault.kind == "rate_limited":
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = _seconds_text(fault.retry_after)
                return answer(429, msgspec.json.encode(RATE_LIMITED_BODY), headers=headers)
            else:
                return answer(fault.code, _envelope(fault.code, fault.message))
        if over_limit:
            return answer(429, msgspec.json.encode(RATE_LIMITED_BODY))
        if path == MEMBERS_ENDPOINT:
            return answer(200, emulator._members_body())
        if path == GROUPS_ENDPOINT:
            if not emulator.enterprise:
                return answer(403, msgspec.json.encode(ENTERPRISE_REQUIRED_BODY))
            try:
                day = _billing_cycle_date(self.path)
            except _BadRequest as error:
                return answer(400, _envelope(400, str(error)))
            start, end = emulator.cycle()
            if day is not None:
                start, end = emulator.team.cycle_containing(day, start)
            return answer(200, emulator._groups_body(start, end))
        if bad_json:
            return answer(400, _envelope(400, "Request body must be a JSON object"))
        try:
            if path == SPEND_ENDPOINT:
                return answer(200, emulator._spend_page(_parse_spend_query(body or {})))
            query = _parse_query(body or {}, int(time.time() * 1000))
        except _BadRequest as error:
            return answer(400, _envelope(400, str(error)))
        return answer(200, emulator._page(query))

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers, then the empty line
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True  # cannot tell where this body ends
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _authorized(self, api_key: str) -> bool:
        scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{api_key}:"

    def _record(self, emulator: Emulator, body: dict | None, status: int, at: float) -> None:
        # Recorded before the answer is written, so a test that has its response sees it.
        headers = {name.lower(): value for name, value in self.headers.items()}
        emulator._record(RecordedRequest(self.path, body, status, at, self.command, headers))

    def _send(
        self,
        status: int,
        payload: bytes,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def _seconds_text(seconds: float) -> str:
    """Whole seconds as the standard says; fractions kept so tests can stay fast."""
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))
