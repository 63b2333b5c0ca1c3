"""JSON for scripts and for stored events: money stays an exact decimal number, never a float
approximation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def encode(document: Any) -> bytes:
    """Compact JSON; `Decimal`s as plain JSON numbers (how stored events keep their digits)."""
    return _ENCODER.encode(document)


def exact_decoder(shape: Any) -> msgspec.json.Decoder[Any]:
    """A decoder that reads untyped JSON numbers with a fraction or exponent as `Decimal`:
    `20.18232`, `1e30` or 25 digits come back digit for digit, `1e999` is not infinity."""
    return msgspec.json.Decoder(shape, float_hook=Decimal)


def dumps(document: Any) -> str:
    """Indented JSON text; `Decimal`s are written as plain JSON numbers, digit for digit."""
    return msgspec.json.format(_ENCODER.encode(document), indent=2).decode()
