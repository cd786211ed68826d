"""Small-cell suppression of a two-way table of counts published with its margins.

A published count below ``k`` (but not zero) could single out a few people or firms, so it is suppressed
(primary suppression). Since the row and column totals are published too, a lone suppressed cell in a row
could be recovered by subtraction; so could a group of suppressed cells whose sum is below ``k`` give away an
upper bound below ``k``. Secondary suppression therefore hides more cells until, in every line (each row, each
column, and the line of row totals and the line of column totals, each with its total), the suppressed entries
are none, or at least two whose sum is at least ``k``. Complements are the smallest non-zero cells of the line
(so little is lost); when a line has no cell left, its total is suppressed instead, which is then protected in
its own line the same way. Pure: no I/O, tested on its own and over every published file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TOTAL = "TOTAL"
Key = Any  # a row or column key (a string, or a tuple of strings), or TOTAL
Entry = tuple[Key, Key]


@dataclass
class Table:
    """Counts by (row, column), with every row and column key listed (missing cells are zero)."""

    rows: list[Key]
    cols: list[Key]
    cells: dict[Entry, int]
    hidden: set[Entry] = field(default_factory=set)

    def value(self, r: Key, c: Key) -> int:
        """A cell, a row total (``c == TOTAL``), a column total (``r == TOTAL``) or the grand total."""
        if r == TOTAL and c == TOTAL:
            return sum(self.cells.values())
        if c == TOTAL:
            return sum(self.cells.get((r, x), 0) for x in self.cols)
        if r == TOTAL:
            return sum(self.cells.get((x, c), 0) for x in self.rows)
        return self.cells.get((r, c), 0)

    def lines(self) -> list[tuple[list[Entry], Entry]]:
        """Each additive relation of the published table: (its parts, its total)."""
        out: list[tuple[list[Entry], Entry]] = []
        for r in self.rows:
            out.append(([(r, c) for c in self.cols], (r, TOTAL)))
        for c in self.cols:
            out.append(([(r, c) for r in self.rows], (TOTAL, c)))
        out.append(([(r, TOTAL) for r in self.rows], (TOTAL, TOTAL)))
        out.append(([(TOTAL, c) for c in self.cols], (TOTAL, TOTAL)))
        return out

    def published(self, r: Key, c: Key) -> int | None:
        """What the file shows for an entry: its count, or None when suppressed."""
        return None if (r, c) in self.hidden else self.value(r, c)


def make_table(rows: Iterable[Key], cols: Iterable[Key], counts: Mapping[Entry, int]) -> Table:
    return Table(rows=sorted(set(rows), key=str), cols=sorted(set(cols), key=str), cells=dict(counts))


def _line_unsafe(table: Table, parts: list[Entry], total: Entry, k: int) -> bool:
    hidden = [p for p in parts if p in table.hidden]
    if total in table.hidden:
        hidden_all = len(hidden) + 1
        return hidden_all == 1  # only the total: it is the sum of the published parts
    if not hidden:
        return False
    hidden_sum = sum(table.value(*p) for p in hidden)
    return len(hidden) == 1 or 0 < hidden_sum < k


def _complement(table: Table, parts: list[Entry], total: Entry) -> Entry:
    """The entry to hide next in an unsafe line: its smallest non-zero published part, else its total."""
    candidates = [p for p in parts if p not in table.hidden]
    nonzero = [p for p in candidates if table.value(*p) > 0]
    pool = nonzero or candidates
    if pool:
        return min(pool, key=lambda p: (table.value(*p), str(p)))
    return total


def suppress(table: Table, k: int) -> Table:
    """Hide, in place, every entry (cell or total) below ``k`` but above zero, then enough others that nothing
    hidden can be recovered from a line of the table, nor bounded below ``k``. Returns the table."""
    if k < 2:
        return table
    entries: list[Entry] = [(r, c) for r in table.rows for c in table.cols]
    entries += [(r, TOTAL) for r in table.rows] + [(TOTAL, c) for c in table.cols] + [(TOTAL, TOTAL)]
    table.hidden |= {e for e in entries if 0 < table.value(*e) < k}
    lines = table.lines()
    changed = True
    while changed:
        changed = False
        for parts, total in lines:
            while _line_unsafe(table, parts, total, k):
                if total in table.hidden and all(p in table.hidden for p in parts):
                    break
                table.hidden.add(_complement(table, parts, total))
                changed = True
    return table
