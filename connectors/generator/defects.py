"""What every defect injector shares: how many records to spoil, which ones, and how to misspell a name.

Each check is injected at ``rate`` of the records eligible for it (at least one when any is eligible and
the rate is above 0), and a record gets at most one injected defect: a ``Picker`` hands each record out
once. Keeping defects apart keeps the ground truth exact: two defects on one record could make a third
(a renamed insured person who also lost his citizen_id is no longer a mismatch). At high rates the
eligible records may run out; then fewer defects are injected than asked for.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connectors.generator import dates, variants
from connectors.generator.names import GIVENS, MIDDLES, SURNAMES, other_given
from connectors.generator.people import Population

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
HARMLESS_SHARE = 0.02  # of untouched linked records: same name written differently (not a defect)


def how_many(rate: float, eligible: int) -> int:
    if rate <= 0 or eligible <= 0:
        return 0
    return min(eligible, max(1, round(rate * eligible)))


def split(rng: np.random.Generator, total: int, weights: dict[str, float]) -> dict[str, int]:
    """Share ``total`` out over the kinds of one defect, at random in proportion to ``weights``."""
    p = np.array(list(weights.values()), dtype=np.float64)
    counts = rng.multinomial(total, p / p.sum())
    return dict(zip(weights, counts.tolist(), strict=True))


class Picker:
    """Hands out each record at most once, at random among the eligible ones."""

    def __init__(self, rng: np.random.Generator, eligible: BoolArray) -> None:
        self.rng = rng
        self.free = eligible.copy()

    def take(self, count: int, where: BoolArray | None = None) -> IntArray:
        candidates = np.flatnonzero(self.free if where is None else self.free & where)
        count = min(count, len(candidates))
        chosen = np.sort(self.rng.choice(candidates, size=count, replace=False)) if count else candidates[:0]
        self.free[chosen] = False
        return chosen.astype(np.int64)

    def block(self, rows: IntArray) -> None:
        self.free[rows] = False


def misspell(pop: Population, person: int, rng: np.random.Generator) -> tuple[str, str]:
    """A really different spelling of a person's name (never only case, Unicode form or tone placement)."""
    name = pop.name(person)
    kind = ("no diacritics", "typo", "another tone", "middle name dropped", "another given name")[
        int(rng.choice(5, p=[0.35, 0.25, 0.15, 0.1, 0.15]))
    ]
    if kind == "no diacritics":
        variant: str | None = variants.strip_marks(name)
    elif kind == "typo":
        variant = variants.typo(name, rng)
    elif kind == "another tone":
        variant = variants.change_tone(name, rng)
    elif kind == "middle name dropped":
        variant = variants.drop_middle(name, rng)
    else:
        given = other_given(rng, int(pop.given[person]), int(pop.sex[person]))
        variant = f"{SURNAMES[pop.surname[person]]} {MIDDLES[pop.middle[person]]} {GIVENS[given]}"
    if not variants.differs(variant, name):
        kind, variant = "typo", variants.typo(name, rng)
    assert variant is not None and variants.differs(variant, name)
    return variant, kind


def swapped_birthday(dob: np.datetime64) -> np.datetime64 | None:
    """The date with day and month swapped, None when that is no other date (day above 12, or day = month)."""
    y, m, d = (int(v[0]) for v in dates.ymd(np.array([dob])))
    if d <= 12 and d != m:
        return np.datetime64(f"{y:04d}-{d:02d}-{m:02d}", "D")
    return None


def nearby_birthday(dob: np.datetime64, rng: np.random.Generator) -> np.datetime64:
    """A few days off, within the same year (so the citizen_id's year digits still agree)."""
    m = int(dates.ymd(np.array([dob]))[1][0])
    return dob + np.timedelta64(int(rng.integers(1, 60)) * (1 if m < 7 else -1), "D")


def other_birthday(dob: np.datetime64, rng: np.random.Generator) -> np.datetime64:
    """Day and month swapped when that makes another date, else a few days off within the same year."""
    swapped = swapped_birthday(dob)
    return nearby_birthday(dob, rng) if swapped is None else swapped
