"""`python -m cursor_billing.emulator`: serve generated data for the last few calendar months (UTC)
on loopback until Ctrl-C, to try the real client against it by hand. `cursor-billing emulator`
does the same from an installed tool."""

from __future__ import annotations

import argparse
import sys

from cursor_billing.emulator.serve import ServeOptions, build, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cursor_billing.emulator",
        description="Emulate Cursor's Admin API (usage events, spend, members, billing groups).",
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
    parser.add_argument("--request-based", action="store_true", help="a team billed per request")
    parser.add_argument("--kind-label", action="store_true", help="send kindLabel, not kind")
    parser.add_argument(
        "--no-groups", action="store_true", help="not Enterprise: /teams/groups answers 403"
    )
    parser.add_argument("--api-key", help="the key to accept (default: a new random one)")
    args = parser.parse_args(argv)
    if args.months < 1:
        parser.error("--months must be 1 or more")
    options = ServeOptions(
        host=args.host,
        port=args.port,
        seed=args.seed,
        months=args.months,
        events_per_month=args.events_per_month,
        users=args.users,
        rate_limit=args.rate_limit,
        request_based=1.0 if args.request_based else 0.0,
        kind_label=args.kind_label,
        enterprise=not args.no_groups,
        api_key=args.api_key,
    )
    try:
        emulator, description = build(options)
        serve(emulator, description, sys.stdout)
    except OSError as error:  # most often: the port is taken
        print(f"Error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # during the generation
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
