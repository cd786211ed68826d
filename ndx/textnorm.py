"""Vietnamese text normalisation: one place that says when two spellings are the same name.

Two spellings are the same name when they differ only in Unicode form (NFC/NFD), letter case, spacing,
or old/new tone-mark placement ('Hòa'/'Hoà', 'Thủy'/'Thuỷ'). Dropping diacritics is NOT the same name,
but ``fold`` (no marks at all, 'Đ' -> 'd') is what search and duplicate blocking compare on.
"""

from __future__ import annotations

import re
import unicodedata

# The five tone marks; the other marks (circumflex, breve, horn) shape the vowel and stay in place.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def squash_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _syllable_key(syllable: str) -> str:
    """The syllable with its tone mark moved to the end, so any placement of the mark compares equal."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [ch for ch in decomposed if ch in TONE_MARKS]
    body = "".join(ch for ch in decomposed if ch not in TONE_MARKS)
    return unicodedata.normalize("NFC", body) + "".join(tones)


def name_key(name: str) -> str:
    """Canonical form of a name: equal keys mean the same spelling (form, case, spacing, tone placement)."""
    words = squash_spaces(nfc(name).casefold()).split(" ")
    return " ".join(_syllable_key(w) for w in words)


def same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


def fold(text: str) -> str:
    """Lower case without any diacritics ('Đất đai' -> 'dat dai'): for search and for blocking."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return squash_spaces(stripped.replace("đ", "d"))
