"""JSON for scripts: money stays an exact decimal number, never a float approximation."""

from __future__ import annotations

from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def dumps(document: Any) -> str:
    """Indented JSON text; `Decimal`s are written as plain JSON numbers, digit for digit."""
    return msgspec.json.format(_ENCODER.encode(document), indent=2).decode()
