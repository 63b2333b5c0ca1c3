"""`--anonymize` (SPEC §14): every e-mail becomes `user-` + 10 hex digits of HMAC-SHA256 over
the lower-cased e-mail, keyed by a random secret kept beside the cache. The same person gets the
same pseudonym in every report from that cache; without the key file nobody can reverse it, and
deleting it gives everyone new pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from pathlib import Path

from cursor_billing.errors import CacheError

KEY_FILE = ".anonymize-key"
KEY_BYTES = 32
PREFIX = "user-"
HEX_DIGITS = 10

Pseudonym = Callable[[str], str]  # e-mail → pseudonym


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def anonymize_key(data_dir: Path) -> bytes:
    """The secret of `<data_dir>/.anonymize-key`, created (0600) on first use."""
    from cursor_billing.cache import write_private

    path = key_path(data_dir)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = secrets.token_bytes(KEY_BYTES)
        write_private(path, key.hex().encode("ascii") + b"\n")
        return key
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not text"
        raise CacheError(
            f"cannot read the anonymization key {path} ({reason})",
            hint="delete it to start over with new pseudonyms",
        ) from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise CacheError(
            f"{path} does not hold an anonymization key",
            hint="delete it to start over with new pseudonyms",
        )
    return key


def pseudonym(key: bytes, email: str) -> str:
    digest = hmac.new(key, email.lower().encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_DIGITS]


def pseudonyms(data_dir: Path) -> Pseudonym:
    """The pseudonym of each e-mail under this data folder's key (memoised: the ledger asks once
    per row)."""
    key = anonymize_key(data_dir)
    known: dict[str, str] = {}

    def of(email: str) -> str:
        name = known.get(email)
        if name is None:
            name = known[email] = pseudonym(key, email)
        return name

    return of
