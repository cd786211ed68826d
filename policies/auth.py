"""Who is calling: API tokens (random, shown once, kept as sha256), argon2 passwords, signed sessions, CSRF.

The token check runs on every API call; the query and verify APIs use ``policies.token_lookup``, which
reads the caller and its organization's grants together and checks on every call that nothing changed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Table, and_, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ndx.errors import Invalid, NotFound
from policies.decide import Actor, GrantView, Role
from policies.models import ApiToken, Grant, User, utcnow

TOKEN_PREFIX = "ndx_"  # noqa: S105  (a prefix that makes leaked tokens easy to find, not a secret)
_hasher = PasswordHasher()
_USERS = cast(Table, User.__table__)
_TOKENS = cast(Table, ApiToken.__table__)
_GRANTS = cast(Table, Grant.__table__)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise Invalid("password: at least 8 characters")
    return _hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated user, as the hot path loads it."""

    user_id: int
    email: str
    org: str
    role: Role

    def actor(self, grants: tuple[GrantView, ...] = ()) -> Actor:
        return Actor(user_id=self.user_id, org=self.org, role=self.role, grants=grants)


_TOKEN_QUERY = (
    select(_USERS.c.id, _USERS.c.email, _USERS.c.org_code, _USERS.c.role)
    .select_from(_TOKENS.join(_USERS, _TOKENS.c.user_id == _USERS.c.id))
    .where(
        _TOKENS.c.token_hash == bindparam("h"),
        _TOKENS.c.revoked_at.is_(None),
        _TOKENS.c.expires_at > bindparam("now"),
        _USERS.c.active.is_(True),
    )
)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def caller_for_token(conn: Connection, token: str, *, now: datetime) -> Caller | None:
    """The user a live token belongs to, or None (unknown, revoked, expired, or the user is deactivated)."""
    if len(token) > 200:
        return None
    row = conn.execute(_TOKEN_QUERY, {"h": token_hash(token), "now": now}).first()
    if row is None:
        return None
    return Caller(user_id=row[0], email=row[1], org=row[2], role=cast(Role, row[3]))


def caller_for_user(session: Session, user_id: int) -> Caller | None:
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return Caller(user_id=user.id, email=user.email, org=user.org_code, role=cast(Role, user.role))


# The columns ``grant_view`` reads, in this order (the combined token-and-grants read relies on it).
GRANT_COLUMNS = (
    _GRANTS.c.id,
    _GRANTS.c.org_code,
    _GRANTS.c.dataset,
    _GRANTS.c.fields,
    _GRANTS.c.purposes,
    _GRANTS.c.row_filter,
    _GRANTS.c.status,
    _GRANTS.c.starts_at,
    _GRANTS.c.expires_at,
)
_GRANTS_QUERY = select(*GRANT_COLUMNS)


def grant_view(row: Any) -> GrantView:
    return GrantView(
        id=row.id,
        org=row.org_code,
        dataset=row.dataset,
        fields=frozenset(row.fields),
        purposes=frozenset(row.purposes),
        row_filter={k: tuple(v) for k, v in (row.row_filter or {}).items()},
        status=row.status,
        starts_at=aware(row.starts_at),
        expires_at=aware(row.expires_at),
    )


def aware(value: datetime) -> datetime:
    """A naive UTC datetime (as SQLite returns them) made aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


_GRANTS_OF = _GRANTS_QUERY.where(and_(_GRANTS.c.org_code == bindparam("org"), _GRANTS.c.dataset == bindparam("ds")))


def grants_of(conn: Connection, *, org: str, dataset: str) -> tuple[GrantView, ...]:
    """Every grant of ``org`` on ``dataset``, whatever its state (decide says which one is usable)."""
    rows = conn.execute(_GRANTS_OF, {"org": org, "ds": dataset})
    return tuple(grant_view(r) for r in rows)


# --- tokens ------------------------------------------------------------------------------------------------


def create_token(*, session: Session, user: User, days: int, label: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``; the clear token is returned once and never stored. The caller commits."""
    clear = new_token()
    row = ApiToken(
        user_id=user.id,
        token_hash=token_hash(clear),
        label=label[:100],
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return row, clear


def revoke_token(*, session: Session, token_id: int, user_id: int | None = None) -> ApiToken:
    """Revoke a token (of ``user_id`` when given: users revoke only their own). The caller commits."""
    row = session.get(ApiToken, token_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise NotFound(f"token {token_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


# --- web sessions and CSRF ---------------------------------------------------------------------------------

SESSION_COOKIE = "ndx_session"


class Sessions:
    """Signed session cookies carrying the user id and a CSRF token bound to the session."""

    def __init__(self, secret: str, *, max_age_s: int) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="ndx-session")
        self.max_age_s = max_age_s

    def issue(self, user_id: int) -> str:
        return self._signer.dumps({"u": user_id, "c": secrets.token_urlsafe(24)})

    def read(self, cookie: str | None) -> tuple[int, str] | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("c"), str):
            return None
        return data["u"], data["c"]

    @staticmethod
    def csrf_ok(expected: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(expected, given or "")
