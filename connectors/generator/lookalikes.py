"""Different people who look alike (hard negatives), and keeping everyone else clearly apart.

Duplicate detection must not report twins (same date of birth and household, different given names) nor
namesakes (same full name and birth year, different dates of birth): both are made on purpose here and
never appear in the ground truth. Conversely, two different people must never share a name (compared
without diacritics) and a date of birth, even with day and month swapped: that is exactly what an
injected duplicate looks like, so ``keep_apart`` redraws given names until no such pair is left.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connectors.generator import dates
from connectors.generator.names import GIVEN_FOLD, GIVENS, MIDDLE_FOLD, MIDDLES, SURNAME_FOLD, SURNAMES, draw_givens
from ndx.textnorm import fold

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]
TWIN_SHARE = 0.05  # of households with two children in a row
NAMESAKE_SHARE = 0.002  # of people
_CHILD = 2


def make_twins(rng: np.random.Generator, role: IntArray, household: IntArray, dob: DateArray) -> BoolArray:
    """Give some pairs of siblings one date of birth; returns who is a twin."""
    n = len(role)
    candidate = np.zeros(n, dtype=bool)
    candidate[1:] = (role[1:] == _CHILD) & (role[:-1] == _CHILD) & (household[1:] == household[:-1])
    chosen = candidate & (rng.random(n) < TWIN_SHARE)
    chosen[1:] &= ~chosen[:-1]  # pairs, not triplets
    second = np.flatnonzero(chosen)
    dob[second] = dob[second - 1]
    twin = np.zeros(n, dtype=bool)
    twin[second] = True
    twin[second - 1] = True
    return twin


def make_namesakes(
    rng: np.random.Generator,
    surname: IntArray,
    middle: IntArray,
    given: IntArray,
    sex: IntArray,
    household: IntArray,
    dob: DateArray,
    *,
    exclude: BoolArray,
) -> BoolArray:
    """Copy the middle and given name of someone of the same surname, sex and birth year onto a few people."""
    year = dates.ymd(dob)[0]
    order = np.lexsort((dob, year, sex, surname))
    prev, this = order[:-1], order[1:]
    ok = (
        (surname[prev] == surname[this])
        & (sex[prev] == sex[this])
        & (year[prev] == year[this])
        & (dob[prev] != dob[this])
        & (household[prev] != household[this])
        & ~exclude[prev]
        & ~exclude[this]
    )
    pairs = np.flatnonzero(ok)
    want = min(len(pairs), max(2, round(NAMESAKE_SHARE * len(surname))))
    chosen = rng.choice(pairs, size=want, replace=False) if want else pairs[:0]
    chosen = np.sort(chosen)
    chosen = chosen[np.concatenate([[True], np.diff(chosen) > 1])] if len(chosen) else chosen
    middle[this[chosen]] = middle[prev[chosen]]
    given[this[chosen]] = given[prev[chosen]]
    mark = np.zeros(len(surname), dtype=bool)
    mark[this[chosen]] = True
    mark[prev[chosen]] = True
    return mark


def name_dob_key(surname: IntArray, middle: IntArray, given: IntArray, dob: DateArray) -> IntArray:
    """Equal for two people whose names fold alike and whose dates of birth match, day and month swapped or not."""
    year, month, day = dates.ymd(dob)
    pair = np.minimum(month, day) * 32 + np.maximum(month, day)
    name = (SURNAME_FOLD[surname] * 1000 + MIDDLE_FOLD[middle]) * 1000 + GIVEN_FOLD[given]
    key: IntArray = (name * 400 + (year - 1800)) * 1100 + pair
    return key


def keep_apart(
    rng: np.random.Generator,
    surname: IntArray,
    middle: IntArray,
    given: IntArray,
    sex: IntArray,
    group: IntArray,
    dob: DateArray,
) -> None:
    """Redraw given names until no two people share a name (folded) and a date of birth (swapped or not)."""
    for _ in range(100):
        key = name_dob_key(surname, middle, given, dob)
        _, first = np.unique(key, return_index=True)
        clash = np.ones(len(key), dtype=bool)
        clash[first] = False
        if not clash.any():
            return
        given[clash] = draw_givens(rng, sex[clash], group[clash])
    raise RuntimeError("could not keep people's names and dates of birth apart")


def _fold_index(words: tuple[str, ...], ids: IntArray) -> dict[str, int]:
    return {fold(w): int(i) for w, i in zip(words, ids.tolist(), strict=True)}


class Lookalikes:
    """Guards a misspelling or a changed birthday from making one generated person look like another.

    Knows the name_dob_key of every real person; a free-text spelling is keyed the same way when its words
    are words the generator uses. Spellings it accepted are remembered too, so two people misspelt alike
    ('Nguyễn Thị Huyền' and 'Nguyễn Gia Huyền' both losing their middle name) cannot meet either.
    """

    def __init__(self, surname: IntArray, middle: IntArray, given: IntArray, dob: DateArray, real: BoolArray):
        self._own = name_dob_key(surname, middle, given, dob)
        self._keys = np.sort(self._own[real])
        self._surname = _fold_index(SURNAMES, SURNAME_FOLD)
        self._middle = _fold_index(MIDDLES, MIDDLE_FOLD)
        self._given = _fold_index(GIVENS, GIVEN_FOLD)
        self._accepted: dict[tuple[str, int, int, int], int] = {}

    def key(self, name: str, dob: np.datetime64) -> int | None:
        words = fold(name).split(" ")
        if len(words) < 3:
            return None
        s, m = self._surname.get(words[0]), self._middle.get(" ".join(words[1:-1]))
        g = self._given.get(words[-1])
        if s is None or m is None or g is None:
            return None
        year, month, day = (int(v[0]) for v in dates.ymd(np.array([dob])))
        return ((((s * 1000 + m) * 1000 + g) * 400 + (year - 1800)) * 1100) + min(month, day) * 32 + max(month, day)

    def accept(self, name: str, dob: np.datetime64, person: int) -> bool:
        """May ``person`` be written as ``name``, born ``dob``? Only if that looks like nobody else."""
        key = self.key(name, dob)
        if key is not None and key != int(self._own[person]):
            at = int(np.searchsorted(self._keys, key))
            if at < len(self._keys) and int(self._keys[at]) == key:
                return False
        year, month, day = (int(v[0]) for v in dates.ymd(np.array([dob])))
        spelling = (fold(name), year, min(month, day), max(month, day))
        return self._accepted.setdefault(spelling, person) == person
