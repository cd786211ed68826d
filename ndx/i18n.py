"""Languages of the pages: Vietnamese (default) and English, with gettext catalogs compiled at start.

Messages are written in English in the code and templates (``_("Datasets")``) and translated from
``ndx/locale/<lang>/LC_MESSAGES/messages.po``, compiled in memory when first needed, so no build step is
needed and the ``.po`` files are the only source. ``?lang=vi|en`` chooses the language and a cookie
remembers the choice; without either, pages are in Vietnamese.
"""

from __future__ import annotations

import gettext as gettext_module
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import Response

LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
COOKIE = "ndx_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
_VIETNAM = get_timezone("Asia/Ho_Chi_Minh")


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark for extraction, translate later")
    """Mark a message for extraction without translating it here."""
    return message


@cache
def translations(lang: str) -> gettext_module.NullTranslations:
    """The compiled catalog of ``lang``; messages without a translation stay in English."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang not in LANGUAGES or not po.exists():
        return gettext_module.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    return translations(lang).ngettext(singular, plural, n)


def pgettext(lang: str, context: str, message: str) -> str:
    """``message`` in the sense ``context`` gives it: "Open" is "Mở" for data, "Chưa xử lý" for a finding."""
    return translations(lang).pgettext(context, message)


def normalize(lang: str | None) -> str | None:
    """``lang`` if it is a language NDX speaks ('EN', 'en-US' count as 'en'), else None."""
    if not lang:
        return None
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def request_language(request: Request) -> str:
    """The page language: ``?lang=`` first, then the cookie, then Vietnamese."""
    return normalize(request.query_params.get("lang")) or normalize(request.cookies.get(COOKIE)) or DEFAULT_LANGUAGE


def remember_language(request: Request, response: Response) -> None:
    """Set the language cookie when the request chose a language with ``?lang=``."""
    chosen = normalize(request.query_params.get("lang"))
    if chosen and chosen != request.cookies.get(COOKIE):
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, httponly=True, samesite="lax")


def format_number(value: float | None, lang: str) -> str:
    """1234567 as '1.234.567' in Vietnamese, '1,234,567' in English."""
    return "" if value is None else format_decimal(value, locale=lang)


def format_day(value: datetime | None, lang: str) -> str:
    return "" if value is None else format_date(value, _DAY.get(lang, _DAY["vi"]), locale=lang)


_MOMENT = {"vi": "HH:mm, dd/MM/yyyy", "en": "d MMM yyyy, HH:mm"}
_DAY = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}


def format_moment(value: datetime | None, lang: str) -> str:
    """A moment in Viet Nam's time: '17:51, 01/12/2026' or '1 Dec 2026, 17:51'."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return format_datetime(value, _MOMENT.get(lang, _MOMENT["vi"]), tzinfo=_VIETNAM, locale=lang)


def _lang_of(ctx: Context) -> str:
    lang = ctx.get("lang")
    if isinstance(lang, str) and lang in LANGUAGES:
        return lang
    request = ctx.get("request")
    return request_language(request) if isinstance(request, Request) else DEFAULT_LANGUAGE


@pass_context
def _ctx_gettext(ctx: Context, message: str) -> str:
    return gettext(_lang_of(ctx), message)


@pass_context
def _ctx_ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    return ngettext(_lang_of(ctx), singular, plural, n)


@pass_context
def _ctx_pgettext(ctx: Context, context: str, message: str) -> str:
    return pgettext(_lang_of(ctx), context, message)


@pass_context
def _ctx_number(ctx: Context, value: float | None) -> str:
    return format_number(value, _lang_of(ctx))


@pass_context
def _ctx_day(ctx: Context, value: datetime | None) -> str:
    return format_day(value, _lang_of(ctx))


@pass_context
def _ctx_moment(ctx: Context, value: datetime | None) -> str:
    return format_moment(value, _lang_of(ctx))


def lang_url(request: Request, code: str) -> str:
    """The current page's path and query with ``lang`` set to ``code``: the language switch's link."""
    return f"{request.url.path}?{request.url.include_query_params(lang=code).query}"


@pass_context
def _ctx_lang(ctx: Context) -> str:
    return _lang_of(ctx)


def install(env: Environment) -> None:
    """Give templates ``_()``/``gettext``/``ngettext``/``pgettext`` and ``{% trans %}`` in the language of each render.

    The language is the template variable ``lang`` when set, else the one the ``request`` asks for. Also adds
    the filters ``number``, ``day`` and ``moment`` that format in that language.
    """
    env.add_extension("jinja2.ext.i18n")
    install_callables: Any = env.install_gettext_callables  # type: ignore[attr-defined]
    install_callables(gettext=_ctx_gettext, ngettext=_ctx_ngettext, pgettext=_ctx_pgettext, newstyle=True)
    env.filters["number"] = _ctx_number
    env.filters["day"] = _ctx_day
    env.filters["moment"] = _ctx_moment
    env.globals["languages"] = LANGUAGES
    env.globals["lang_url"] = lang_url
    env.globals["current_lang"] = _ctx_lang
