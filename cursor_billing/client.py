"""The HTTP client for Cursor's Admin API: Basic auth, one throttle for the whole run, and
retries with exponential backoff (SPEC §5, §10). Knows nothing of months or caches.

Every answer is read against a whole-request deadline and a size cap, and a `200` is checked to
be a page before anything of it is used: a proxy's `{}` is never "no events"."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import backoff
import httpcore
import httpx
import msgspec

from cursor_billing import __version__
from cursor_billing.errors import ApiError, AuthError, UsageError
from cursor_billing.text import printable

USAGE_EVENTS_PATH = "/teams/filtered-usage-events"
GROUPS_PATH = "/teams/groups"
SPEND_PATH = "/teams/spend"
# The docs' own example asks for 100 members a page; the maximum is not documented.
SPEND_PAGE_SIZE = 100
# Pages asked for by e-mail, oldest address first: sorted by amount (the default), a page could
# shift while spend lands between two requests, and a member be read twice or never.
SPEND_ORDER = {"sortBy": "user", "sortDirection": "asc"}
RETRYABLE_STATUSES = frozenset({429}) | frozenset(range(500, 600))
MAX_INTERVAL_SECONDS = 60.0
MAX_RETRY_AFTER_SECONDS = 300.0  # a longer Retry-After ends the run instead of hanging it
MAX_PAGE_BYTES = 64 * 1024 * 1024  # a page of 1000 events is about 1 MB
CALM_ANSWERS_BEFORE_SPEEDUP = 20
NETWORK_HINT = "check CURSOR_API_BASE_URL and your network"
# Floats as exact decimals: money and odd numbers (1e999, 20 digits) are stored as received.
_PAGE_DECODER = msgspec.json.Decoder(float_hook=Decimal)


class MalformedAnswer(Exception):
    """A `200` that is not a page of usage events: retried like a 5xx, never read as data."""


@dataclass(frozen=True)
class UsagePage:
    """One page of `POST /teams/filtered-usage-events`, events exactly as received."""

    events: list[dict[str, Any]]
    total_events: int
    num_pages: int
    has_next_page: bool


@dataclass(frozen=True)
class MemberSpend:
    """One member of `POST /teams/spend`: their on-demand spend this billing cycle."""

    email: str
    spend_cents: Decimal


@dataclass(frozen=True)
class SpendPage:
    """One page of `POST /teams/spend`."""

    members: list[MemberSpend]
    cycle_start_ms: int
    total_pages: int


@dataclass(frozen=True)
class TeamSpend:
    """Every page of `POST /teams/spend` read: the current billing cycle's per-member spend."""

    cycle_start_ms: int
    members: tuple[MemberSpend, ...]


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0


