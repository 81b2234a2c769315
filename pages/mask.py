"""Person and account keys are never shown whole in the report: a short prefix is
enough for an investigator to match a record in the source systems."""

from __future__ import annotations

import re

KEY_PREFIX_CHARS = 8
_KEY = re.compile(r"\b[0-9a-f]{64}\b")


def short_key(key: str | None) -> str:
    """A 64-hex person or account key -> its first KEY_PREFIX_CHARS characters and '…'."""
    if not key:
        return ""
    return f"{key[:KEY_PREFIX_CHARS]}…"


def mask_keys(text) -> object:
    """Any 64-hex key inside a text (a reason, an SVG label) shortened; other values
    unchanged."""
    if isinstance(text, str):
        return _KEY.sub(lambda match: short_key(match.group(0)), text)
    return text
