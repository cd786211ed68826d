"""The query route's token check: the caller and its organization's grants on a dataset, on every call.

The full read is one indexed select joining token, user and grants, run through a ``DirectConnection``
(compiled once, raw driver connection). Its answer is kept per token and dataset together with the value of
``access_version``, a counter that database triggers move on any insert, update or delete of a token, a
user or a grant (migration p0002), whoever makes it: the API, the pages, the command line or plain SQL.
``lookup`` reads the counter (a one-row primary-key select, under half the full read); while it has not
moved and the token has not expired, nothing the full read would return can have changed, so the kept
answer is used. A revocation, a suspension or a narrowed grant moves the counter in the same transaction,
so it takes effect on the very next call; an expiry is a comparison with the clock. The counter is read
before the full read, so a change committed between the two makes the next call read again.

The query route reads the counter once per audit batch instead of once per call (about 10 us a call when
the audit's commits keep invalidating SQLite's page cache): it takes the kept answer ``unchecked`` and hands
the counter value it was read under to the audit writer, which compares it with the current value inside
the transaction that commits the call's record (``policies.audit_writer``). A call whose answer went stale
meanwhile is neither written nor answered: the route runs it again on fresh rows. So what leaves was
allowed by the rows current when its audit record committed.

The decoded rows are also memoised by their raw values, so an unchanged grant set stays the same tuple
object across reads (``policies.decide_memo`` relies on that identity).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, select

from ndx.direct_sql import DirectConnection
from policies.auth import GRANT_COLUMNS, Caller, aware, token_hash
from policies.decide import GrantView, Role
from policies.models import AccessVersion, ApiToken, Grant, User

_USERS = cast(Table, User.__table__)
_TOKENS = cast(Table, ApiToken.__table__)
_GRANTS = cast(Table, Grant.__table__)
_VERSION_T = cast(Table, AccessVersion.__table__)

ACCESS_VERSION = select(_VERSION_T.c.n).where(_VERSION_T.c.id == 1)
_CALLER_AND_GRANTS = (
    select(
        _USERS.c.id,
        _USERS.c.email,
        _USERS.c.org_code,
        _USERS.c.role,
        _TOKENS.c.expires_at,
        *GRANT_COLUMNS,
    )
    .select_from(
        _TOKENS.join(_USERS, _TOKENS.c.user_id == _USERS.c.id).outerjoin(
            _GRANTS, and_(_GRANTS.c.org_code == _USERS.c.org_code, _GRANTS.c.dataset == bindparam("ds"))
        )
    )
    .where(
        _TOKENS.c.token_hash == bindparam("h"),
        _TOKENS.c.revoked_at.is_(None),
        _TOKENS.c.expires_at > bindparam("now"),
        _USERS.c.active.is_(True),
    )
    .order_by(_GRANTS.c.id)
)
Found = tuple[Caller, tuple[GrantView, ...]]
_MAX = 4096


class TokenLookup:
    """``lookup(platform, token, dataset=, now=)``: the caller and grants, or None for a dead token."""

    def __init__(self) -> None:
        self._decoded: dict[tuple[Any, ...], tuple[Found, datetime]] = {}
        self._kept: dict[tuple[str, str], tuple[int, datetime, Found]] = {}
        self.reads = 0  # full reads (the rest were answered after the counter check)

    def lookup(self, platform: DirectConnection, token: str, *, dataset: str, now: datetime) -> Found | None:
        """The user a live token belongs to and every grant of its organization on ``dataset`` (whatever
        their state: decide says which one is usable); None for a token that is unknown, revoked or expired,
        or whose user is deactivated."""
        return self.checked(platform, token, dataset=dataset, now=now)[0]

    def checked(
        self, platform: DirectConnection, token: str, *, dataset: str, now: datetime
    ) -> tuple[Found | None, int | None]:
        """``lookup``'s answer and the counter value it holds under (None if the counter row is missing)."""
        if len(token) > 200:
            return None, None
        digest = token_hash(token)
        version = platform.fetch_raw(ACCESS_VERSION, {})
        current = int(version[0][0]) if version else None
        kept = self._kept.get((digest, dataset))
        if kept is not None and current is not None and kept[0] == current and now < kept[1]:
            return kept[2], current
        self.reads += 1
        raw = platform.fetch_raw(_CALLER_AND_GRANTS, {"h": digest, "now": now, "ds": dataset})
        if not raw:
            return None, current
        found, expires = self._decode(platform, raw)
        if current is not None:
            if len(self._kept) >= _MAX:
                self._kept.clear()
            self._kept[(digest, dataset)] = (current, expires, found)
        return found, current

    def unchecked(self, token: str, *, dataset: str, now: datetime) -> tuple[Found, int] | None:
        """The kept answer for a live token and the counter value it was read under, without reading the
        counter: the caller must have that value compared with the current one before anything leaves
        (``AuditWriter.append(..., access_version=)`` does). None when nothing is kept or the token expired."""
        if len(token) > 200:
            return None
        kept = self._kept.get((token_hash(token), dataset))
        if kept is None or now >= kept[1]:
            return None
        return kept[2], kept[0]

    def _decode(self, platform: DirectConnection, raw: list[Any]) -> tuple[Found, datetime]:
        key: tuple[Any, ...] | None = tuple(raw)
        try:
            hit = self._decoded.get(key)  # type: ignore[arg-type]
        except TypeError:  # a driver that decodes JSON itself (psycopg) returns unhashable rows
            hit = key = None
        if hit is not None:
            return hit
        rows = platform.prepared(_CALLER_AND_GRANTS).rows(raw)
        first = rows[0]
        caller = Caller(user_id=first[0], email=first[1], org=first[2], role=cast(Role, first[3]))
        grants = tuple(
            GrantView(
                id=r[5],
                org=r[6],
                dataset=r[7],
                fields=frozenset(r[8]),
                purposes=frozenset(r[9]),
                row_filter={k: tuple(v) for k, v in (r[10] or {}).items()},
                status=r[11],
                starts_at=aware(r[12]),
                expires_at=aware(r[13]),
            )
            for r in rows
            if r[5] is not None
        )
        decoded = ((caller, grants), aware(first[4]))
        if key is not None:
            if len(self._decoded) >= _MAX:
                self._decoded.clear()
            self._decoded[key] = decoded
        return decoded
