"""Deterministic, realistic usage events for the emulator: a few heavy users and a long tail,
per-user model habits, every `kind` spelling, every source (humans, headless runs, cloud agents,
automations, service accounts), token-based or request-based billing, and the awkward cases a
client must survive (events on month edges, identical twins, missing `tokenUsage`, odd e-mails;
hostile names such as `<script>` only with `hostile=True`). `generate` also returns the team
behind the events (members, billing groups and their history, the signup instant).

Same arguments, same result: everything random comes from one `random.Random(seed)`."""

from __future__ import annotations

import calendar
import copy
import gc
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from itertools import accumulate
from random import Random
from typing import Any

from cursor_billing.emulator.team import (
    BillingGroup,
    Member,
    Membership,
    Team,
    name_from_email,
    signup_before,
    user_id_for,
)

DAY_MS = 86_400_000
FEE_CENTS_PER_TOKEN = 0.000025  # $0.25 per million tokens, third-party models only
TOKEN_BUCKETS = ("inputTokens", "outputTokens", "cacheWriteTokens", "cacheReadTokens")
# Request-based plans charge per request unit ($0.04), whatever the tokens (real payload:
# chargedCents 8 for totalCents 33.7): their totalCents reads about 4x what was charged.
REQUEST_UNIT_CENTS = 4


@dataclass(frozen=True)
class ModelPrice:
    """List prices in dollars per million tokens, and how the model is used."""

    input: float
    output: float
    cache_write: float
    cache_read: float
    popularity: float  # share of requests across the whole team
    size: float  # typical context size relative to claude-4.5-sonnet
    request_units: float  # requestsCosts of one normal request
    first_party: bool = False  # Cursor's own models carry no cursorTokenFee


HOSTILE_MODEL = '<script>alert("x")</script>-model'
MODELS: dict[str, ModelPrice] = {
    "claude-4.5-sonnet": ModelPrice(3.0, 15.0, 3.75, 0.30, 30, 1.0, 1),
    "claude-4.5-sonnet-thinking": ModelPrice(3.0, 15.0, 3.75, 0.30, 12, 1.3, 2),
    "claude-4.1-opus": ModelPrice(15.0, 75.0, 18.75, 1.50, 3, 1.2, 5),
    "claude-4.5-haiku": ModelPrice(1.0, 5.0, 1.25, 0.10, 3, 0.7, 0.5),
    "gpt-5": ModelPrice(1.25, 10.0, 1.25, 0.125, 10, 1.0, 1),
    "gpt-5-codex": ModelPrice(1.25, 10.0, 1.25, 0.125, 8, 1.1, 1),
    "gpt-5-mini": ModelPrice(0.25, 2.0, 0.25, 0.025, 4, 0.6, 0.5),
    "gemini-2.5-pro": ModelPrice(1.25, 10.0, 1.625, 0.31, 6, 1.1, 1),
    "grok-code-fast-1": ModelPrice(0.20, 1.50, 0.20, 0.02, 5, 0.8, 0.5),
    "o3": ModelPrice(2.0, 8.0, 2.0, 0.50, 2, 1.0, 1),
    "composer-1": ModelPrice(1.25, 10.0, 1.25, 0.125, 8, 0.9, 1, first_party=True),
    "default": ModelPrice(1.25, 6.0, 1.25, 0.25, 10, 0.8, 1, first_party=True),
}
# Only in `hostile=True` data: for the tests of escaping, never in the demo (issue 14, item 17).
HOSTILE_MODELS: dict[str, ModelPrice] = {
    HOSTILE_MODEL: ModelPrice(1.0, 5.0, 1.0, 0.10, 1, 0.8, 1),
}
HOSTILE_NAME = "<img src=x onerror=alert(1)>\x1b]0;owned\x07\u202eEve"
ALL_MODELS = {**MODELS, **HOSTILE_MODELS}

