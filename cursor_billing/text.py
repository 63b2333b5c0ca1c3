"""Text from the API or the cache made safe for a terminal (SPEC §14): control characters,
bidirectional overrides and zero-width characters are shown escaped, never sent raw."""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls; the bidirectional marks, embeddings, overrides and isolates;
# zero-width spaces and joiners; the byte order mark. Each could rewrite what the terminal
# shows (clear the screen, set the title, hide a link, reverse a line).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def printable(text: str) -> str:
    """`text` with every unsafe character written as `\\x..` or `\\u....` (ESC → `\\x1b`)."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
