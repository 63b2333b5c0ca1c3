"""`python -m cursor_billing` runs the same CLI as the `cursor-billing` script, and this is that
script's entry point: it imports nothing heavy before it can catch a Ctrl-C, so an interrupt while
the CLI is still loading ends quietly too (exit 130, no traceback)."""

import sys


def main() -> None:
    try:
        from cursor_billing.cli import main as run_cli

        run_cli()
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
