"""The HTTP client for Cursor's Admin API: Basic auth, one throttle for the whole run, and
retries with exponential backoff (SPEC §5, §10). Knows nothing of months or caches."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import backoff
import httpx
import msgspec

from cursor_billing import __version__
from cursor_billing.errors import ApiError, AuthError, UsageError

USAGE_EVENTS_PATH = "/teams/filtered-usage-events"
RETRYABLE_STATUSES = frozenset({429}) | frozenset(range(500, 600))
MAX_INTERVAL_SECONDS = 60.0
MAX_RETRY_AFTER_SECONDS = 300.0  # a longer Retry-After ends the run instead of hanging it


class _Pagination(msgspec.Struct):
    numPages: int = 0
    currentPage: int = 0
    pageSize: int = 0
    hasNextPage: bool = False
    hasPreviousPage: bool = False


class _UsagePageBody(msgspec.Struct):
    totalUsageEventsCount: int = 0
    pagination: _Pagination = msgspec.field(default_factory=_Pagination)
    usageEvents: list[dict[str, Any]] = []


@dataclass(frozen=True)
class UsagePage:
    """One page of `POST /teams/filtered-usage-events`, events exactly as received."""

    events: list[dict[str, Any]]
    total_events: int
    num_pages: int
    has_next_page: bool


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
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._last_start: float | None = None

    def slow_down(self) -> None:
        """After a request met a 429: the key's budget is shared or smaller than thought, so
        halve the pace for the rest of the run (at most one request a minute, the API's reset
        period)."""
        self.interval = min(self.interval * 2, MAX_INTERVAL_SECONDS)

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
        raise UsageError(f"CURSOR_API_BASE_URL {base_url!r} is not a URL") from None
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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = httpx.Client(
            base_url=check_base_url(base_url),
            auth=httpx.BasicAuth(api_key, ""),
            timeout=timeout_seconds,
            headers={"User-Agent": f"cursor-billing/{__version__}"},
        )
        self.throttle = throttle
        self.max_retries = max_retries
        self.backoff_base_seconds = backoff_base_seconds
        self.sleep = sleep
        self.stats = RequestStats()
        self.on_retry: Callable[[str, float], None] = lambda reason, wait: None

    def __enter__(self) -> AdminApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def usage_page(self, start_ms: int, end_ms: int, page: int, page_size: int) -> UsagePage:
        body = {"startDate": start_ms, "endDate": end_ms, "page": page, "pageSize": page_size}
        decoded = self._post(USAGE_EVENTS_PATH, body, _UsagePageBody)
        return UsagePage(
            events=decoded.usageEvents,
            total_events=decoded.totalUsageEventsCount,
            num_pages=decoded.pagination.numPages,
            has_next_page=decoded.pagination.hasNextPage,
        )

    def _post(self, path: str, body: dict[str, Any], shape: type[Any]) -> Any:
        waits = backoff.expo(base=2, factor=self.backoff_base_seconds)
        next(waits)  # backoff's generators start with a priming yield
        slowed = False
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.stats.retries += 1
            self.throttle.wait()
            self.stats.requests += 1
            try:
                response = self._http.post(path, json=body)
            except httpx.TransportError as error:  # timeouts, refused or dropped connections
                reason, retry_after = _describe_transport_error(error, self._http.base_url), None
            else:
                if response.status_code == 200:
                    try:
                        return msgspec.json.decode(response.content, type=shape)
                    except msgspec.DecodeError:
                        reason, retry_after = (
                            "the API answered with something that is not JSON",
                            None,
                        )
                    except msgspec.ValidationError as error:
                        raise ApiError(
                            f"the API answered in an unexpected shape: {error}"
                        ) from None
                elif response.status_code in RETRYABLE_STATUSES:
                    if response.status_code == 429 and not slowed:
                        self.throttle.slow_down()  # once per request, however many 429s
                        slowed = True
                    reason = f"HTTP {response.status_code}: {_message(response)}"
                    retry_after = _retry_after_seconds(response)
                else:
                    raise _refusal(response)
            if attempt == self.max_retries:
                break
            if retry_after is not None and not retry_after <= MAX_RETRY_AFTER_SECONDS:
                raise ApiError(
                    f"the API asks to wait {retry_after:g} s before trying again ({reason})",
                    hint="try again later; months already fetched stay cached",
                )
            wait = max(next(waits), retry_after or 0.0)
            self.on_retry(reason, wait)
            self.sleep(wait)
        raise ApiError(
            f"the API still failed after {self.max_retries} retries: {reason}",
            hint="try again later; months already fetched stay cached and this one resumes",
        )


def _refusal(response: httpx.Response) -> Exception:
    status, message = response.status_code, _message(response)
    if status in (401, 403):
        hint = (
            "check CURSOR_API_KEY: it must be an Admin API key of your team"
            if status == 401
            else "the key is valid but not allowed to read usage (admin rights or plan)"
        )
        return AuthError(f"the API refused the key (HTTP {status}): {message}", hint=hint)
    if status == 404:
        return ApiError(
            f"HTTP 404 from {response.request.url}: {message}", hint="check CURSOR_API_BASE_URL"
        )
    return ApiError(f"the API rejected the request (HTTP {status}): {message}")


def _message(response: httpx.Response) -> str:
    """The `message` of any of the API's error envelopes, else the start of the raw body."""
    try:
        document = response.json()
    except ValueError:
        document = None
    if isinstance(document, dict):
        for key in ("message", "error"):
            if isinstance(document.get(key), str):
                return document[key]
    if "json" not in response.headers.get("content-type", "") and "<" in response.text[:100]:
        return f"{response.reason_phrase} (an HTML page, not the API's JSON)"
    text = " ".join(response.text.split())
    return (text[:200] + "…") if len(text) > 200 else (text or response.reason_phrase)


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
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


def _describe_transport_error(error: httpx.TransportError, base_url: httpx.URL) -> str:
    where = base_url.netloc.decode()
    if isinstance(error, httpx.TimeoutException):
        return f"the request to {where} timed out"
    detail = str(error) or type(error).__name__
    return f"cannot reach {where}: {detail}"
