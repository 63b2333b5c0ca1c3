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


def dumps(document: Any) -> bytes:
    """Indented JSON as UTF-8 bytes, ready to write: `Decimal`s as plain JSON numbers, digit
    for digit. Bytes, not text: a document for a million users is hundreds of megabytes, and
    each copy to `str` and back costs its size again in memory."""
    return msgspec.json.format(_ENCODER.encode(document), indent=2)
