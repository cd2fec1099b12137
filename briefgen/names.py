"""File names as briefgen shows them: one line, nothing that can forge or hide output.

A corpus file may be called ``"empty\\nerror: forged line.txt"``, carry undecodable bytes
(``bad\\xff.txt``, read by Python as lone surrogates) or a right-to-left override that makes a
name read backwards. Every name put into a warning or a summary goes through :func:`printable`.
"""

from __future__ import annotations

import unicodedata

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Control characters, format characters (bidi overrides, zero-width), line and paragraph
# separators, surrogates (undecodable bytes of a file name), unassigned code points.
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def printable(text: str) -> str:
    """Return ``text`` with every character that is not plainly visible escaped, Python style.

    Undecodable bytes of a file name (``os.fsdecode`` surrogates) come out as ``\\xff``;
    text without such characters is returned unchanged (and escaping twice changes nothing).
    """
    if text.isprintable() and text.isascii():
        return text  # the common case, fast: printable ASCII needs nothing
    return "".join(_escape(c) for c in text)


def has_unprintable(text: str) -> bool:
    """Say whether :func:`printable` would change ``text``."""
    return printable(text) != text


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    if unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not valid UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
