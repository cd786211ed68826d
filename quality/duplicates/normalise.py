"""Vietnamese-aware normalisation for record linkage: pure functions, no I/O.

Names compare on two keys: ``ndx.textnorm.name_key`` (same spelling: Unicode form, case, spacing and
tone placement do not matter) and ``fold`` (no diacritics, 'Đ' -> 'd'), which is what a clerk who typed
without a Vietnamese keyboard leaves. Enterprise names also expand the abbreviations of legal forms and
trade words (CTY, TNHH, TM, DV, SX, XD, CP, DNTN ...) and split into the legal-form words and the core
name that tells one business from another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ndx.textnorm import fold, name_key, nfc, squash_spaces

_PUNCT = re.compile(r"[^\w\s]|_")

# Abbreviation (folded) -> words it stands for (folded). Applied token by token.
ABBREVIATIONS: dict[str, str] = {
    "cty": "cong ty",
    "ct": "cong ty",
    "congty": "cong ty",
    "tnhh": "trach nhiem huu han",
    "tm": "thuong mai",
    "dv": "dich vu",
    "sx": "san xuat",
    "xd": "xay dung",
    "cp": "co phan",
    "dntn": "doanh nghiep tu nhan",
    "hd": "hop danh",
    "mtv": "mot thanh vien",
    "1tv": "mot thanh vien",
    "2tv": "hai thanh vien",
    "xnk": "xuat nhap khau",
    "dt": "dau tu",
    "pt": "phat trien",
    "vt": "van tai",
    "ktxd": "kinh te xay dung",
    "tmdv": "thuong mai dich vu",
    "cntt": "cong nghe thong tin",
    "cn": "cong nghe",
    "bds": "bat dong san",
    "sxtm": "san xuat thuong mai",
}

# Phrases that say what kind of business it is, not which one (folded, after expansion).
LEGAL_FORM_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.split())
    for p in (
        "cong ty",
        "trach nhiem huu han",
        "co phan",
        "doanh nghiep tu nhan",
        "hop danh",
        "hai thanh vien tro len",
        "mot thanh vien",
        "hai thanh vien",
    )
)
TRADE_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.split())
    for p in (
        "thuong mai",
        "dich vu",
        "san xuat",
        "xay dung",
        "xuat nhap khau",
        "dau tu",
        "phat trien",
        "van tai",
        "kinh te",
        "cong nghe thong tin",
        "cong nghe",
        "bat dong san",
    )
)


def _strip_phrases(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> tuple[list[str], list[str]]:
    """(words without the phrases, the phrases found in order), matching whole words, longest first."""
    ordered = sorted(phrases, key=len, reverse=True)
    kept: list[str] = []
    found: list[str] = []
    i = 0
    while i < len(words):
        for phrase in ordered:
            if tuple(words[i : i + len(phrase)]) == phrase:
                found.append(" ".join(phrase))
                i += len(phrase)
                break
        else:
            kept.append(words[i])
            i += 1
    return kept, found


def name_parts(name: str) -> tuple[str, str, str]:
    """(family, middle, given) of a folded Vietnamese name: 'Nguyễn Thị Thu Hà' -> nguyen, thi thu, ha."""
    words = fold(name).split(" ")
    if len(words) == 1:
        return "", "", words[0]
    return words[0], " ".join(words[1:-1]), words[-1]


@dataclass(frozen=True)
class PersonName:
    key: str
    folded: str
    family: str
    middle: str
    given: str
    given_key: str
    given_typed: str  # as typed, less case and Unicode form: a keying slip is one edit here
    family_middle_typed: str


def person_name(name: str) -> PersonName:
    folded = fold(name)
    family, middle, given = name_parts(name)
    key = name_key(name)
    typed = squash_spaces(nfc(name).casefold())
    head, _, last = typed.rpartition(" ")
    return PersonName(key, folded, family, middle, given, key.rsplit(" ", 1)[-1], last, head)


def expand_abbreviations(text: str) -> str:
    """Folded text with punctuation dropped and each abbreviation spelt out ('CTY TNHH TM' -> ...)."""
    words = _PUNCT.sub(" ", fold(text).replace("c.ty", "cty")).split()
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)


@dataclass(frozen=True)
class EnterpriseName:
    full: str  # folded, abbreviations expanded
    core: str  # without legal-form and trade words: what tells one business from another
    trade: str  # the trade words, in order


def enterprise_name(name: str) -> EnterpriseName:
    full = expand_abbreviations(name)
    words, _ = _strip_phrases(full.split(), LEGAL_FORM_PHRASES)
    core, trade = _strip_phrases(words, TRADE_PHRASES)
    return EnterpriseName(full, " ".join(core) or full, " ".join(trade))


def address_key(address: str) -> str:
    """Folded address without punctuation, abbreviations of administrative units spelt out."""
    words = _PUNCT.sub(" ", fold(address)).split()
    units = {"p": "phuong", "q": "quan", "tp": "thanh pho", "tx": "thi xa", "h": "huyen", "x": "xa", "tt": "thi tran"}
    return " ".join(units.get(w, w) for w in words)