USAGE_BASED = "Usage-based"
# (kind, share of events). Odd spellings other tools have seen are kept rare but present.
KIND_SHARES: tuple[tuple[str, float], ...] = (
    (USAGE_BASED, 0.775),
    ("Included in Business", 0.10),
    ("Included in Pro", 0.02),
    ("Errored, Not Charged", 0.03),
    ("Aborted, Not Charged", 0.015),
    ("User API Key", 0.015),
    ("On-Demand", 0.02),
    ("usage-based", 0.015),
    ("USAGE_EVENT_KIND_USAGE_BASED", 0.01),
)
KINDS = tuple(kind for kind, _ in KIND_SHARES)
ON_DEMAND_KINDS = frozenset(
    {USAGE_BASED, "On-Demand", "usage-based", "USAGE_EVENT_KIND_USAGE_BASED"}
)
_NOT_CHARGEABLE_KINDS = frozenset({"Errored, Not Charged", "Aborted, Not Charged", "User API Key"})

# Ranked among the eight heaviest users, so the "top" tables have to escape them.
ODD_EMAILS = ("zoë.müller@example.com", "o'brien+cursor@example.com", "r&d-bot@example.com")
SERVICE_ACCOUNT_EMAIL = "ci-review-bot@svc.example.com"
SERVICE_ACCOUNT_ID = "sa_01JC7Q2M8X4K9V3T6R5P0N1B2Z"
# (email, serviceAccountId, serviceAccountName): bot-like accounts that spend on their own.
SERVICE_ACCOUNTS = (
    (SERVICE_ACCOUNT_EMAIL, SERVICE_ACCOUNT_ID, "CI review bot"),
    ("docs-sync-bot@svc.example.com", "sa_01JD2H7W4Q9B6N3M8K5T1R0C7X", "Docs sync"),
    ("release-notes@svc.example.com", "sa_01JE5V8P3L6G9D2F4S7A0Y1U3I", "Release notes writer"),
)
SERVICE_ACCOUNT_SHARE = 0.07  # of all events, split between the service accounts
# Of a human's events: (source, share); the rest are typed by the human in the editor.
HUMAN_SOURCE_SHARES = (("cloud_agent", 0.10), ("automation", 0.05), ("headless", 0.06))
GROUP_NAMES = ("Platform", "Mobile", "Data & ML", "Developer Experience")
UNASSIGNED_SHARE = 0.12  # of the humans, in no billing group
_FIRST = (
    "alice bruno chloé dmitri emma farid grace hiro inès jonas kofi lena marta nikolai olga "
    "priya quentin rosa sven tomás uma victor wanda xiao yusuf zara ana ben carla diego elif"
).split()
_LAST = (
    "nguyen schmidt garcía kowalski okafor rossi tanaka dubois silva novak larsen "
    "haddad ivanova berg moreau"
).split()


@dataclass
class UsageData:
    """Generated events (sorted by timestamp) and the team they belong to."""

    events: list[dict[str, Any]]
    team: Team


def generate_events(
    seed: int,
    start_ms: int,
    end_ms: int,
    count: int,
    users: int = 40,
    *,
    request_based: float = 0.0,
    hostile: bool = False,
) -> list[dict[str, Any]]:
    """The events of `generate` (same arguments, same list)."""
    return generate(
        seed, start_ms, end_ms, count, users, request_based=request_based, hostile=hostile
    ).events


def generate(
    seed: int,
    start_ms: int,
    end_ms: int,
    count: int,
    users: int = 40,
    *,
    request_based: float = 0.0,
    hostile: bool = False,
) -> UsageData:
    """About `count` usage events with timestamps in the inclusive range [start_ms, end_ms],
    sorted by timestamp, from `users` human users plus the service accounts, and their team.

    `request_based` is the share of events billed per request (0 = a token-based team, 1 = a
    request-based team, between = a team whose events are mixed). `hostile` adds a model and a
    member name made to break HTML and terminals.

    The fixed cases (month-edge events, one identical pair per calendar month, one event of
    every kind and source, ...) are part of `count`; when `count` is smaller than them, they
    alone are returned."""
    if end_ms < start_ms:
        raise ValueError("end_ms must not be before start_ms")
    if count < 0 or users < 1:
        raise ValueError("count must be >= 0 and users >= 1")
    if not 0.0 <= request_based <= 1.0:
        raise ValueError("request_based must be between 0 and 1")
    rng = Random(seed)
    models = ALL_MODELS if hostile else MODELS
    people = _team(rng, users, models)
    factory = _EventFactory(rng, models, request_based, _automation_ids(rng))
    fixtures = _fixtures(rng, people, factory, start_ms, end_ms, hostile)

    timestamps = _timestamps(rng, start_ms, end_ms, max(0, count - len(fixtures)))
    kind_cum = list(accumulate(share for _, share in KIND_SHARES))
    user_cum = list(accumulate(user.weight for user in people))
    last_user, last_model, last_kind = len(people) - 1, len(models) - 1, len(KINDS) - 1
    random = rng.random
    make = factory.make
    events = []
    # A million new dicts would trigger many full garbage collections that find nothing:
    # these dicts hold no reference cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for ts in timestamps:
            user = people[bisect_right(user_cum, random() * user_cum[-1], 0, last_user)]
            cum = user.model_cum
            model = user.models[bisect_right(cum, random() * cum[-1], 0, last_model)]
            kind = KINDS[bisect_right(kind_cum, random() * kind_cum[-1], 0, last_kind)]
            events.append(make(ts, user, model, kind))
    finally:
        if gc_was_enabled:
            gc.enable()
    events.extend(fixtures)
    events.sort(key=_timestamp_of)
    team = _history(rng, people, events, start_ms, end_ms, hostile)
    return UsageData(events, team)


