"""The cache held against Cursor's own per-member spend of the billing cycle (SPEC §10).

Cursor's `spendCents` is what it charged for a member's on-demand usage, so the cache side is
always the charged basis, whatever `cost_basis` the reports use. E-mails are matched without
regard to case; a member listed by Cursor keeps Cursor's spelling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import Literal

from cursor_billing.ledger import EXACT, ZERO, Ledger

ReconcileStatus = Literal["match", "mismatch", "api_only", "cache_only"]
# A member matches when the two sides differ by at most a cent or 0.5 % of Cursor's figure.
TOLERANCE_CENTS = Decimal(1)
TOLERANCE_SHARE = Decimal("0.005")


@dataclass(frozen=True)
class MemberReconciliation:
    """One member: Cursor's spend, the cache's charged cost, and `diff_cents` = cache − api."""

    email: str
    api_cents: Decimal  # 0 when Cursor does not list the member
    cache_cents: Decimal  # 0 when the cache holds no on-demand event of theirs this cycle
    diff_cents: Decimal
    status: ReconcileStatus


@dataclass(frozen=True)
class ReconcileTotals:
    api_cents: Decimal
    cache_cents: Decimal
    diff_cents: Decimal


@dataclass(frozen=True)
class Reconciliation:
    cycle_start: datetime  # subscriptionCycleStart, an instant (UTC)
    as_of: datetime  # the latest moment the compared cache covers (UTC)
    members: tuple[MemberReconciliation, ...]  # ranked by the larger side, highest first
    totals: ReconcileTotals

    @property
    def ok(self) -> bool:
        return all(member.status == "match" for member in self.members)

    @property
    def findings(self) -> tuple[MemberReconciliation, ...]:
        return tuple(member for member in self.members if member.status != "match")


def within_tolerance(api_cents: Decimal, diff_cents: Decimal) -> bool:
    """|diff| ≤ max(1 cent, 0.5 % of api)."""
    return abs(diff_cents) <= max(TOLERANCE_CENTS, abs(api_cents) * TOLERANCE_SHARE)


def member_status(api_cents: Decimal | None, cache_cents: Decimal | None) -> ReconcileStatus:
    """None for a side that does not know the member at all."""
    api, cache = api_cents or ZERO, cache_cents or ZERO
    if within_tolerance(api, EXACT.subtract(cache, api)):
        return "match"
    if api_cents is None:
        return "cache_only"
    if cache_cents is None:
        return "api_only"
    return "mismatch"


def compare_spend(
    spend: Mapping[str, Decimal], ledger: Ledger, cycle_start: datetime, as_of: datetime
) -> Reconciliation:
    """`spend` is Cursor's `spendCents` per e-mail; `ledger` holds the cycle's events only."""
    cached: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for email, tally in ledger.group("charged", lambda row: row.user).items():
        key = email.casefold()
        cached[key] = EXACT.add(cached.get(key, ZERO), tally.cost_cents)
        names.setdefault(key, email)
    api: dict[str, Decimal] = {}
    for email, cents in spend.items():
        key = email.casefold()
        api[key] = EXACT.add(api.get(key, ZERO), cents)
        names[key] = email
    members = []
    for key in api.keys() | cached.keys():
        api_cents, cache_cents = api.get(key), cached.get(key)
        api_side, cache_side = api_cents or ZERO, cache_cents or ZERO
        members.append(
            MemberReconciliation(
                names[key],
                api_side,
                cache_side,
                EXACT.subtract(cache_side, api_side),
                member_status(api_cents, cache_cents),
            )
        )
    members.sort(key=lambda m: (-max(m.api_cents, m.cache_cents), m.email))
    api_total = reduce(EXACT.add, (m.api_cents for m in members), ZERO)
    cache_total = reduce(EXACT.add, (m.cache_cents for m in members), ZERO)
    return Reconciliation(
        cycle_start,
        as_of,
        tuple(members),
        ReconcileTotals(api_total, cache_total, EXACT.subtract(cache_total, api_total)),
    )
