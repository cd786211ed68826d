"""Who is calling: API tokens (random, shown once, kept as sha256), argon2 passwords, signed sessions, CSRF.

The token check runs on every API call. On the query and verify APIs it is one indexed select that returns
the caller and its organization's grants on the dataset together (``caller_and_grants``), run through a
``DirectConnection``: the statement is compiled once and executed on a raw driver connection kept for the
process, because SQLAlchemy's per-execute machinery and pool checkout cost several times the lookup itself.
Nothing about a token or a grant is cached between calls, so a revocation takes effect on the very next call.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Table, and_, bindparam, event, select
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

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


_GRANTS_QUERY = select(
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


def grant_view(row: Any) -> GrantView:
    return GrantView(
        id=row.id,
        org=row.org_code,
        dataset=row.dataset,
        fields=frozenset(row.fields),
        purposes=frozenset(row.purposes),
        row_filter={k: tuple(v) for k, v in (row.row_filter or {}).items()},
        status=row.status,
        starts_at=_aware(row.starts_at),
        expires_at=_aware(row.expires_at),
    )


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


_GRANTS_OF = _GRANTS_QUERY.where(and_(_GRANTS.c.org_code == bindparam("org"), _GRANTS.c.dataset == bindparam("ds")))


def grants_of(conn: Connection, *, org: str, dataset: str) -> tuple[GrantView, ...]:
    """Every grant of ``org`` on ``dataset``, whatever its state (decide says which one is usable)."""
    rows = conn.execute(_GRANTS_OF, {"org": org, "ds": dataset})
    return tuple(grant_view(r) for r in rows)


# --- the hot path: compiled statements on raw driver connections ----------------------------------------


class Prepared:
    """A statement compiled once for one dialect, bound and run without SQLAlchemy's per-execute machinery.

    Values still go through the columns' types (bind and result processors, e.g. UTC datetimes and JSON on
    SQLite), so what comes back is what a SQLAlchemy ``Connection`` would return, as plain tuples.
    """

    __slots__ = ("_binds", "_compiled", "_defaults", "_expanding", "_names", "_results", "columns", "sql")

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
        self._compiled = compiled
        self.sql: str = compiled.string
        self._names = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        self._defaults = {name: b.effective_value for b, name in compiled.bind_names.items() if not b.required}
        self._binds = tuple(
            (name, proc)
            for b, name in compiled.bind_names.items()
            if (proc := b.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        self._expanding = bool(compiled.post_compile_params or compiled.literal_execute_params)
        columns = list(getattr(stmt, "exported_columns", ()))
        self.columns: tuple[str, ...] = tuple(str(c.key) for c in columns)
        self._results = tuple(
            (i, proc)
            for i, c in enumerate(columns)
            if (proc := c.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
        )

    def bind(self, values: Mapping[str, Any]) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        """The SQL (expanded for IN lists) and the driver's parameters for ``values``."""
        params = {**self._defaults, **values}
        if self._expanding:
            state = self._compiled.construct_expanded_state(params)
            expanded = dict(state.parameters)
            for name, proc in state.processors.items():
                if name in expanded:
                    expanded[name] = proc(expanded[name])
            if state.positiontup is not None:
                return state.statement, tuple(expanded[n] for n in state.positiontup)
            return state.statement, expanded
        for name, proc in self._binds:
            params[name] = proc(params[name])
        if self._names is not None:
            return self.sql, tuple(params[n] for n in self._names)
        return self.sql, params

    def bind_many(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The driver's parameters for ``executemany`` of a statement without IN lists, one per row."""
        assert not self._expanding
        if self._names is None or self._defaults:
            return [self.bind(r)[1] for r in rows]
        procs = dict(self._binds)
        spec = [(n, procs.get(n)) for n in self._names]
        return [tuple(r[n] if p is None else p(r[n]) for n, p in spec) for r in rows]

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
        """Driver rows with the result processors applied."""
        if not self._results:
            return list(raw)
        out: list[Sequence[Any]] = []
        for row in raw:
            values = list(row)
            for i, proc in self._results:
                values[i] = proc(values[i])
            out.append(values)
        return out


class DirectConnection:
    """One raw driver connection per thread, taken from ``engine`` and kept until the engine is disposed.

    The engine's connect events have run on it (SQLite pragmas, read-only sources, PostgreSQL options).
    ``autocommit`` (reads): on PostgreSQL each statement is its own transaction, so every read sees what is
    committed and no transaction stays open; on SQLite a plain SELECT never opens one, and reading every
    row resets the statement, so no snapshot outlives the call. Writers (``autocommit=False``) commit or
    roll back themselves. A connection the server dropped is replaced, and the read retried once.
    """

    def __init__(self, engine: Engine, *, autocommit: bool = True) -> None:
        self.engine = engine
        self.dialect: Dialect = engine.dialect
        self.errors: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._autocommit = autocommit
        self._local = threading.local()
        self._open: list[Any] = []
        self._lock = threading.Lock()
        self._statements: dict[int, tuple[ClauseElement, Prepared]] = {}
        event.listen(engine, "engine_disposed", self._disposed)

    def prepared(self, stmt: ClauseElement) -> Prepared:
        """The compiled form of ``stmt`` (cached by identity: callers reuse statement objects)."""
        hit = self._statements.get(id(stmt))
        if hit is not None and hit[0] is stmt:
            return hit[1]
        prepared = Prepared(stmt, self.dialect)
        if len(self._statements) >= 4096:
            self._statements.clear()
        self._statements[id(stmt)] = (stmt, prepared)
        return prepared

    def connection(self) -> Any:
        """This thread's driver connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        fairy = self.engine.raw_connection()
        conn = fairy.driver_connection
        assert conn is not None
        fairy.detach()  # the pool forgets it: this object owns it until ``close``
        if self._autocommit and self.dialect.name == "postgresql":
            conn.rollback()
            conn.autocommit = True
        with self._lock:
            self._open.append(conn)
        self._local.conn = conn
        return conn

    def discard(self) -> None:
        """Close this thread's connection; the next call opens a new one."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)
            with contextlib.suppress(self.errors):  # already broken
                conn.close()

    def fetch(self, stmt: ClauseElement, values: Mapping[str, Any]) -> list[Sequence[Any]]:
        """Every row of ``stmt`` for ``values``; driver errors propagate (their type is ``self.errors``)."""
        return self.prepared(stmt).rows(self.fetch_raw(stmt, values))

    def fetch_raw(self, stmt: ClauseElement, values: Mapping[str, Any]) -> list[Any]:
        """The driver's rows of ``stmt`` for ``values``, before the result processors (see ``fetch``)."""
        sql, params = self.prepared(stmt).bind(values)
        for attempt in (1, 2):
            conn = self.connection()
            try:
                cur = conn.cursor()
                try:
                    cur.execute(sql, params)
                    raw: list[Any] = cur.fetchall()
                finally:
                    cur.close()
            except self.errors as exc:
                if not self.dialect.is_disconnect(cast(Any, exc), conn, None):
                    raise
                self.discard()
                if attempt == 2:
                    raise
                continue
            return raw
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close every thread's connection (they reopen on next use)."""
        with self._lock:
            conns, self._open = self._open, []
            self._local = threading.local()
        for conn in conns:
            with contextlib.suppress(self.errors):
                conn.close()

    def _disposed(self, _engine: Engine) -> None:
        self.close()


_CALLER_AND_GRANTS = (
    select(
        _USERS.c.id,
        _USERS.c.email,
        _USERS.c.org_code,
        _USERS.c.role,
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


_DECODED: dict[tuple[Any, ...], tuple[Caller, tuple[GrantView, ...]]] = {}
_MAX_DECODED = 4096


def caller_and_grants(
    platform: DirectConnection, token: str, *, dataset: str, now: datetime
) -> tuple[Caller, tuple[GrantView, ...]] | None:
    """The user a live token belongs to and every grant of its organization on ``dataset`` (whatever their
    state: decide says which one is usable), read together by one indexed select; None for a token that is
    unknown, revoked or expired, or whose user is deactivated.

    The select runs on every call. Only the decoding of its rows (JSON columns, datetimes, the Caller and
    GrantView objects) is memoised, keyed by the raw rows the driver returned: any change to the user or a
    grant changes the key, and whether the token is live is decided by the select's WHERE clause each time.
    """
    if len(token) > 200:
        return None
    raw = platform.fetch_raw(_CALLER_AND_GRANTS, {"h": token_hash(token), "now": now, "ds": dataset})
    if not raw:
        return None
    key: tuple[Any, ...] | None = tuple(raw)
    try:
        hit = _DECODED.get(key)  # type: ignore[arg-type]
    except TypeError:  # a driver that decodes JSON itself (psycopg) returns unhashable rows
        hit = key = None
    if hit is not None:
        return hit
    rows = platform.prepared(_CALLER_AND_GRANTS).rows(raw)
    first = rows[0]
    caller = Caller(user_id=first[0], email=first[1], org=first[2], role=cast(Role, first[3]))
    grants = tuple(
        GrantView(
            id=r[4],
            org=r[5],
            dataset=r[6],
            fields=frozenset(r[7]),
            purposes=frozenset(r[8]),
            row_filter={k: tuple(v) for k, v in (r[9] or {}).items()},
            status=r[10],
            starts_at=_aware(r[11]),
            expires_at=_aware(r[12]),
        )
        for r in rows
        if r[4] is not None
    )
    found = (caller, grants)
    if key is not None:
        if len(_DECODED) >= _MAX_DECODED:
            _DECODED.clear()
        _DECODED[key] = found
    return found


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