class Throttle:
    """Keeps the starts of any two requests at least `interval` seconds apart."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_interval = interval
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._last_start: float | None = None
        self._calm_answers = 0

    def slow_down(self) -> None:
        """After a request met a 429: the key's budget is shared or smaller than thought, so
        double the gap (at most one request a minute, the API's reset period)."""
        self.interval = min(self.interval * 2, MAX_INTERVAL_SECONDS)
        self._calm_answers = 0

    def answered(self) -> None:
        """An answer that was not a 429: after 20 in a row, halve the gap again, never below
        the configured one, so a few 429s do not slow a long run for good."""
        self._calm_answers += 1
        if self._calm_answers >= CALM_ANSWERS_BEFORE_SPEEDUP:
            self._calm_answers = 0
            self.interval = max(self.interval / 2, self.base_interval)

    def wait(self) -> None:
        if self._last_start is not None:
            remaining = self._last_start + self.interval - self.clock()
            if remaining > 0:
                self.sleep(remaining)
        self._last_start = self.clock()


def check_base_url(base_url: str) -> str:
    """HTTPS only, except loopback (the emulator): checked before the key is ever sent."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or not url.scheme or not url.host:
        raise UsageError(
            f"CURSOR_API_BASE_URL {base_url!r} is not a URL",
            hint="use the form https://api.cursor.com (or leave it unset)",
        )
    if url.scheme == "https" and url.host:
        return base_url.rstrip("/")
    if url.scheme == "http" and _is_loopback(url.host):
        return base_url.rstrip("/")
    raise UsageError(
        f"refusing to send the API key to {base_url}: only https:// (or http:// on loopback)",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class AdminApiClient:
    """One `httpx.Client` for the run; every request goes through the throttle and retries."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        throttle: Throttle,
        timeout_seconds: float = 30.0,
        max_retries: int = 5,
        backoff_base_seconds: float = 1.0,
        rate_limit_patience_seconds: float = 180.0,
        sleep: Callable[[float], None] = time.sleep,
        max_page_bytes: int = MAX_PAGE_BYTES,
    ) -> None:
        checked = check_base_url(base_url)
        self._deadline = _DeadlineBackend(httpcore.SyncBackend())
        self._http = httpx.Client(
            base_url=checked,
            auth=httpx.BasicAuth(api_key, ""),
            timeout=timeout_seconds,
            headers={"User-Agent": f"cursor-billing/{__version__}"},
            transport=_transport(httpx.URL(checked), self._deadline),
            trust_env=False,  # proxies are chosen by _transport; .netrc must not add auth
        )
        self.timeout_seconds = timeout_seconds
        self.throttle = throttle
        self.max_retries = max_retries
        self.backoff_base_seconds = backoff_base_seconds
        self.rate_limit_patience_seconds = rate_limit_patience_seconds
        self.max_page_bytes = max_page_bytes
        self.sleep = sleep
        self.stats = RequestStats()
        self.on_retry: Callable[[str, float], None] = lambda reason, wait: None

    def __enter__(self) -> AdminApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def usage_page(self, start_ms: int, end_ms: int, page: int, page_size: int) -> UsagePage:
        body = {"startDate": start_ms, "endDate": end_ms, "page": page, "pageSize": page_size}
        return self._post(USAGE_EVENTS_PATH, body, parse_usage_page)

    def billing_groups(self) -> bytes:
        """`GET /teams/groups` of the current billing cycle, as received once it was checked to
        be a list of groups (SPEC §11). A 403 means the team has no billing groups (Enterprise)."""
        return self._post(GROUPS_PATH, None, _checked_groups, method="GET", refusal=_groups_refusal)

    def spend_page(self, page: int, page_size: int = SPEND_PAGE_SIZE) -> SpendPage:
        body = {"page": page, "pageSize": page_size, **SPEND_ORDER}
        return self._post(SPEND_PATH, body, parse_spend_page)

    def team_spend(self, page_size: int = SPEND_PAGE_SIZE) -> TeamSpend:
        """Every page of `POST /teams/spend`, until `page >= totalPages`. A member listed on two
        pages (the list moved while it was read) counts once."""
        first = self.spend_page(1, page_size)
        members = {member.email: member for member in first.members}
        page, total_pages = 1, first.total_pages
        while page < total_pages:
            page += 1
            answer = self.spend_page(page, page_size)
            if answer.cycle_start_ms != first.cycle_start_ms:
                raise ApiError(
                    "a new billing cycle began while its spend was being read",
                    hint="run the command again",
                )
            for member in answer.members:
                members.setdefault(member.email, member)
            total_pages = answer.total_pages
        return TeamSpend(first.cycle_start_ms, tuple(members.values()))

    def _post(
        self,
        path: str,
        body: dict[str, Any] | None,
        parse: Callable[[bytes], Any],
        *,
        method: str = "POST",
        refusal: Callable[[_Answer], Exception] | None = None,
    ) -> Any:
        waits = backoff.expo(
            base=2, factor=self.backoff_base_seconds, max_value=MAX_INTERVAL_SECONDS
        )
        next(waits)  # backoff's generators start with a priming yield
        slowed = False
        failures = 0  # retries that count against max_retries: all but 429s
        first_429: float | None = None
        while True:
            self.throttle.wait()
            self.stats.requests += 1
            rate_limited = False
            try:
                answer = self._exchange(path, body, method)
            except httpx.TransportError as error:  # timeouts, refused or dropped connections
                reason = _describe_transport_error(error, self._http.base_url)
                if _waiting_cannot_help(error):
                    raise ApiError(reason, hint=NETWORK_HINT) from None
                retry_after = None
            except MalformedAnswer as error:
                reason, retry_after = str(error), None
            else:
                if answer.status == 429:
                    rate_limited = True
                    if not slowed:
                        self.throttle.slow_down()  # once per request, however many 429s
                        slowed = True
                else:
                    self.throttle.answered()
                if answer.status == 200:
                    try:
                        return parse(answer.content)
                    except MalformedAnswer as error:
                        reason, retry_after = str(error), None
                elif answer.status in RETRYABLE_STATUSES:
                    reason = f"HTTP {answer.status}: {answer.message()}"
                    retry_after = answer.retry_after_seconds()
                else:
                    raise (refusal or _refusal)(answer)
            if rate_limited:
                now = self.throttle.clock()
                first_429 = now if first_429 is None else first_429
                if now - first_429 >= self.rate_limit_patience_seconds:
                    raise ApiError(
                        f"the API kept answering 429 (too many requests) for "
                        f"{now - first_429:.0f} s: {reason}",
                        hint="another tool may share the team's rate limit; try again later or "
                        "raise rate_limit_patience_seconds",
                    )
            elif failures == self.max_retries:
                raise ApiError(
                    f"the API still failed after {self.max_retries} retries: {reason}",
                    hint="try again later; months already fetched stay cached and this one resumes",
                )
            else:
                failures += 1
            if retry_after is not None and not retry_after <= MAX_RETRY_AFTER_SECONDS:
                raise ApiError(
                    f"the API asks to wait {retry_after:g} s before trying again ({reason})",
                    hint="try again later; months already fetched stay cached",
                )
            wait = max(next(waits), retry_after or 0.0)
            self.stats.retries += 1
            self.on_retry(reason, wait)
            self.sleep(wait)

    def _exchange(self, path: str, body: dict[str, Any] | None, method: str = "POST") -> _Answer:
        """One request, read whole within `timeout_seconds` and at most `max_page_bytes`."""
        self._deadline.deadline = time.monotonic() + self.timeout_seconds
        try:
            with self._http.stream(method, path, json=body) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_page_bytes:
                    raise MalformedAnswer(self._too_large())
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_page_bytes:
                        raise MalformedAnswer(self._too_large())
                    chunks.append(chunk)
                return _Answer(
                    response.status_code,
                    response.reason_phrase,
                    str(response.request.url),
                    response.headers,
                    b"".join(chunks),
                )
        finally:
            self._deadline.deadline = None

    def _too_large(self) -> str:
        return f"the answer is larger than {self.max_page_bytes // (1024 * 1024)} MB: not a page"


