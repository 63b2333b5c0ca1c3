"""A bundled emulator of Cursor's Admin API `POST /teams/filtered-usage-events`, with realistic
generated data: the only server the `demo` command and the test suite ever talk to.

Standard library and msgspec only: no Typer, no rich."""

from cursor_billing.emulator.generator import (
    HOSTILE_MODEL,
    KINDS,
    MODELS,
    ODD_EMAILS,
    SERVICE_ACCOUNT_EMAIL,
    SERVICE_ACCOUNT_ID,
    ModelPrice,
    generate_events,
)
from cursor_billing.emulator.server import (
    ENDPOINT,
    MAX_PAGE_SIZE,
    MAX_RANGE_MS,
    RATE_LIMITED_BODY,
    UNAUTHORIZED_BODY,
    Emulator,
    Fault,
    RecordedRequest,
)

__all__ = [
    "ENDPOINT",
    "HOSTILE_MODEL",
    "KINDS",
    "MAX_PAGE_SIZE",
    "MAX_RANGE_MS",
    "MODELS",
    "ODD_EMAILS",
    "RATE_LIMITED_BODY",
    "SERVICE_ACCOUNT_EMAIL",
    "SERVICE_ACCOUNT_ID",
    "UNAUTHORIZED_BODY",
    "Emulator",
    "Fault",
    "ModelPrice",
    "RecordedRequest",
    "generate_events",
]
