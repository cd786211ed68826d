"""How the same name gets written differently: the spellings that injected defects and hard negatives use.

Two kinds, kept apart with ``ndx.textnorm.same_name``: *harmless* variants (upper case, decomposed
Unicode, a doubled space, the other tone-mark placement 'Hòa'/'Hoà') are the same name and must never be
reported as an identity_mismatch; *real* variants (no diacritics, another tone, a dropped middle name, a
typo, another given name) are different spellings, which duplicate and mismatch defects use.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from ndx.textnorm import TONE_MARKS, same_name

_SHAPE_MARKS = frozenset("\u0302\u0306\u031b")  # circumflex, breve, horn: part of the vowel
_TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
_VOWELS = frozenset("aeiouyAEIOUY")
_NEIGHBOURS = {
    "a": "s",
    "s": "a",
    "n": "m",
    "m": "n",
    "h": "g",
    "g": "h",
    "t": "r",
    "r": "t",
    "i": "o",
    "o": "i",
    "u": "y",
    "y": "u",
    "e": "r",
    "l": "k",
    "k": "l",
    "c": "v",
    "d": "f",
    "b": "v",
}


def strip_marks(name: str) -> str:
    """'Nguyễn Văn Hùng' -> 'Nguyen Van Hung' (case kept; 'Đ' -> 'D')."""
    decomposed = unicodedata.normalize("NFD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("Đ", "D").replace("đ", "d")


def nfd(name: str) -> str:
    return unicodedata.normalize("NFD", name)


def _syllable_parts(word: str) -> tuple[list[str], str, int]:
    """The NFD characters without the tone, the tone ('' if none), and where the tone sat (-1 if none)."""
    chars = list(unicodedata.normalize("NFD", word))
    tone, at = "", -1
    for i, ch in enumerate(chars):
        if ch in TONE_MARKS:
            tone, at = ch, i
    if at >= 0:
        del chars[at]
    return chars, tone, at


def _nfc(chars: list[str]) -> str:
    return unicodedata.normalize("NFC", "".join(chars))


def move_tone(name: str) -> str | None:
    """The other placement of the tone in an open 'oa', 'oe', 'uy' syllable: 'Hòa' <-> 'Hoà', 'Thủy' <-> 'Thuỷ'."""
    words = name.split(" ")
    for w, word in enumerate(words):
        chars, tone, _ = _syllable_parts(word)
        letters = "".join(ch for ch in chars if not unicodedata.combining(ch)).lower()
        if not tone or letters[-2:] not in ("oa", "oe", "uy") or letters.startswith("qu"):
            continue
        bases = [i for i, ch in enumerate(chars) if not unicodedata.combining(ch)]
        first, last = bases[-2], bases[-1]
        _, _, at = _syllable_parts(word)
        target = last if at <= first + 1 else first
        chars.insert(target + 1, tone)
        moved = _nfc(chars)
        if moved != unicodedata.normalize("NFC", word):
            words[w] = moved
            return " ".join(words)
    return None


def harmless(name: str, rng: np.random.Generator) -> str:
    """A spelling that is still the same name: tone placement, upper case, NFD or a doubled space."""
    moved = move_tone(name)
    options = [v for v in (name.upper(), nfd(name), name.replace(" ", "  ", 1), moved) if v and v != name]
    variant = options[int(rng.integers(len(options)))]
    assert same_name(variant, name)
    return variant


def change_tone(name: str, rng: np.random.Generator) -> str:
    """One syllable (the given name most often) with another tone mark: 'Hùng' -> 'Húng'."""
    words = name.split(" ")
    w = len(words) - 1 if rng.random() < 0.7 else int(rng.integers(len(words)))
    chars, tone, at = _syllable_parts(words[w])
    choices = [t for t in _TONES if t != tone]
    new = choices[int(rng.integers(len(choices)))]
    if new:
        if at < 0:
            marked = [i for i, ch in enumerate(chars) if ch in _SHAPE_MARKS]
            vowels = [i for i, ch in enumerate(chars) if ch in _VOWELS]
            at = marked[-1] + 1 if marked else (vowels[0] + 1 if vowels else len(chars))
        chars.insert(at, new)
    words[w] = _nfc(chars)
    return " ".join(words)


def drop_middle(name: str, rng: np.random.Generator) -> str | None:
    """'Nguyễn Thị Thu Hà' -> 'Nguyễn Thu Hà'; None for a two-word name."""
    words = name.split(" ")
    if len(words) < 3:
        return None
    del words[1 + int(rng.integers(len(words) - 2))]
    return " ".join(words)


def typo(name: str, rng: np.random.Generator) -> str:
    """A keying slip in one word: two letters swapped, one dropped, doubled or replaced by a neighbour."""
    words = name.split(" ")
    for _ in range(20):
        w = len(words) - 1 if rng.random() < 0.6 else int(rng.integers(len(words)))
        word = list(words[w])
        i = int(rng.integers(len(word)))
        kind = int(rng.integers(4))
        if kind == 0 and i + 1 < len(word) and word[i] != word[i + 1]:
            word[i], word[i + 1] = word[i + 1], word[i]
        elif kind == 1 and len(word) >= 3:
            del word[i]
        elif kind == 2:
            word.insert(i + 1, word[i].lower())
        elif kind == 3 and word[i].lower() in _NEIGHBOURS:
            swap = _NEIGHBOURS[word[i].lower()]
            word[i] = swap.upper() if word[i].isupper() else swap
        else:
            continue
        candidate = " ".join([*words[:w], "".join(word), *words[w + 1 :]])
        if not same_name(candidate, name):
            return candidate
    return name + "h"


def differs(variant: str | None, name: str) -> bool:
    """Is this a real difference (a different spelling), not just another way to write the same name?"""
    return variant is not None and not same_name(variant, name)
