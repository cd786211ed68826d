"""Dates as numpy ``datetime64[D]`` columns, and the fixed snapshot day the sources describe.

The snapshot is a constant, not today, so the same seed gives the same rows on any day; every date the
generator writes lies on or before it, except the future dates injected on purpose, which lie decades
ahead so that they stay in the future for as long as these databases are used.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

DateArray = npt.NDArray[np.datetime64]
IntArray = npt.NDArray[np.int64]

SNAPSHOT_DAY = date(2025, 12, 31)
SNAPSHOT = np.datetime64(SNAPSHOT_DAY.isoformat(), "D")
FUTURE_FROM_YEAR = 2040  # injected future dates are at least this late
NAT = np.datetime64("NaT", "D")


def ymd(days: DateArray) -> tuple[IntArray, IntArray, IntArray]:
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def from_ymd(year: IntArray, month: IntArray, day: IntArray) -> DateArray:
    """Dates from parts; a day past the month's end (29 February in a common year) becomes its last day."""
    first = ((year - 1970) * 12 + month - 1).astype("datetime64[M]").astype("datetime64[D]")
    next_first = ((year - 1970) * 12 + month).astype("datetime64[M]").astype("datetime64[D]")
    length = (next_first - first).astype(np.int64)
    result: DateArray = first + (np.minimum(day, length) - 1).astype("timedelta64[D]")
    return result


def days_between(rng: np.random.Generator, low: DateArray, high: DateArray) -> DateArray:
    """A uniform day in [low, high] for each pair (low when high < low)."""
    span = np.maximum((high - low).astype(np.int64), 0)
    result: DateArray = low + np.floor(rng.random(len(low)) * (span + 1)).astype("timedelta64[D]")
    return result


def add_years(days: DateArray, years: IntArray | int) -> DateArray:
    year, month, day = ymd(days)
    return from_ymd(year + years, month, day)


def age_years(born: DateArray, at: DateArray | np.datetime64 = SNAPSHOT) -> IntArray:
    """Completed years of age on ``at``."""
    by, bm, bd = ymd(born)
    at_arr = np.broadcast_to(np.asarray(at, dtype="datetime64[D]"), born.shape)
    ay, am, ad = ymd(at_arr)
    age: IntArray = ay - by - ((am < bm) | ((am == bm) & (ad < bd))).astype(np.int64)
    return age


def month_index(days: DateArray) -> IntArray:
    """Months since 1970-01 (a period 'YYYY-MM' as one integer)."""
    return days.astype("datetime64[M]").astype(np.int64)


def iso(days: DateArray) -> list[str | None]:
    """'YYYY-MM-DD' strings, None for NaT."""
    text = np.datetime_as_string(days, unit="D").tolist()
    if np.isnat(days).any():
        return [None if t == "NaT" else t for t in text]
    return text  # type: ignore[no-any-return]


def periods(months: IntArray) -> list[str]:
    """'YYYY-MM' strings from month indices."""
    return np.datetime_as_string(months.astype("datetime64[M]"), unit="M").tolist()  # type: ignore[no-any-return]


def future_of(days: DateArray) -> DateArray:
    """A plausible far-future typo of each date: 1985 -> 2085, 2019 -> 2091, 2012 -> 2112."""
    year, month, day = ymd(days)
    swapped = 2000 + (year % 10) * 10 + (year // 10) % 10
    future = np.where((year >= 2000) & (swapped >= FUTURE_FROM_YEAR), swapped, year + 100)
    future = np.maximum(future, FUTURE_FROM_YEAR)
    return from_ymd(future, month, day)