@dataclass
class _User:
    email: str
    weight: float  # share of the team's requests
    models: list[str]
    model_cum: list[float]  # cumulative weights for `models`: the user's habits
    tokens_scale: float  # some people feed whole repositories, others one file
    service_account_id: str = "null"
    service_account_name: str | None = None


def _team(rng: Random, users: int, models: dict[str, ModelPrice]) -> list[_User]:
    """The humans (heaviest first in rank, not in order), then the service accounts."""
    names: list[str] = list(ODD_EMAILS[:users])
    seen = set(names)
    while len(names) < users:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first}.{last}@example.com"
        if email in seen:
            email = f"{first}.{last}{len(names)}@example.com"
        seen.add(email)
        names.append(email)
    # Zipf-like ranks: a few heavy users make most requests. The odd e-mails rank in the top 8.
    ranks = list(range(1, users + 1))
    head = ranks[: min(8, users)]
    rng.shuffle(head)
    ranks[: len(head)] = head
    team = [
        _user(rng, email, 1.0 / rank**1.2, models) for email, rank in zip(names, ranks, strict=True)
    ]
    human_weight = sum(user.weight for user in team)
    bot_weight = human_weight * SERVICE_ACCOUNT_SHARE / (1 - SERVICE_ACCOUNT_SHARE)
    for index, (email, account_id, account_name) in enumerate(SERVICE_ACCOUNTS):
        bot = _user(rng, email, bot_weight * (0.6, 0.25, 0.15)[index], models)
        bot.service_account_id, bot.service_account_name = account_id, account_name
        team.append(bot)
    return team


def _user(rng: Random, email: str, weight: float, models: dict[str, ModelPrice]) -> _User:
    names = list(models)
    weights = [models[name].popularity * rng.random() ** 3 for name in names]
    favourite = rng.choices(range(len(names)), weights=[models[m].popularity for m in names])[0]
    weights[favourite] += 5 * sum(weights) + 1.0
    return _User(email, weight, names, list(accumulate(weights)), 0.5 + 1.5 * rng.random())


def _automation_ids(rng: Random) -> tuple[str, ...]:
    return tuple(f"auto_{rng.getrandbits(80):020x}" for _ in range(5))


