"""Deterministic, realistic usage events for the emulator: a few heavy users and a long tail,
per-user model habits, every `kind` spelling, and the awkward cases a client must survive
(events on month edges, identical twins, missing `tokenUsage`, hostile names and e-mails).

Same arguments, same list: everything random comes from one `random.Random(seed)`."""

from __future__ import annotations

import calendar
import copy
import gc
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import accumulate
from random import Random
from typing import Any

DAY_MS = 86_400_000
FEE_CENTS_PER_TOKEN = 0.000025  # $0.25 per million tokens, third-party models only
TOKEN_BUCKETS = ("inputTokens", "outputTokens", "cacheWriteTokens", "cacheReadTokens")


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
    HOSTILE_MODEL: ModelPrice(1.0, 5.0, 1.0, 0.10, 1, 0.8, 1),
}

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
_FIRST = (
    "alice bruno chloé dmitri emma farid grace hiro inès jonas kofi lena marta nikolai olga "
    "priya quentin rosa sven tomás uma victor wanda xiao yusuf zara ana ben carla diego elif"
).split()
_LAST = (
    "nguyen schmidt garcía kowalski okafor rossi tanaka dubois silva novak larsen "
    "haddad ivanova berg moreau"
).split()


def generate_events(
    seed: int, start_ms: int, end_ms: int, count: int, users: int = 40
) -> list[dict[str, Any]]:
    """About `count` usage events with timestamps in the inclusive range [start_ms, end_ms],
    sorted by timestamp. `users` human users plus one service account.

    The fixed cases (month-edge events, one identical pair per calendar month, one event of
    every kind, ...) are part of `count`; when `count` is smaller than them, they alone are
    returned."""
    if end_ms < start_ms:
        raise ValueError("end_ms must not be before start_ms")
    if count < 0 or users < 1:
        raise ValueError("count must be >= 0 and users >= 1")
    rng = Random(seed)
    team = _team(rng, users)
    factory = _EventFactory(rng)
    fixtures = _fixtures(rng, team, factory, start_ms, end_ms)

    timestamps = _timestamps(rng, start_ms, end_ms, max(0, count - len(fixtures)))
    kind_cum = list(accumulate(share for _, share in KIND_SHARES))
    user_cum = list(accumulate(user.weight for user in team))
    last_user, last_model, last_kind = len(team) - 1, len(MODELS) - 1, len(KINDS) - 1
    random = rng.random
    make = factory.make
    events = []
    # A million new dicts would trigger many full garbage collections that find nothing:
    # these dicts hold no reference cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for ts in timestamps:
            user = team[bisect_right(user_cum, random() * user_cum[-1], 0, last_user)]
            models = user.model_cum
            model = user.models[bisect_right(models, random() * models[-1], 0, last_model)]
            kind = KINDS[bisect_right(kind_cum, random() * kind_cum[-1], 0, last_kind)]
            events.append(make(ts, user, model, kind))
    finally:
        if gc_was_enabled:
            gc.enable()
    events.extend(fixtures)
    events.sort(key=_timestamp_of)
    return events


@dataclass
class _User:
    email: str
    weight: float  # share of the team's requests
    models: list[str]
    model_cum: list[float]  # cumulative weights for `models`: the user's habits
    tokens_scale: float  # some people feed whole repositories, others one file
    service_account_id: str = "null"


def _team(rng: Random, users: int) -> list[_User]:
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
    team = [_user(rng, email, 1.0 / rank**1.2) for email, rank in zip(names, ranks, strict=True)]
    bot = _user(rng, SERVICE_ACCOUNT_EMAIL, 0.3 / max(1, users) ** 0.2)
    bot.service_account_id = SERVICE_ACCOUNT_ID
    team.append(bot)
    return team


def _user(rng: Random, email: str, weight: float) -> _User:
    models = list(MODELS)
    weights = [MODELS[name].popularity * rng.random() ** 3 for name in models]
    favourite = rng.choices(range(len(models)), weights=[MODELS[m].popularity for m in models])[0]
    weights[favourite] += 5 * sum(weights) + 1.0
    return _User(email, weight, models, list(accumulate(weights)), 0.5 + 1.5 * rng.random())


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

    def __init__(self, rng: Random) -> None:
        self.rng = rng
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
            for name, price in MODELS.items()
        }

    def make(
        self, ts: int, user: _User, model: str, kind: str, *, plain: bool = False
    ) -> dict[str, Any]:
        """`plain` rules out the rare oddities (missing tokenUsage, not chargeable, not
        token-based), for fixtures that must be ordinary billable events."""
        rng = self.rng
        random = rng.random
        p_in, p_out, p_cw, p_cr, size, units, max_chance, has_fee, fee_field = self.models[model]
        is_service = user.service_account_id != "null"
        max_mode = random() < max_chance
        headless = is_service or random() < 0.04
        chargeable = kind not in _NOT_CHARGEABLE_KINDS
        token_based = True
        if not plain and kind in ON_DEMAND_KINDS:
            roll = random()
            if roll < 0.008:  # a few usage-based events are not chargeable, a few not token-based
                chargeable, token_based = roll >= 0.004, roll < 0.004
        event: dict[str, Any] = {
            "timestamp": str(ts),
            "userEmail": user.email,
            "model": model,
            "kind": kind,
            "maxMode": max_mode,
            "requestsCosts": units * 2 if max_mode else units,
            "isTokenBasedCall": token_based,
            "isChargeable": chargeable,
            "isHeadless": headless,
        }
        # Errored and aborted calls often stop before any token is counted.
        if plain or random() >= (0.3 if kind in _NOT_CHARGEABLE_KINDS else 0.01):
            # One heavy-tailed size per request, then some spread between the buckets.
            size *= user.tokens_scale * (0.15 + 3.0 * random() ** 3)
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
            usage["totalCents"] = cents
            event["tokenUsage"] = usage
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
            event["chargedCents"] = round(cents + fee, 6)
        event["serviceAccountId"] = user.service_account_id
        if random() < 0.3:
            bits = f"{rng.getrandbits(128):032x}"
            event["conversationId"] = (
                f"{bits[:8]}-{bits[8:12]}-{bits[12:16]}-{bits[16:20]}-{bits[20:]}"
            )
        if headless and random() < 0.5:
            event["cloudAgentId"] = f"bc-{rng.getrandbits(64):016x}"
        if random() < 0.02:
            event["isFreeBugbot"] = kind == "Included in Business"
        return event


def _fixtures(
    rng: Random, team: list[_User], factory: _EventFactory, start_ms: int, end_ms: int
) -> list[dict[str, Any]]:
    """The cases every data set must contain, whatever its size."""
    humans, bot = team[:-1], team[-1]
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
    events.append(billable(anytime(), humans[0], HOSTILE_MODEL))
    events.append(billable(anytime(), None, HOSTILE_MODEL))
    for user in [*humans[: len(ODD_EMAILS)], bot]:
        events.append(billable(anytime(), user))

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
    price, usage = MODELS[event["model"]], event["tokenUsage"]
    buckets = [usage.get(name, 0) for name in TOKEN_BUCKETS]
    prices = (price.input, price.output, price.cache_write, price.cache_read)
    cents = round(sum(n * p for n, p in zip(buckets, prices, strict=True)) / 10_000, 6)
    usage["totalCents"] = cents
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
    months = []
    while True:
        first = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
        if first > end_ms:
            return months
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        next_first = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
        months.append((first, next_first - 1))


def _timestamp_of(event: dict[str, Any]) -> int:
    return int(event["timestamp"])
