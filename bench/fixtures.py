"""Generated caches for the benchmarks, written in the SPEC §6 format with `CacheDir.write`.

Generating a million events takes a while, so each cache is kept under `bench/.data/<name>/`
with a stamp of what it was built from; a later run asking for the same cache reuses it."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any, Literal
from zoneinfo import ZoneInfo

from cursor_billing.cache import CacheDir, MonthlyCache
from cursor_billing.emulator import MODELS, generate_events
from cursor_billing.events import is_kept
from cursor_billing.months import Month
from cursor_billing.settings import CACHE_SUBDIR

FIXTURE_VERSION = 3  # 2: the generator grew sources, service accounts and a team; 3: shapes
UTC = ZoneInfo("UTC")
FIRST_MONTH = Month(2025, 1)  # fixed months: the same cache whatever the date
GENERATED_USERS = 40  # the generator's heavy-tailed team; more users are spread evenly
KEPT_SHARE = 0.80  # a little under the generator's share of kept (on-demand, chargeable) events


# generated: the emulator's events as they are (money with up to 6 decimals, some fields
# absent). real: shaped like the real API's answers: every money field present as a decimal
# with 2 to 4 places, `requestsCosts`, `serviceAccountId`, `conversationId` and the other
# extras on every event, and the users drawn by the generator's own heavy tail.
# distinct: every event from a user of its own.
Shape = Literal["generated", "real", "distinct"]


@dataclass(frozen=True)
class CacheSpec:
    """`events` cached (kept) events over `months` months, spread by the months' lengths,
    from `users` users on `models` models, of the given shape."""

    name: str
    events: int
    months: int = 12
    users: int = GENERATED_USERS
    models: int = len(MODELS)
    seed: int = 2026
    shape: Shape = "generated"


def ensure_cache(spec: CacheSpec, root: Path) -> Path:
    """The data dir holding the cache of `spec`, generated unless a matching one is there."""
    data_dir = root / spec.name
    stamp = data_dir / "stamp.json"
    wanted = {"version": FIXTURE_VERSION, **asdict(spec)}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    cache_dir = CacheDir(data_dir / CACHE_SUBDIR)
    months = [FIRST_MONTH]
    while len(months) < spec.months:
        months.append(months[-1].next())
    lengths = [month.end_ms(UTC) - month.start_ms(UTC) for month in months]
    bounds = [spec.events * sum(lengths[:i]) // sum(lengths) for i in range(len(months) + 1)]
    for index, month in enumerate(months):
        events = month_events(spec, month, bounds[index + 1] - bounds[index], index)
        ended = datetime.fromtimestamp(month.next().start_ms(UTC) / 1000, timezone.utc)
        cache_dir.write(
            MonthlyCache(
                month=month,
                timezone="UTC",
                fetched_at=ended + timedelta(days=2),
                complete=True,
                covered_start_ms=month.start_ms(UTC),
                covered_end_ms=month.end_ms(UTC),
                events=events,
            )
        )
    stamp.write_text(json.dumps(wanted))
    return data_dir


def month_events(spec: CacheSpec, month: Month, target: int, index: int) -> list[dict]:
    """Exactly `target` kept events of the month, newest first as the fetch stores them."""
    count = int(target / KEPT_SHARE) + 100
    users = spec.users if spec.shape == "real" else min(spec.users, GENERATED_USERS)
    while True:
        generated = generate_events(
            spec.seed * 1000 + index,
            month.start_ms(UTC),
            month.end_ms(UTC),
            count,
            users=users,
        )
        kept = [event for event in generated if is_kept(event)]
        if len(kept) >= target:
            break
        count = count * 5 // 4
    # Thinned evenly to the exact size, keeping the month's time profile.
    kept = [kept[i * len(kept) // target] for i in range(target)]
    if spec.shape == "real":
        _real_shaped(kept, Random(spec.seed * 1000 + index))
    elif spec.shape == "distinct":
        for number, event in enumerate(kept):
            event["userEmail"] = f"person.{number:07d}@example.com"
    elif spec.users > GENERATED_USERS or spec.models > len(MODELS):
        _spread(kept, spec.users, spec.models)
    kept.reverse()
    return kept


def _real_shaped(events: list[dict[str, Any]], rng: Random) -> None:
    """Every money field present, as the real API sends it: a decimal with 2 to 4 places
    (as exact text, so the JSON holds exactly that many), and every token bucket."""
    for event in events:
        usage = event.setdefault("tokenUsage", {"inputTokens": 0, "outputTokens": 0})
        for bucket in ("cacheWriteTokens", "cacheReadTokens"):
            usage.setdefault(bucket, 0)
        places = 2 + int(rng.random() * 3)
        usage["totalCents"] = _places(usage.get("totalCents", 0), places)
        event["cursorTokenFee"] = _places(event.get("cursorTokenFee", 0), places)
        event["chargedCents"] = _places(event.get("chargedCents", 0), places)


def _places(value: float, places: int) -> Decimal:
    """The value rounded to `places` decimals, as an exact decimal with that many digits."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places))


def _spread(events: list[dict], users: int, models: int) -> None:
    """Make every one of `users` users and `models` models show up in the month: every other
    event goes to the next team member in turn (the rest keep the generator's heavy users), and
    every third to one of the extra models (priced as the model it was generated for)."""
    heavy: dict[str, int] = {}
    extra = [f"vendor-model-{n:02d}" for n in range(max(0, models - len(MODELS)))]
    for index, event in enumerate(events):
        if index % 2:
            number = (index // 2) % users
        else:
            number = heavy.setdefault(event["userEmail"], len(heavy) % users)
        event["userEmail"] = f"engineer.{number:04d}@example.com"
        if extra and index % 3 == 0:
            event["model"] = extra[(index // 3) % len(extra)]


def month_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / CACHE_SUBDIR).glob("*-usage-based-data.json"))
