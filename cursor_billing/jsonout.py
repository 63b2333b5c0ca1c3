"""JSON for scripts and for stored events: money stays an exact decimal number, never a float
approximation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_CHUNK = 2048  # entries of a long list encoded and indented at a time


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


class Rows(msgspec.Struct, frozen=True):
    """A JSON array made entry by entry as it is written: `entry` of each item, in order."""

    items: Iterable[Any]
    entry: Callable[[Any], Any]
    nested: bool = False  # True when the entries hold `Rows` themselves


def materialized(value: Any) -> Any:
    """`value` with every `Rows` in it (at any depth of dicts and lists) made a list."""
    if isinstance(value, Rows):
        return [materialized(value.entry(item)) for item in value.items]
    if isinstance(value, dict):
        return {key: materialized(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [materialized(inner) for inner in value]
    return value


def dump_chunks(document: Any) -> Iterator[bytes]:
    """The bytes of `dumps(materialized(document))`, in pieces, with no more than a chunk of
    each `Rows` made at a time: a document for a million users is never all in memory, neither
    as dicts nor as text."""
    yield from _chunks(document, 0)


def _chunks(value: Any, level: int) -> Iterator[bytes]:
    if isinstance(value, Rows):
        yield from _array_chunks(value, level)
    elif isinstance(value, dict) and value and _streamed(value):
        inner = b"\n" + b"  " * (level + 1)
        first = True
        for key, item in value.items():
            yield (b"{" if first else b",") + inner + _ENCODER.encode(key) + b": "
            first = False
            yield from _chunks(item, level + 1)
        yield b"\n" + b"  " * level + b"}"
    elif isinstance(value, list) and _streamed(value):
        yield from _array_chunks(Rows(value, _same, nested=True), level)
    else:
        yield _indented(dumps(value), level)


def _array_chunks(rows: Rows, level: int) -> Iterator[bytes]:
    """An array at `level`, its entries at `level + 1`: a chunk of them at a time, or (when
    they hold `Rows` themselves) one by one."""
    entries = map(rows.entry, rows.items)
    if rows.nested:
        opened = False
        for entry in entries:
            yield (b"," if opened else b"[") + b"\n" + b"  " * (level + 1)
            opened = True
            yield from _chunks(entry, level + 1)
    else:
        opened = False
        while chunk := list(islice(entries, _CHUNK)):
            text = dumps(chunk)  # b"[\n  …,\n  …\n]"
            yield (b"," if opened else b"[") + _indented(text[1:-2], level)
            opened = True
    yield b"\n" + b"  " * level + b"]" if opened else b"[]"


def _indented(text: bytes, level: int) -> bytes:
    """Formatted JSON moved `level` steps right (a raw newline is never inside a string)."""
    return text.replace(b"\n", b"\n" + b"  " * level) if level else text


def _streamed(value: Any) -> bool:
    if isinstance(value, Rows):
        return True
    if isinstance(value, dict):
        return any(map(_streamed, value.values()))
    if isinstance(value, list):
        return any(map(_streamed, value))
    return False


def _same(value: Any) -> Any:
    return value
