"""What a usage event means for the bill: which events are on-demand, which are billable,
and what each one costs (SPEC §5 and §7).

The fetch keeps events as the raw dicts the API sent; the analysis decodes only the fields it
needs into `UsageEvent`, with money as exact decimals."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import msgspec

from cursor_billing.choices import CostBasis, Source

# A money value as decoded: a JSON integer stays an `int`, any other number is an exact
# `Decimal`. Decoding integers as `int` is exact too, and made decoding a real-shaped cache
# (integers for tokens and request units beside every money field) about 40% faster than
# asking msgspec for `Decimal` everywhere. Both add exactly to a `Decimal` sum.
Money = int | Decimal
ON_DEMAND_KINDS = frozenset({"usage-based", "on-demand", "usage_event_kind_usage_based"})
ZERO = Decimal(0)


def is_on_demand_kind(kind: object) -> bool:
    """`Usage-based` in any case, `On-Demand` or `USAGE_EVENT_KIND_USAGE_BASED`."""
    return isinstance(kind, str) and kind.strip().lower() in ON_DEMAND_KINDS


def is_kept(raw: dict[str, Any]) -> bool:
    """An event the fetch keeps in the cache: on-demand kind and chargeable."""
    return raw.get("isChargeable") is True and is_on_demand_kind(kind_of(raw))


def _is_set(value: object) -> bool:
    """An id field that names something: not missing, empty or the string "null"."""
    return value is not None and value != "" and value != "null" and value is not False


def kind_of(raw: dict[str, Any]) -> object:
    """`kind`, or `kindLabel` where `kind` is absent (some API versions send only that)."""
    kind = raw.get("kind")
    return kind if isinstance(kind, str) and kind else raw.get("kindLabel")


# `gc=False`: these structs hold only strings, numbers and each other, so they can never be part
# of a reference cycle. A million of them tracked by the garbage collector made every collection
# walk them all, and decoding a big cache spent a fifth of its time there.
class TokenUsage(msgspec.Struct, omit_defaults=True, gc=False):
    inputTokens: int = 0
    outputTokens: int = 0
    cacheWriteTokens: int = 0
    cacheReadTokens: int = 0
    totalCents: Money = ZERO


class UsageEvent(msgspec.Struct, gc=False):
    """The fields of a cached event that the analytics read; the rest is ignored."""

    timestamp: str | int = 0
    userEmail: str = ""
    model: str = ""
    kind: str = ""
    kindLabel: str = ""  # read where `kind` is absent
    isChargeable: bool = False
    isTokenBasedCall: bool = False
    isHeadless: Any = False
    tokenUsage: TokenUsage | None = None
    cursorTokenFee: Money | None = None
    chargedCents: Money | None = None
    requestsCosts: Money | None = None
    cloudAgentId: Any = None
    automationId: Any = None
    serviceAccountId: Any = None

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> UsageEvent:
        """Tolerant conversion of any event dict: odd or missing values count as 0/false."""
        usage = raw.get("tokenUsage")
        token_usage = None
        if isinstance(usage, dict):
            inputs, outputs, writes, reads = (_as_int(usage.get(name)) for name in TOKEN_FIELDS)
            token_usage = TokenUsage(
                inputs, outputs, writes, reads, totalCents=as_decimal(usage.get("totalCents"))
            )
        charged = raw.get("chargedCents")
        timestamp = raw.get("timestamp")
        return cls(
            timestamp=timestamp if isinstance(timestamp, (str, int)) else 0,
            userEmail=_as_str(raw.get("userEmail")),
            model=_as_str(raw.get("model")),
            kind=_as_str(raw.get("kind")),
            kindLabel=_as_str(raw.get("kindLabel")),
            isChargeable=raw.get("isChargeable") is True,
            isTokenBasedCall=raw.get("isTokenBasedCall") is True,
            isHeadless=raw.get("isHeadless") is True,
            tokenUsage=token_usage,
            cursorTokenFee=as_decimal(raw.get("cursorTokenFee")),
            # A missing amount (or the text "null") falls back to the list cost.
            chargedCents=None if charged is None or charged == "null" else as_decimal(charged),
            requestsCosts=as_decimal(raw.get("requestsCosts")),
            cloudAgentId=raw.get("cloudAgentId"),
            automationId=raw.get("automationId"),
            serviceAccountId=raw.get("serviceAccountId"),
        )

    @property
    def on_demand(self) -> bool:
        """`kind`, or `kindLabel` where `kind` is absent, is usage-based, and chargeable."""
        return self.isChargeable and is_on_demand_kind(self.kind or self.kindLabel)

    def billable(self, basis: CostBasis = "list") -> bool:
        """An on-demand event the basis counts: `list` only token-based calls (SPEC §7)."""
        return self.on_demand and (self.isTokenBasedCall or basis == "charged")

    @property
    def list_cents(self) -> Decimal:
        """tokenUsage.totalCents + cursorTokenFee."""
        total = self.tokenUsage.totalCents if self.tokenUsage is not None else ZERO
        return ZERO + total + (self.cursorTokenFee or ZERO)

    @property
    def charged_cents(self) -> Decimal:
        """chargedCents, falling back to the list formula where it is missing."""
        return ZERO + self.chargedCents if self.chargedCents is not None else self.list_cents

    def cost_cents(self, cost_basis: CostBasis = "list") -> Decimal:
        return self.charged_cents if cost_basis == "charged" else self.list_cents

    @property
    def timestamp_ms(self) -> int:
        try:
            return int(self.timestamp)
        except ValueError:
            return 0

    @property
    def source(self) -> Source:
        """SPEC §7: cloud agent, else automation, else service account, else headless, else
        human."""
        if _is_set(self.cloudAgentId):
            return "cloud_agent"
        if _is_set(self.automationId):
            return "automation"
        if _is_set(self.serviceAccountId):
            return "service_account"
        if self.isHeadless is True:
            return "headless"
        return "human"


@runtime_checkable
class EventBatches(Protocol):
    """A month's events decoded a batch at a time as they are read (`cache.MonthEvents`), so
    that they are never all in memory; `batches()` may be called again for a second pass."""

    def __len__(self) -> int: ...
    def batches(self) -> Iterator[list[UsageEvent]]: ...


TOKEN_FIELDS = ("inputTokens", "outputTokens", "cacheWriteTokens", "cacheReadTokens")


def as_decimal(value: object) -> Decimal:
    """A money value as an exact decimal, as the fast decoder reads it: missing counts as 0;
    a number or numeric text as itself (NaN and Infinity included, for the fold to count as 0
    with a warning); anything else (garbage text, true, a list) is not a number: NaN."""
    if value is None:
        return ZERO
    if isinstance(value, bool):
        return _NOT_A_NUMBER
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr() is the shortest string that round-trips: the number the JSON text held.
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return _NOT_A_NUMBER
    return _NOT_A_NUMBER


_NOT_A_NUMBER = Decimal("NaN")


def _as_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return 0
    try:
        return int(value)
    except (ArithmeticError, ValueError):  # NaN or infinity
        return 0


def _as_str(value: object) -> str:
    return value if isinstance(value, str) else ""
