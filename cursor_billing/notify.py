"""Posting the result of `check` to a webhook (SPEC §9): HTTPS only except loopback, no proxy
for loopback, the whole-request deadline and retries of the API client. The URL is a secret
like the API key: messages name only its host."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpcore
import httpx

from cursor_billing import __version__
from cursor_billing.client import (
    MAX_INTERVAL_SECONDS,
    MAX_RETRY_AFTER_SECONDS,
    RETRYABLE_STATUSES,
    _DeadlineBackend,
    _is_loopback,
    _transport,
    _waiting_cannot_help,
)
from cursor_billing.errors import ApiError, UsageError
from cursor_billing.settings import WEBHOOK_URL_VARIABLE


def check_webhook_url(url: str | None) -> httpx.URL:
    """The webhook URL, refused (exit 2) when missing, malformed or plain http:// elsewhere than
    loopback. Checked before anything is sent."""
    if not url:
        raise UsageError(
            f"--notify needs {WEBHOOK_URL_VARIABLE}",
            hint="set it in the environment or in .env (an incoming-webhook URL)",
        )
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if parsed is None or not parsed.host or parsed.scheme not in ("http", "https"):
        raise UsageError(f"{WEBHOOK_URL_VARIABLE} is not an http(s) URL")
    if parsed.scheme == "http" and not _is_loopback(parsed.host):
        raise UsageError(
            f"refusing to post to the webhook at {parsed.host}: only https:// "
            "(or http:// on loopback)"
        )
    return parsed


def post_webhook(
    url: str | None,
    body: bytes,
    *,
    timeout_seconds: float = 30.0,
    max_retries: int = 5,
    backoff_base_seconds: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """POST the JSON `body`; retries 429, 5xx, timeouts and dropped connections like the API
    client. Returns the host it was delivered to; a failure is an `ApiError` naming the host."""
    parsed = check_webhook_url(url)
    host = parsed.host
    deadline = _DeadlineBackend(httpcore.SyncBackend())
    with httpx.Client(
        timeout=timeout_seconds,
        headers={"User-Agent": f"cursor-billing/{__version__}"},
        transport=_transport(parsed, deadline),
        trust_env=False,  # proxies are chosen by _transport (none for loopback)
        follow_redirects=False,
    ) as http:
        attempt = 0
        while True:
            retry_after: float | None = None
            deadline.deadline = time.monotonic() + timeout_seconds
            try:
                response = http.post(
                    parsed, content=body, headers={"Content-Type": "application/json"}
                )
            except httpx.TransportError as error:
                if isinstance(error, httpx.TimeoutException):
                    reason = "the request timed out"
                else:  # the message of a transport error may quote the URL: never shown
                    reason = f"cannot reach it ({type(error).__name__})"
                if _waiting_cannot_help(error):
                    raise ApiError(f"the webhook at {host} failed: {reason}") from None
            else:
                if 200 <= response.status_code < 300:
                    return host
                reason = f"HTTP {response.status_code}"
                if response.status_code not in RETRYABLE_STATUSES:
                    raise ApiError(f"the webhook at {host} refused the message ({reason})")
                retry_after = _retry_after(response.headers.get("Retry-After"))
            finally:
                deadline.deadline = None
            if attempt >= max_retries:
                raise ApiError(
                    f"the webhook at {host} still failed after {max_retries} retries: {reason}"
                )
            if retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS:
                raise ApiError(f"the webhook at {host} asks to wait {retry_after:g} s ({reason})")
            wait = min(backoff_base_seconds * 2**attempt, MAX_INTERVAL_SECONDS)
            sleep(max(wait, retry_after or 0.0))
            attempt += 1


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
