"""A bundled emulator of Cursor's Admin API, with realistic generated data: the only server the
`demo` command, `cursor-billing emulator` and the test suite ever talk to.

Endpoints (HTTP Basic, the key as user name, empty password; each endpoint has its own rate limit
per fixed window of `rate_window_seconds`; see server.py for every choice where the API is unknown):
- `POST /teams/filtered-usage-events` `{startDate, endDate, page, pageSize, email}` (epoch ms,
  inclusive, at most 30 days, pageSize <= 1000) -> `{totalUsageEventsCount, pagination,
  usageEvents (newest first), period}`. `Emulator(kind_label=True)` sends `kindLabel` for `kind`.
  Limit: `rate_limit` (default 20/min; None = off).
- `POST /teams/spend` `{page, pageSize (default 100, <= 1000), searchTerm, sortBy
  amount|date|user, sortDirection asc|desc}` -> `{teamMemberSpend: [{userId, name, email, role,
  spendCents, includedSpendCents, fastPremiumRequests, hardLimitOverrideDollars,
  monthlyLimitDollars, effectivePerUserLimitDollars}], subscriptionCycleStart, totalMembers,
  totalPages}`; page until page >= totalPages. `spendCents` = the sum of `charged_cents(event)`
  (`chargedCents`, else `totalCents + cursorTokenFee`) of the member's on-demand chargeable events
  in [cycle start, cycle end); `includedSpendCents` the same over included chargeable events.
  Every member of `GET /teams/members` is listed, removed ones too, 0 where nothing was spent.
  Money is exact (JSON numbers from Decimal sums). Limit: `admin_rate_limit` (default 20/min).
- `GET /teams/members` -> `{teamMembers: [{id, name, email, role, isRemoved}]}`: the team, then
  anyone else seen in the events or given a spend skew.
- `GET /teams/groups[?billingCycle=YYYY-MM-DD]` -> `{groups: [{id, name, type: "BILLING",
  directoryGroupId, memberCount, spendCents, currentMembers: [{userId, name, email, joinedAt,
  leftAt, spendCents}], formerMembers: [...], dailySpend: [{date, spendCents}]}],
  unassignedGroup: {...same shape}, billingCycle: {cycleStart, cycleEnd}}` (ISO-8601 UTC with ms).
  A member's spend is that of their on-demand events while in the group (joinedAt inclusive,
  leftAt exclusive); `dailySpend` has every UTC day of the cycle up to now. `enterprise=False`
  answers 403 `{"error": "Forbidden", "message": "Enterprise access required"}`.

Python API:
- `generate(seed, start_ms, end_ms, count, users=40, request_based=0.0, hostile=False)` ->
  `UsageData(events, team)`; `generate_events(...)` -> the events alone. Deterministic per seed.
  `request_based` is the share of events billed per request (`isTokenBasedCall: false`,
  `chargedCents` = requestsCosts x 4 cents, `tokenUsage.totalCents` about 4x higher); `hostile`
  adds `HOSTILE_MODEL` events and a member named `HOSTILE_NAME` (never in the demo).
- `Team` (team.py): `members`, `groups`, `memberships` (`Membership(email, group_id, joined_ms,
  left_ms)`), `group_of(email, ts_ms)` (the true group at that instant, None = unassigned),
  `cycle_containing(ts_ms)`; `Team.from_events(events)` for hand-made events (no groups).
- `Emulator(events, api_key, rate_limit, ..., team=None, kind_label=False, enterprise=True,
  cycle_start_ms=None, admin_rate_limit=20)`: a context manager; `base_url`, `requests`
  (every `RecordedRequest`), `inject(*faults, path=ENDPOINT)` (one-shot `Fault`s per endpoint),
  `skew_spend(email, cents)` (that member's `spendCents` off by `cents`; an unknown e-mail
  becomes a member with spend and no events), `cycle()` (the current billing cycle: from
  `cycle_start_ms`, default the signup anniversary, the 17th at 09:41:27.318 UTC, before now),
  `member_spend(start_ms, end_ms)`, `events_between(start_ms, end_ms)`, `add_events(events)`.
- `charged_cents(event)`: the emulator's own reading of what an event cost (exact Decimal).

Standard library and msgspec only: no Typer, no rich."""

from cursor_billing.emulator.generator import (
    HOSTILE_MODEL,
    HOSTILE_NAME,
    KINDS,
    MODELS,
    ODD_EMAILS,
    REQUEST_UNIT_CENTS,
    SERVICE_ACCOUNT_EMAIL,
    SERVICE_ACCOUNT_ID,
    SERVICE_ACCOUNTS,
    ModelPrice,
    UsageData,
    generate,
    generate_events,
)
from cursor_billing.emulator.server import (
    ENDPOINT,
    ENTERPRISE_REQUIRED_BODY,
    GROUPS_ENDPOINT,
    MAX_PAGE_SIZE,
    MAX_RANGE_MS,
    MEMBERS_ENDPOINT,
    RATE_LIMITED_BODY,
    SPEND_ENDPOINT,
    UNAUTHORIZED_BODY,
    Emulator,
    Fault,
    RecordedRequest,
    charged_cents,
)
from cursor_billing.emulator.team import BillingGroup, Member, Membership, Team

__all__ = [
    "ENDPOINT",
    "ENTERPRISE_REQUIRED_BODY",
    "GROUPS_ENDPOINT",
    "HOSTILE_MODEL",
    "HOSTILE_NAME",
    "KINDS",
    "MAX_PAGE_SIZE",
    "MAX_RANGE_MS",
    "MEMBERS_ENDPOINT",
    "MODELS",
    "ODD_EMAILS",
    "RATE_LIMITED_BODY",
    "REQUEST_UNIT_CENTS",
    "SERVICE_ACCOUNTS",
    "SERVICE_ACCOUNT_EMAIL",
    "SERVICE_ACCOUNT_ID",
    "SPEND_ENDPOINT",
    "UNAUTHORIZED_BODY",
    "BillingGroup",
    "Emulator",
    "Fault",
    "Member",
    "Membership",
    "ModelPrice",
    "RecordedRequest",
    "Team",
    "UsageData",
    "charged_cents",
    "generate",
    "generate_events",
]
