"""Delivered text shown safely: control characters written out as `\\xNN`, the way
fraud/records.py shows bytes that the declared encoding cannot decode."""

from __future__ import annotations

import re

from fraud.contract import CONTROL_CHARACTERS

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: everything a
# terminal, a log reader or str.splitlines may take for the end of a line.
_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROLS = re.compile(CONTROL_CHARACTERS)


def _escaped(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """`text` with every control character and line break escaped: one line, whatever a
    delivered name or path held."""
    return _BREAKING.sub(_escaped, text)


def printable(text: str) -> str:
    """`text` with its control characters escaped (tab, line feed and carriage return,
    which CSV and HTML carry as they are, stay): for a quarantine cell, which must
    keep a delivered line whole and legible, and for an HTML page, which must not hold
    control characters at all."""
    return _CONTROLS.sub(_escaped, text)
