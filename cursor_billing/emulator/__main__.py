"""`python -m cursor_billing.emulator`: serve generated data for the last few calendar months (UTC)
on loopback until Ctrl-C, to try the real client against it by hand."""

from __future__ import annotations

import argparse
import calendar
import secrets
import sys
import time
from datetime import datetime, timezone

from cursor_billing.emulator.generator import generate_events
from cursor_billing.emulator.server import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cursor_billing.emulator",
        description="Emulate Cursor's Admin API (POST /teams/filtered-usage-events) on loopback.",
        epilog="Example: python -m cursor_billing.emulator --port 8787 --months 3",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same data")
    parser.add_argument("--months", type=int, default=3, help="calendar months up to now")
    parser.add_argument("--events-per-month", type=int, default=2000)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument(
        "--rate-limit", type=int, default=20, help="requests per minute; 0 turns it off"
    )
    parser.add_argument("--api-key", help="the key to accept (default: a new random one)")
    args = parser.parse_args(argv)
    if args.months < 1:
        parser.error("--months must be 1 or more")

    now = datetime.now(timezone.utc)
    year, month = now.year, now.month - (args.months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    start_ms = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
    end_ms = int(now.timestamp() * 1000)
    events = generate_events(
        args.seed, start_ms, end_ms, args.events_per_month * args.months, users=args.users
    )
    api_key = args.api_key or f"key_emulator_{secrets.token_hex(12)}"
    emulator = Emulator(
        events,
        api_key=api_key,
        rate_limit=args.rate_limit or None,
        host=args.host,
        port=args.port,
    )
    try:
        emulator.start()
    except OSError as error:  # most often: the port is taken
        print(f"Error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    with emulator:
        print(
            f"Serving {len(events):,} usage events from {year}-{month:02d}-01 until now (UTC)",
            f"at {emulator.base_url}. Use it with:",
        )
        print(f"export CURSOR_API_BASE_URL={emulator.base_url}")
        print(f"export CURSOR_API_KEY={api_key}")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
