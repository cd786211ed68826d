from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ndx import i18n

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _messages(folder: str) -> set[str]:
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(ROOT / folder, METHODS, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("folder", ["catalog", "ndx"])
def test_every_message_of_the_pages_has_a_vietnamese_translation(folder: str) -> None:
    messages = _messages(folder)
    assert "Request access" in messages or folder == "ndx"
    with (i18n.LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        vi = read_po(fh, locale="vi")
    untranslated = sorted(m for m in messages if m and (m not in vi or not vi[m].string))
    assert untranslated == []


def test_language_negotiation_and_formats() -> None:
    assert i18n.normalize("EN-us") == "en"
    assert i18n.normalize("fr") is None
    assert i18n.gettext("vi", "Datasets") == "Bộ dữ liệu"
    assert i18n.gettext("en", "Datasets") == "Datasets"
    assert i18n.ngettext("vi", "%(num)s dataset found", "%(num)s datasets found", 3) == "Tìm thấy %(num)s bộ dữ liệu"
    assert i18n.format_number(1234567, "vi") == "1.234.567"
    assert i18n.format_number(1234567, "en") == "1,234,567"