@dataclass(frozen=True)
class _Answer:
    """An HTTP answer read whole (within the deadline and the size cap)."""

    status: int
    reason_phrase: str
    url: str
    headers: httpx.Headers
    content: bytes = field(repr=False)

    def message(self) -> str:
        """The `message` of any of the API's error envelopes, else the start of the raw body;
        escaped, as it is the server's text."""
        return printable(self._message())

    def _message(self) -> str:
        try:
            document = msgspec.json.decode(self.content)
        except (msgspec.DecodeError, RecursionError):
            document = None
        if isinstance(document, dict):
            for key in ("message", "error"):
                if isinstance(document.get(key), str):
                    return str(document[key])
        text = self.content.decode("utf-8", errors="replace")
        if "json" not in self.headers.get("content-type", "") and "<" in text[:100]:
            return f"{self.reason_phrase} (an HTML page, not the API's JSON)"
        text = " ".join(text.split())
        return (text[:200] + "…") if len(text) > 200 else (text or self.reason_phrase)

    def retry_after_seconds(self) -> float | None:
        value = self.headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, moment.timestamp() - time.time())


def _decode_page(content: bytes, prefix: str) -> Any:
    """The JSON of a 200 answer, or MalformedAnswer saying it is not JSON or nested too deeply."""
    try:
        return _PAGE_DECODER.decode(content)
    except RecursionError:
        raise MalformedAnswer(f"{prefix}: its JSON is nested too deeply") from None
    except msgspec.DecodeError as error:
        raise MalformedAnswer(f"{prefix}: not JSON ({error})") from None


def parse_usage_page(content: bytes) -> UsagePage:
    """A page of `POST /teams/filtered-usage-events`, or MalformedAnswer naming what is wrong
    and where (`$.usageEvents`)."""
    prefix = "the API answered 200 with something that is not a page of usage events"
    document = _decode_page(content, prefix)
    try:
        root = _expect(document, "$", dict)
        events = _field(root, "$", "usageEvents", list)
        for index, event in enumerate(events):
            _expect(event, f"$.usageEvents[{index}]", dict)
        total = _field(root, "$", "totalUsageEventsCount", int)
        pagination = _field(root, "$", "pagination", dict)
        has_next = _field(pagination, "$.pagination", "hasNextPage", bool)
        num_pages = _expect(pagination.get("numPages", 0), "$.pagination.numPages", int)
    except MalformedAnswer as error:
        raise MalformedAnswer(f"{prefix}: {error}") from None
    if total < 0 or num_pages < 0:
        raise MalformedAnswer(f"{prefix}: a negative count in $.totalUsageEventsCount or numPages")
    return UsagePage(events, total_events=total, num_pages=num_pages, has_next_page=has_next)


def parse_spend_page(content: bytes) -> SpendPage:
    """A page of `POST /teams/spend`, or MalformedAnswer naming what is wrong and where
    (`$.teamMemberSpend[3].spendCents`). Only the fields reconciliation needs are checked."""
    prefix = "the API answered 200 with something that is not a page of team spend"
    document = _decode_page(content, prefix)
    try:
        root = _expect(document, "$", dict)
        rows = _field(root, "$", "teamMemberSpend", list)
        members = []
        for index, row in enumerate(rows):
            where = f"$.teamMemberSpend[{index}]"
            _expect(row, where, dict)
            email = _field(row, where, "email", str)
            cents = _field(row, where, "spendCents", Decimal)
            if not cents.is_finite():
                raise MalformedAnswer(f"{where}.spendCents is not a finite number")
            members.append(MemberSpend(email, cents))
        cycle_start = _field(root, "$", "subscriptionCycleStart", int)
        total_pages = _field(root, "$", "totalPages", int)
    except MalformedAnswer as error:
        raise MalformedAnswer(f"{prefix}: {error}") from None
    if total_pages < 0 or cycle_start < 0:
        raise MalformedAnswer(f"{prefix}: a negative $.totalPages or $.subscriptionCycleStart")
    return SpendPage(members, cycle_start, total_pages)


