"""Compact data tables: lists and weighted lists written as text, so sixty names stay a few lines long."""

from __future__ import annotations


def items(text: str) -> tuple[str, ...]:
    """'Lê Lợi, Trần Hưng Đạo' -> ('Lê Lợi', 'Trần Hưng Đạo')."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def weighted(text: str) -> dict[str, float]:
    """'Nguyễn 44, Thị Thu 4' -> {'Nguyễn': 44.0, 'Thị Thu': 4.0}: the weight is each item's last word."""
    table: dict[str, float] = {}
    for item in items(text):
        *words, weight = item.split()
        table[" ".join(words)] = float(weight)
    return table
