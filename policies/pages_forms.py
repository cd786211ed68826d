"""Reading the access forms: plain HTML form values into the API's strict input models, with messages a person
can act on (translated), so a bad form is shown again with what to fix and nothing is written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from ndx import i18n
from ndx.errors import Invalid
from policies.rules_model import DatasetRule

MAX_FILTER_VALUES = 100


class FormError(Exception):
    """One or more problems with a submitted form, as messages already in the page's language."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def tr(lang: str, message: str) -> str:
    return i18n.gettext(lang, message)


def parse_days(raw: str, *, lang: str, maximum: int, required: bool = True) -> int | None:
    """A number of days typed in a form, 1..``maximum``."""
    raw = raw.strip()
    if not raw:
        if required:
            raise FormError([tr(lang, "Duration: enter a number of days.")])
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise FormError([tr(lang, "Duration: a whole number of days from 1 to %(max)s.") % {"max": maximum}])
    return int(raw)


def parse_row_filter(
    rule: DatasetRule, columns: Sequence[str], values: Sequence[str], *, lang: str
) -> dict[str, list[str]]:
    """The row filter of a form: one text box per declared filter column, values separated by commas.

    Empty boxes add nothing. The column names come back from hidden inputs, so an unknown one is refused here
    with the same message the API gives.
    """
    if len(columns) != len(values):
        raise FormError([tr(lang, "Row filter: the form is incomplete; reload the page.")])
    out: dict[str, list[str]] = {}
    for column, raw in zip(columns, values, strict=True):
        items = sorted({v.strip() for v in raw.split(",") if v.strip()})
        if not items:
            continue
        if column not in rule.filter_columns:
            raise FormError([f"row_filter: cannot filter on {column}"])
        if len(items) > MAX_FILTER_VALUES or any(len(v) > 100 for v in items):
            raise FormError(
                [tr(lang, "Row filter on %(column)s: at most 100 values of 100 characters.") % {"column": column}]
            )
        out[column] = items
    return out


def validation_messages(exc: ValidationError) -> list[str]:
    """Pydantic's errors as 'field: message' lines."""
    return [f"{'.'.join(str(p) for p in err['loc']) or 'form'}: {err['msg']}" for err in exc.errors()]


def error_messages(exc: Exception) -> list[str]:
    if isinstance(exc, FormError):
        return exc.messages
    if isinstance(exc, ValidationError):
        return validation_messages(exc)
    if isinstance(exc, Invalid) and isinstance(exc.details, dict) and exc.details.get("fields"):
        return [exc.message]
    return [str(getattr(exc, "message", exc))]


def filter_text(row_filter: dict[str, Any] | None) -> str:
    """``province_code: 79, 01; sex: F`` (empty when there is no filter)."""
    return "; ".join(f"{col}: {', '.join(str(v) for v in vals)}" for col, vals in sorted((row_filter or {}).items()))