_MISSING = object()
_TYPE_NAMES = {
    dict: "an object",
    list: "a list",
    int: "a whole number",
    bool: "true or false",
    str: "a string",
    Decimal: "a number",
}


def _field(mapping: dict[str, Any], where: str, key: str, expected: type) -> Any:
    return _expect(mapping.get(key, _MISSING), f"{where}.{key}", expected)


def _expect(value: Any, where: str, expected: type) -> Any:
    if expected is Decimal and isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)  # a whole number of cents is a number of cents too
    if isinstance(value, expected) and (expected is bool or not isinstance(value, bool)):
        return value
    found = "missing" if value is _MISSING else f"{_json_type(value)}, not {_TYPE_NAMES[expected]}"
    raise MalformedAnswer(f"{where} is {found}")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, Decimal)):
        return "a number"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), "null")


def _refusal(answer: _Answer) -> Exception:
    status, message = answer.status, answer.message()
    if status in (401, 403):
        hint = (
            "check CURSOR_API_KEY: it must be an Admin API key of your team"
            if status == 401
            else "the key is valid but not allowed to read usage (admin rights or plan)"
        )
        return AuthError(f"the API refused the key (HTTP {status}): {message}", hint=hint)
    if status == 404:
        return ApiError(f"HTTP 404 from {answer.url}: {message}", hint="check CURSOR_API_BASE_URL")
    return ApiError(f"the API rejected the request (HTTP {status}): {message}")


def _groups_refusal(answer: _Answer) -> Exception:
    if answer.status == 403:
        return AuthError(
            f"Cursor refused to list billing groups (HTTP 403): {answer.message()}",
            hint="billing groups are an Enterprise feature; set teams_source: file and "
            "teams_file: a CSV with columns email,team",
        )
    return _refusal(answer)


def _checked_groups(content: bytes) -> bytes:
    from cursor_billing.teams import MalformedGroups, parse_billing_groups

    try:
        parse_billing_groups(content)
    except MalformedGroups as error:
        raise MalformedAnswer(f"the API's billing groups are malformed: {error}") from None
    return content


def _waiting_cannot_help(error: BaseException) -> bool:
    """A name that does not resolve, or a TLS/certificate failure: retrying changes nothing."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, (socket.gaierror, ssl.SSLError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe_transport_error(error: httpx.TransportError, base_url: httpx.URL) -> str:
    where = base_url.netloc.decode()
    if isinstance(error, httpx.TimeoutException):
        return f"the request to {where} timed out"
    detail = str(error) or type(error).__name__
    return printable(f"cannot reach {where}: {detail}")


def _transport(url: httpx.URL, backend: httpcore.NetworkBackend) -> httpx.HTTPTransport:
    """The connection pool, on the deadline backend. No proxy for loopback (the key would go
    to the proxy in clear text); otherwise the proxy of the environment, as httpx would pick."""
    loopback = _is_loopback(url.host)
    proxy = None if loopback else environment_proxy(url)
    transport = httpx.HTTPTransport(proxy=proxy, trust_env=not loopback)
    # httpx has no public way to hand its pool a network backend; httpcore pools (direct and
    # proxied alike) keep it here. The trickle test fails if this ever stops working.
    transport._pool._network_backend = backend  # type: ignore[attr-defined]
    return transport


def environment_proxy(url: httpx.URL) -> str | None:
    """HTTPS_PROXY (or ALL_PROXY) for `url`, unless NO_PROXY covers its host."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(url.host):
        return None
    return proxy


class _DeadlineBackend(httpcore.NetworkBackend):
    """Gives each socket operation only what is left of the request's deadline, so a server
    that trickles a byte at a time cannot stretch one request past `timeout_seconds`."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner
        self.deadline: float | None = None

    def left(self, timeout: float | None, expired: type[Exception]) -> float | None:
        if self.deadline is None:
            return timeout
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise expired("the whole-request deadline passed")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self.inner.connect_tcp(
            host, port, self.left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self.inner.connect_unix_socket(
            path, self.left(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, backend: _DeadlineBackend) -> None:
        self.inner = inner
        self.backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.backend.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.backend.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self.inner.start_tls(
            ssl_context, server_hostname, self.backend.left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(stream, self.backend)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)
