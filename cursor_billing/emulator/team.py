"""The emulated Cursor team behind the events: members, billing groups with their membership
history, and the billing cycle, so that `/teams/members`, `/teams/groups` and `/teams/spend`
agree with `/teams/filtered-usage-events`.

Membership intervals are half-open: a member is in a group from `joined_ms` (inclusive) until
`left_ms` (exclusive; None = still there)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

Role = Literal["owner", "member"]
# The signup instant's day and time of day anchor every billing cycle (cursor-admin-api.md: Time).
SIGNUP_DAY = 17
SIGNUP_TIME_MS = ((9 * 60 + 41) * 60 + 27) * 1000 + 318  # 09:41:27.318 UTC


@dataclass(frozen=True)
class Member:
    """One seat of the team (or a service account, which also spends)."""

    email: str
    name: str
    user_id: str
    role: Role = "member"
    is_removed: bool = False
    service_account_id: str | None = None
    service_account_name: str | None = None
    monthly_limit_dollars: int | None = None
    hard_limit_override_dollars: int = 0


@dataclass(frozen=True)
class BillingGroup:
    id: str
    name: str
    directory_group_id: str | None = None


@dataclass(frozen=True)
class Membership:
    """`email` belonged to group `group_id` over [joined_ms, left_ms)."""

    email: str
    group_id: str
    joined_ms: int
    left_ms: int | None = None

    def covers(self, ts_ms: int) -> bool:
        return self.joined_ms <= ts_ms and (self.left_ms is None or ts_ms < self.left_ms)


@dataclass
class Team:
    members: list[Member]
    groups: list[BillingGroup] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    signup_ms: int = 0  # anchors the billing cycles
    default_user_limit_dollars: int | None = None

    def member(self, email: str) -> Member | None:
        return next((m for m in self.members if m.email == email), None)

    def group_of(self, email: str, ts_ms: int) -> BillingGroup | None:
        """The billing group `email` was in at `ts_ms`; None means unassigned."""
        for stint in self.memberships:
            if stint.email == email and stint.covers(ts_ms):
                return next(g for g in self.groups if g.id == stint.group_id)
        return None

    def cycle_containing(self, ts_ms: int, anchor_ms: int | None = None) -> tuple[int, int]:
        """(start, end) in epoch ms of the billing cycle holding `ts_ms`: monthly anniversaries
        of `anchor_ms` (default: the signup instant); end is exclusive."""
        anchor = self.signup_ms if anchor_ms is None else anchor_ms
        months = months_between(anchor, ts_ms)
        if add_months(anchor, months) > ts_ms:
            months -= 1
        return add_months(anchor, months), add_months(anchor, months + 1)

    @classmethod
    def from_events(cls, events: Iterable[dict[str, Any]]) -> Team:
        """A plain team for hand-made events: every e-mail a member, no groups, cycles anchored
        on the 17th at the signup time before the first event."""
        emails: dict[str, None] = {}
        first = None
        for event in events:
            emails.setdefault(str(event.get("userEmail")), None)
            ts = int(event["timestamp"])
            first = ts if first is None else min(first, ts)
        members = [
            Member(
                email, name_from_email(email), user_id_for(email), "owner" if i == 0 else "member"
            )
            for i, email in enumerate(emails)
        ]
        return cls(members, signup_ms=signup_before(0 if first is None else first))


def name_from_email(email: str) -> str:
    local = email.partition("@")[0].partition("+")[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)


def user_id_for(email: str) -> str:
    """A stable `user_…` id (the same e-mail gets the same id in every run)."""
    import hashlib

    return "user_" + hashlib.sha256(email.encode()).hexdigest()[:24]


def signup_before(ts_ms: int, months: int = 4) -> int:
    """The 17th at 09:41:27.318 UTC, `months` calendar months before the month of `ts_ms`."""
    moment = datetime.fromtimestamp(ts_ms / 1000, timezone.utc)
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    return calendar.timegm((year, month + 1, SIGNUP_DAY, 0, 0, 0)) * 1000 + SIGNUP_TIME_MS


def add_months(ts_ms: int, months: int) -> int:
    """The same day and time of day `months` calendar months later (day clipped to the month)."""
    moment = datetime.fromtimestamp(ts_ms // 1000, timezone.utc)
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    midnight = calendar.timegm((year, month + 1, day, 0, 0, 0)) * 1000
    return midnight + ts_ms % 86_400_000


def months_between(anchor_ms: int, ts_ms: int) -> int:
    a = datetime.fromtimestamp(anchor_ms // 1000, timezone.utc)
    b = datetime.fromtimestamp(ts_ms // 1000, timezone.utc)
    return (b.year - a.year) * 12 + b.month - a.month


def iso(ts_ms: int) -> str:
    """ISO-8601 UTC with milliseconds, as Cursor's newer endpoints write dates."""
    moment = datetime.fromtimestamp(ts_ms // 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ts_ms % 1000:03d}Z"
