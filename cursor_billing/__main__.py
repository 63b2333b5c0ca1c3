"""`python -m cursor_billing` runs the same CLI as the `cursor-billing` script."""

from cursor_billing.cli import main

main()
