"""Identifiers built by the real rules of shared/SOURCES.md, a whole column at a time.

Identifiers are kept as integers (a citizen_id '079095012345' is 79095012345) and formatted with leading
zeros only when a chunk is written. An ``IdPool`` remembers every number handed out in one namespace, so
a duplicate record, a mistyped reference or a dangling reference can never hit an existing identifier by
chance: an injected unknown_reference really points at nothing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connectors.identifiers import ENTERPRISE_WEIGHTS

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class IdPool:
    """Unique random integers ``base + serial`` with serial in [low, span); every id is remembered.

    Ids live in a sorted array (searched, not rescanned) plus a small set for the one-at-a-time draws of
    defect injection, merged into the array when it grows: a million single draws stay cheap.
    """

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.int64)
        self._recent: set[int] = set()

    def __contains__(self, value: int) -> bool:
        return bool(self._taken(np.array([value], dtype=np.int64))[0])

    def reserve(self, ids: IntArray) -> None:
        if len(ids) > 4096 or len(self._recent) > 65_536:
            recent = np.fromiter(self._recent, dtype=np.int64, count=len(self._recent))
            self._sorted = np.union1d(self._sorted, np.concatenate([ids.astype(np.int64), recent]))
            self._recent.clear()
        else:
            self._recent.update(ids.tolist())

    def draw(self, rng: np.random.Generator, base: IntArray, span: int, low: int = 1) -> IntArray:
        """New ids, one per base, unique among themselves and against every id handed out before."""
        return self.claim(rng, base + rng.integers(low, span, size=len(base)), base, span, low)

    def claim(self, rng: np.random.Generator, wanted: IntArray, base: IntArray, span: int, low: int = 1) -> IntArray:
        """The wanted ids where still free; a new ``base + serial`` for each one already taken."""
        ids = wanted.astype(np.int64)
        while True:
            bad = self._clashes(ids)
            if not bad.any():
                break
            ids[bad] = base[bad] + rng.integers(low, span, size=int(bad.sum()))
        self.reserve(ids)
        return ids

    def _taken(self, ids: IntArray) -> BoolArray:
        taken = np.zeros(len(ids), dtype=bool)
        if len(self._sorted):
            at = np.minimum(np.searchsorted(self._sorted, ids), len(self._sorted) - 1)
            taken = self._sorted[at] == ids
        if self._recent:
            taken |= np.fromiter((v in self._recent for v in ids.tolist()), dtype=bool, count=len(ids))
        return taken

    def _clashes(self, ids: IntArray) -> BoolArray:
        _, first = np.unique(ids, return_index=True)
        repeated = np.ones(len(ids), dtype=bool)
        repeated[first] = False
        return self._taken(ids) | repeated


def citizen_prefix(province: IntArray, century_sex: IntArray, year: IntArray) -> IntArray:
    """The integer of '0' + province + century/sex digit + two year digits, followed by six zeros."""
    return province * 1_000_000_000 + century_sex * 100_000_000 + (year % 100) * 1_000_000


def century_sex(year: IntArray, female: IntArray) -> IntArray:
    """0/1 for men/women born 1900-1999, 2/3 for 2000-2099."""
    return ((year - 1900) // 100) * 2 + female


def check_digits(first_nine: IntArray) -> IntArray:
    """The enterprise-code check digit of each nine-digit number; -1 where the remainder is 0 (never issued)."""
    total = np.zeros(len(first_nine), dtype=np.int64)
    for position, weight in enumerate(ENTERPRISE_WEIGHTS):
        total += (first_nine // 10 ** (8 - position)) % 10 * weight
    remainder = total % 11
    return np.where(remainder == 0, -1, (10 - remainder) % 10)


def enterprise_codes(rng: np.random.Generator, pool: IdPool, province: IntArray) -> IntArray:
    """Valid ten-digit codes: province, a seven-digit sequence, the check digit; remainder-0 sequences skipped."""
    prefix = np.zeros(len(province), dtype=np.int64)
    todo = np.ones(len(province), dtype=bool)
    while todo.any():
        drawn = pool.draw(rng, province[todo] * 10_000_000, 10_000_000)
        prefix[todo] = drawn
        todo = check_digits(prefix) < 0
    return prefix * 10 + check_digits(prefix)


def unknown_citizen_id(rng: np.random.Generator, pool: IdPool, cid: int) -> str:
    """A mistyped reference: ``cid``'s province, century/sex and year digits, a serial nobody holds."""
    return f"{int(pool.draw(rng, np.array([cid - cid % 1_000_000]), 1_000_000)[0]):012d}"


def unknown_enterprise_code(rng: np.random.Generator, pool: IdPool, code: int) -> str:
    """A valid code of ``code``'s province that no business holds."""
    return f"{int(enterprise_codes(rng, pool, np.array([code // 100_000_000]))[0]):010d}"


def fmt(values: IntArray, width: int) -> list[str | None]:
    """Zero-padded strings; negative values (no identifier) become None."""
    spec = f"0{width}d"
    return [None if v < 0 else format(v, spec) for v in values.tolist()]