def _history(
    rng: Random,
    people: list[_User],
    events: list[dict[str, Any]],
    start_ms: int,
    end_ms: int,
    hostile: bool,
) -> Team:
    """The team behind the events: a few billing groups, one human who moved groups in the
    middle of a month, one who left the team (their later events go to a colleague)."""
    humans = [user for user in people if user.service_account_id == "null"]
    signup = signup_before(start_ms)
    groups = [
        BillingGroup(f"group_{rng.getrandbits(64):016x}", name, directory)
        for name, directory in zip(
            GROUP_NAMES, (None, f"dg_{rng.getrandbits(48):012x}", None, None), strict=True
        )
    ]
    memberships: list[Membership] = []
    for user in humans:
        if rng.random() >= UNASSIGNED_SHARE:
            memberships.append(Membership(user.email, rng.choice(groups).id, signup))
    members = [
        Member(
            user.email,
            user.service_account_name or _display_name(user.email),
            user_id_for(user.email),
            "owner" if index == 0 else "member",
            service_account_id=None
            if user.service_account_id == "null"
            else user.service_account_id,
            service_account_name=user.service_account_name,
            monthly_limit_dollars=(None, None, None, 200)[index % 4],
            hard_limit_override_dollars=500 if index == 2 else 0,
        )
        for index, user in enumerate(people)
    ]
    if hostile and len(members) > 1:
        members[1] = replace(members[1], name=HOSTILE_NAME)
    span = end_ms - start_ms
    if len(humans) >= 3 and len(groups) >= 2:
        # The move: the heaviest grouped human, on the 15th of the month at 60 % of the range.
        moved = next((m for m in memberships if m.email == humans[0].email), None)
        if moved is None:
            moved = Membership(humans[0].email, groups[0].id, signup)
            memberships.append(moved)
        at = _mid_month(start_ms + span * 3 // 5, start_ms, end_ms)
        target = next(g.id for g in groups if g.id != moved.group_id)
        index = memberships.index(moved)
        memberships[index] = replace(moved, left_ms=at)
        memberships.insert(index + 1, Membership(moved.email, target, at))
        # The departure: a light user, at 45 % of the range.
        leaver = humans[-1]
        left = start_ms + span * 9 // 20
        memberships = [
            replace(m, left_ms=left) if m.email == leaver.email and m.left_ms is None else m
            for m in memberships
        ]
        position = next(i for i, m in enumerate(members) if m.email == leaver.email)
        members[position] = replace(members[position], is_removed=True)
        heir = humans[1].email
        for event in events:
            if event["userEmail"] == leaver.email and int(event["timestamp"]) >= left:
                event["userEmail"] = heir
    return Team(members, groups, memberships, signup, default_user_limit_dollars=1000)


def _display_name(email: str) -> str:
    special = {
        ODD_EMAILS[0]: "Zoë Müller",
        ODD_EMAILS[1]: "Siobhán O'Brien",
        ODD_EMAILS[2]: "R&D shared seat",
    }
    return special.get(email) or name_from_email(email).title()


def _mid_month(ts_ms: int, start_ms: int, end_ms: int) -> int:
    """Noon UTC on the 15th of the month of `ts_ms` if that lies in the range, else `ts_ms`."""
    moment = datetime.fromtimestamp(ts_ms / 1000, timezone.utc)
    mid = calendar.timegm((moment.year, moment.month, 15, 12, 0, 0)) * 1000
    return mid if start_ms < mid < end_ms else ts_ms


def _timestamps(rng: Random, start_ms: int, end_ms: int, count: int) -> list[int]:
    """`count` sorted timestamps: each UTC day (clipped to the range) is weighted by its length,
    its weekday and a steady growth, so the demo shows a rising trend and quiet weekends."""
    day_lo, day_len, weights = [], [], []
    span = max(1, end_ms - start_ms)
    day = start_ms - start_ms % DAY_MS
    while day <= end_ms:
        lo, hi = max(day, start_ms), min(day + DAY_MS - 1, end_ms)
        weekday = datetime.fromtimestamp(day // 1000, timezone.utc).weekday()
        growth = 1.0 + 0.6 * (lo - start_ms) / span
        day_lo.append(lo)
        day_len.append(hi - lo + 1)
        weights.append((hi - lo + 1) / DAY_MS * (0.25 if weekday >= 5 else 1.0) * growth)
        day += DAY_MS
    cum = list(accumulate(weights))
    total, last, random = cum[-1], len(cum) - 1, rng.random
    days = [bisect_right(cum, random() * total, 0, last) for _ in range(count)]
    return sorted([day_lo[i] + int(random() * day_len[i]) for i in days])


class _EventFactory:
    """Builds one event dict; the per-event dice live here so fixtures and bulk share them.
    Written for speed (a million events): per-model numbers are precomputed into tuples."""

    def __init__(
        self,
        rng: Random,
        models: dict[str, ModelPrice],
        request_based: float,
        automation_ids: tuple[str, ...],
    ) -> None:
        self.rng = rng
        self.request_based = request_based
        self.automation_ids = automation_ids
        self.source_cum = list(accumulate(share for _, share in HUMAN_SOURCE_SHARES))
        self.models = {
            name: (
                price.input / 10_000,  # dollars per million tokens -> cents per token
                price.output / 10_000,
                price.cache_write / 10_000,
                price.cache_read / 10_000,
                price.size,
                price.request_units,
                0.35 if price.request_units >= 2 else 0.08,  # chance of max mode
                not price.first_party,  # pays cursorTokenFee
                name != "default",  # Auto carries no fee field at all
            )
            for name, price in models.items()
        }

    def make(
        self,
        ts: int,
        user: _User,
        model: str,
        kind: str,
        *,
        plain: bool = False,
        source: str | None = None,
    ) -> dict[str, Any]:
        """`plain` rules out the rare oddities (missing tokenUsage, not chargeable, not
        token-based), for fixtures that must be ordinary billable events. `source` forces the
        source of a human's event (`human`, `headless`, `cloud_agent`, `automation`)."""
        rng = self.rng
        random = rng.random
        p_in, p_out, p_cw, p_cr, size, units, max_chance, has_fee, fee_field = self.models[model]
        is_service = user.service_account_id != "null"
        if source is None and not is_service:
            roll, cum = random(), self.source_cum
            source = "human"
            if roll < cum[-1]:
                source = HUMAN_SOURCE_SHARES[bisect_right(cum, roll)][0]
        max_mode = random() < max_chance
        chargeable = kind not in _NOT_CHARGEABLE_KINDS
        per_request = self.request_based >= 1.0 or (
            self.request_based > 0.0 and random() < self.request_based
        )
        token_based = not per_request
        if not plain and kind in ON_DEMAND_KINDS:
            roll = random()
            if roll < 0.008:  # a few usage-based events are not chargeable, a few not token-based
                chargeable = roll >= 0.004
                token_based = token_based and roll >= 0.004
        request_units = units * 2 if max_mode else units
        event: dict[str, Any] = {
            "timestamp": str(ts),
            "userEmail": user.email,
            "model": model,
            "kind": kind,
            "maxMode": max_mode,
            "requestsCosts": request_units,
            "isTokenBasedCall": token_based,
            "isChargeable": chargeable,
            "isHeadless": is_service or source != "human",
        }
        charged = 0.0
        if per_request:
            charged = request_units * REQUEST_UNIT_CENTS
        # Errored and aborted calls often stop before any token is counted.
        if plain or random() >= (0.3 if kind in _NOT_CHARGEABLE_KINDS else 0.01):
            # One heavy-tailed size per request, then some spread between the buckets.
            size *= user.tokens_scale * (0.15 + 3.0 * random() ** 3)
            if per_request:
                size *= 1.8  # the price does not grow with the context: people feed more
            input_tokens = int(18_000 * size * (0.3 + random()))
            output_tokens = int(2_500 * size * (0.3 + random()))
            if kind == "Aborted, Not Charged":
                output_tokens //= 10
            cache_write = 0 if random() < 0.15 else int(15_000 * size * (0.2 + random()))
            cache_read = 0 if random() < 0.1 else int(150_000 * size * (0.2 + random()))
            # The API leaves out empty buckets, so readers must treat a missing one as 0.
            usage: dict[str, Any] = {"inputTokens": input_tokens, "outputTokens": output_tokens}
            if cache_write:
                usage["cacheWriteTokens"] = cache_write
            if cache_read:
                usage["cacheReadTokens"] = cache_read
            cents = round(
                input_tokens * p_in
                + output_tokens * p_out
                + cache_write * p_cw
                + cache_read * p_cr,
                6,
            )
            usage["totalCents"] = cents  # on a request-based event: not what was charged
            event["tokenUsage"] = usage
            if not per_request:
                fee = 0.0
                if has_fee:
                    tokens = input_tokens + output_tokens + cache_write + cache_read
                    fee = round(tokens * FEE_CENTS_PER_TOKEN, 6)
                if fee_field:
                    event["cursorTokenFee"] = fee
                if has_fee and random() < 0.03:
                    discount = rng.choice((10, 20, 50))
                    event["discountPercentOff"] = discount
                    cents = cents * (100 - discount) / 100
                charged = round(cents + fee, 6)
        # On every event, included and errored ones too (0 only for token-based calls that
        # stopped before any token was counted).
        event["chargedCents"] = charged
        event["serviceAccountId"] = user.service_account_id
        if is_service:
            event["serviceAccountName"] = user.service_account_name
        if random() < 0.3:
            bits = f"{rng.getrandbits(128):032x}"
            event["conversationId"] = (
                f"{bits[:8]}-{bits[8:12]}-{bits[12:16]}-{bits[16:20]}-{bits[20:]}"
            )
        if source == "cloud_agent":
            event["cloudAgentId"] = f"bc-{rng.getrandbits(64):016x}"
        elif source == "automation":
            event["automationId"] = self.automation_ids[int(random() * len(self.automation_ids))]
        if random() < 0.02:
            event["isFreeBugbot"] = kind == "Included in Business"
        return event


def _fixtures(
    rng: Random,
    team: list[_User],
    factory: _EventFactory,
    start_ms: int,
    end_ms: int,
    hostile: bool,
) -> list[dict[str, Any]]:
    """The cases every data set must contain, whatever its size."""
    humans = [user for user in team if user.service_account_id == "null"]
    bots = [user for user in team if user.service_account_id != "null"]
    third_party = [name for name, price in MODELS.items() if not price.first_party]

    def billable(ts: int, user: _User | None = None, model: str | None = None) -> dict:
        user = user or rng.choice(humans)
        return factory.make(ts, user, model or rng.choice(third_party), USAGE_BASED, plain=True)

    def anytime() -> int:
        return rng.randint(start_ms, end_ms)

    events: list[dict[str, Any]] = []
    for first, last in _months(start_ms, end_ms):
        # The first and the last millisecond of each month, where off-by-one bugs live.
        for edge in (first, last):
            if start_ms <= edge <= end_ms:
                events.append(billable(edge))
        # Two genuinely identical events: there is no event id, nothing may merge them.
        twin = billable(rng.randint(max(first, start_ms), min(last, end_ms)))
        events += [twin, copy.deepcopy(twin)]
    for kind in KINDS:
        events.append(factory.make(anytime(), rng.choice(humans), rng.choice(third_party), kind))
    if hostile:
        events.append(billable(anytime(), humans[0], HOSTILE_MODEL))
        events.append(billable(anytime(), None, HOSTILE_MODEL))
    for user in [*humans[: len(ODD_EMAILS)], *bots]:
        events.append(billable(anytime(), user))
    for source in ("human", "headless", "cloud_agent", "automation"):
        model = rng.choice(third_party)
        events.append(
            factory.make(
                anytime(), rng.choice(humans), model, USAGE_BASED, plain=True, source=source
            )
        )

    odd = [billable(anytime()) for _ in range(6)]
    del odd[0]["tokenUsage"]  # usage-based and chargeable, yet no tokenUsage at all
    odd[0].pop("cursorTokenFee", None)
    odd[0].pop("chargedCents", None)
    odd[1]["tokenUsage"].pop("cacheWriteTokens", None)  # a missing bucket
    _reprice(odd[1])
    odd[2]["isChargeable"] = False
    odd[3]["isTokenBasedCall"] = False
    odd[4]["conversationId"] = "5f0c2a9e-8d7b-4c1a-9e3f-2b6d8a4c7e10"
    odd[4]["isFreeBugbot"] = False
    odd[5]["discountPercentOff"] = 20
    _reprice(odd[5])
    return events + odd


def _reprice(event: dict[str, Any]) -> None:
    """Recompute the money of an event whose buckets or discount a fixture changed."""
    price, usage = ALL_MODELS[event["model"]], event["tokenUsage"]
    buckets = [usage.get(name, 0) for name in TOKEN_BUCKETS]
    prices = (price.input, price.output, price.cache_write, price.cache_read)
    cents = round(sum(n * p for n, p in zip(buckets, prices, strict=True)) / 10_000, 6)
    usage["totalCents"] = cents
    if not event["isTokenBasedCall"]:
        return  # billed per request: chargedCents does not follow the tokens
    fee = 0.0
    if not price.first_party:
        fee = round(sum(buckets) * FEE_CENTS_PER_TOKEN, 6)
        event["cursorTokenFee"] = fee
    discount = event.get("discountPercentOff", 0)
    event["chargedCents"] = round(cents * (100 - discount) / 100 + fee, 6)


def _months(start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """(first ms, last ms) of every UTC calendar month that overlaps the range."""
    moment = datetime.fromtimestamp(start_ms / 1000, timezone.utc)
    year, month = moment.year, moment.month
    months: list[tuple[int, int]] = []
    while True:
        first = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
        if first > end_ms:
            return months
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        next_first = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
        months.append((first, next_first - 1))


def _timestamp_of(event: dict[str, Any]) -> int:
    return int(event["timestamp"])
