"""Running the emulator in the foreground, shared by `cursor-billing emulator` and
`python -m cursor_billing.emulator`: generate the data, listen, print how to use it, serve until
Ctrl-C."""

from __future__ import annotations

import calendar
import secrets
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

from cursor_billing.emulator.generator import generate
from cursor_billing.emulator.server import Emulator


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8787
    seed: int = 1
    months: int = 3
    events_per_month: int = 2000
    users: int = 40
    rate_limit: int = 20  # requests per minute on the usage endpoint; 0 = off
    admin_rate_limit: int = 20  # on /teams/spend, /teams/members, /teams/groups; 0 = off
    request_based: float = 0.0
    kind_label: bool = False
    enterprise: bool = True
    cycle_start_ms: int | None = None
    api_key: str | None = None


def build(options: ServeOptions, now: datetime | None = None) -> tuple[Emulator, str]:
    """The emulator (not started) and a one-line description of its data."""
    if options.months < 1:
        raise ValueError("--months must be 1 or more")
    now = now or datetime.now(timezone.utc)
    year, month = now.year, now.month - (options.months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    start_ms = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
    end_ms = int(now.timestamp() * 1000)
    data = generate(
        options.seed,
        start_ms,
        end_ms,
        options.events_per_month * options.months,
        users=options.users,
        request_based=options.request_based,
    )
    emulator = Emulator(
        data.events,
        api_key=options.api_key or f"key_emulator_{secrets.token_hex(12)}",
        rate_limit=options.rate_limit or None,
        host=options.host,
        port=options.port,
        team=data.team,
        kind_label=options.kind_label,
        enterprise=options.enterprise,
        cycle_start_ms=options.cycle_start_ms,
        admin_rate_limit=options.admin_rate_limit or None,
    )
    billing = "request-based" if options.request_based >= 1 else "token-based"
    if 0 < options.request_based < 1:
        billing = f"{options.request_based:.0%} request-based"
    description = (
        f"Serving {len(data.events):,} usage events ({billing}) from {year}-{month:02d}-01 "
        "until now (UTC)"
    )
    return emulator, description


def serve(
    emulator: Emulator,
    description: str,
    out: TextIO,
    info: TextIO | None = None,
    wait: Callable[[], None] | None = None,
) -> None:
    """Start `emulator`, print the lines that set its base URL and key to `out` (the rest to
    `info`, default `out`), serve until Ctrl-C, stop. Raises OSError when it cannot listen.
    Returns normally on Ctrl-C."""
    info = info or out
    # A shell that runs `nohup ... &` starts us with SIGINT ignored, and Python then keeps it
    # ignored: put the default handler back, or Ctrl-C (and kill -INT) would never stop us.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    emulator.start()
    with emulator:
        start, _ = emulator.cycle()
        cycle = datetime.fromtimestamp(start / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        print(f"{description} at {emulator.base_url}. Use it with:", file=info, flush=True)
        print(f"export CURSOR_API_BASE_URL={emulator.base_url}", file=out)
        print(f"export CURSOR_API_KEY={emulator.api_key}", file=out)
        out.flush()
        print(f"Billing cycle since {cycle}. Press Ctrl-C to stop.", file=info, flush=True)
        try:
            (wait or threading.Event().wait)()
        except KeyboardInterrupt:
            pass
