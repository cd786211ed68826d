"""The data gateway: one query or verification call from token to audited answer, without FastAPI.

Token and grants (``policies.token_lookup``: kept only while nothing about tokens, users or grants changed)
-> ``policies.decide`` (its answers remembered while they hold: ``policies.decide_memo``) -> rate limit ->
bound select on the read-only source -> masking -> audit record committed (group commit) -> answer. Denied
and failed calls are audited too, with their status; if the audit record cannot be written the call fails
with 503 and no data leaves (fail closed). The kept token and grants are checked against the access counter
in the transaction that commits the call's record; a call decided on rows that changed meanwhile
(``StaleAccess``) is not answered but run again on fresh rows, and gives back what it counted against the
grant's limits. Point lookups on the primary key run inline on the event loop
(tens of microseconds); anything else runs in a worker thread under the source's time limit. The token,
grant and record reads go through ``DirectConnection``s (statements compiled once, raw driver connections
kept per thread), which costs a fraction of SQLAlchemy's per-execute path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.engine import Engine

from connectors import query as q
from connectors import verify as v
from connectors.registry import Sources
from connectors.schema import table as source_table
from ndx.direct_sql import DirectConnection
from ndx.errors import NDXError, NotFound, Unauthenticated, Unavailable
from policies.access import denial
from policies.audit import AuditEntry, canonical, sha256_hex
from policies.audit_writer import AuditWriter, StaleAccess
from policies.auth import Caller, bearer_token
from policies.decide import Action, Decision, GrantView, Resource
from policies.decide_memo import DecisionMemo
from policies.models import utcnow
from policies.ratelimit import RateLimiter
from policies.rules_model import DatasetRule, RateRule, dataset_rules
from policies.token_lookup import TokenLookup

# a call whose access changed while it ran is run again on fresh rows, checked again at its commit; the
# last run is vouched for by the counter read at its start only, so changes that never stop cannot refuse it
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Call:
    """What the HTTP layer hands over: the request, reduced to plain values."""

    request_id: str
    method: str
    path: str
    query: Sequence[tuple[str, str]]
    authorization: str | None
    purpose: str | None
    case: str | None


@dataclass(slots=True)
class Spent:
    """What one run of a call counted against its grant's limits (given back if the run is found stale)."""

    key: str | None = None
    rate: RateRule | None = None
    rows: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    headers: dict[str, str]


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON of an answer (orjson; values are what ``query.shape`` and ``verify`` produce)."""
    return orjson.dumps(data)


class DataGateway:
    def __init__(
        self, *, platform: Engine, sources: Sources, writer: AuditWriter, limiter: RateLimiter, timeout_s: float
    ) -> None:
        self.platform = platform
        self.sources = sources
        self.writer = writer
        self.limiter = limiter
        self.timeout_s = timeout_s
        self._platform = DirectConnection(platform)
        self._direct: dict[Engine, DirectConnection] = {}
        self.decisions = DecisionMemo()
        self.tokens = TokenLookup()

    def direct(self, source: str) -> DirectConnection:
        """The direct (raw, per-thread) connection to a source's read-only engine."""
        engine = self.sources.engine(source)
        direct = self._direct.get(engine)
        if direct is None:
            direct = self._direct[engine] = DirectConnection(engine)
        return direct

    def _authenticate(
        self, call: Call, dataset: str, *, fresh: bool, checked: bool
    ) -> tuple[Caller, tuple[GrantView, ...], int | None]:
        """The caller, its grants on ``dataset``, and the ``access_version`` the audit writer is to check at
        the call's commit (``StaleAccess``), None if ``checked`` is false. Unless ``fresh``, a kept answer is
        taken without reading the counter."""
        token = bearer_token(call.authorization)
        if token is None:
            raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>'")
        now = utcnow()
        kept = None if fresh else self.tokens.unchecked(token, dataset=dataset, now=now)
        if kept is not None:
            (caller, grants), kept_version = kept
            return caller, grants, kept_version if checked else None
        try:
            found, version = self.tokens.checked(self._platform, token, dataset=dataset, now=now)
        except self._platform.errors as exc:
            raise Unavailable(f"the platform database failed: {(str(exc).splitlines() or ['error'])[0]}") from None
        if found is None:
            raise Unauthenticated("the token is unknown, expired or revoked")
        return found[0], found[1], version if checked else None

    def _entry(self, kind: str, call: Call, caller: Caller, dataset: str, body: Any = None) -> AuditEntry:
        request = {
            "method": call.method,
            "path": call.path,
            "query": sorted(call.query),
            "purpose": call.purpose,
            "case": call.case,
            "user": caller.email,
            "org": caller.org,
        }
        if body is not None:
            request["body"] = body
        return AuditEntry(
            kind=kind,
            at=utcnow(),
            status=200,
            request_id=call.request_id,
            user_id=caller.user_id,
            user=caller.email,
            org_code=caller.org,
            purpose=call.purpose,
            case=call.case,
            dataset=dataset,
            action=f"{call.method} {call.path}",
            request_hash=sha256_hex(canonical(request)),
        )

    def _rule(self, name: str) -> DatasetRule:
        rule = dataset_rules().get(name)
        if rule is None:
            raise NotFound(f"dataset {name!r} does not exist")
        return rule

    def _limits(self, decision: Decision, caller: Caller, name: str, spent: Spent) -> tuple[str, int]:
        assert decision.rate is not None
        key = f"grant:{decision.grant_id}" if decision.grant_id is not None else f"org:{caller.org}:{name}"
        spent.key, spent.rate = key, decision.rate  # counted even when refused, as the limiter counts it
        self.limiter.hit_request(key, decision.rate)
        return key, self.limiter.rows_left(key, decision.rate)

    def _give_back(self, spent: Spent) -> None:
        """A run found stale at its commit answered nothing: what it counted is not the grant's to pay."""
        if spent.key is not None and spent.rate is not None:
            self.limiter.give_back(spent.key, spent.rate, spent.rows)

    async def _finish(self, entry: AuditEntry, body: bytes, version: int | None) -> Answer:
        entry.response_hash = sha256_hex(entry.request_hash.encode() + body) if entry.request_hash else None
        seq = await self.writer.append(entry, access_version=version)
        return Answer(
            body,
            {
                "X-NDX-Request-Id": entry.request_id or "",
                "X-NDX-Request-Hash": entry.request_hash or "",
                "X-NDX-Response-Hash": entry.response_hash or "",
                "X-NDX-Audit-Seq": str(seq),
            },
        )

    async def _fail(self, entry: AuditEntry, exc: NDXError, version: int | None) -> None:
        entry.status = exc.status
        entry.detail = {"error": exc.message}
        await self.writer.append(entry, access_version=version)

    async def query(self, name: str, call: Call) -> Answer:
        """Answer a query call; the audit writer's ``StaleAccess`` makes it run again on fresh rows."""
        for attempt in range(ATTEMPTS - 1):
            spent = Spent()
            try:
                return await self._query(name, call, spent, fresh=attempt > 0, checked=True)
            except StaleAccess:
                self._give_back(spent)
        return await self._query(name, call, Spent(), fresh=True, checked=False)

    async def verify(self, name: str, call: Call, citizen_id: str, claims: Mapping[str, str]) -> Answer:
        """Answer a verification call; run again on fresh rows after ``StaleAccess``, as ``query``."""
        for attempt in range(ATTEMPTS - 1):
            spent = Spent()
            try:
                return await self._verify(name, call, citizen_id, claims, spent, fresh=attempt > 0, checked=True)
            except StaleAccess:
                self._give_back(spent)
        return await self._verify(name, call, citizen_id, claims, Spent(), fresh=True, checked=False)

    async def _query(self, name: str, call: Call, spent: Spent, *, fresh: bool, checked: bool) -> Answer:
        caller, grants, version = self._authenticate(call, name, fresh=fresh, checked=checked)
        entry = self._entry("query", call, caller, name)
        try:
            rule = self._rule(name)
            table = source_table(rule.source, rule.table)
            params = q.parse_params(rule, table, call.query)
            entry.filter = {f"{f.column}__{f.op}": [q.json_value(x) for x in f.values] for f in params.filters}
            entry.fields = list(params.fields)
            action = Action("query", entry.at, call.purpose, params.fields, params.filter_columns)
            decision = self.decisions.decide(caller.actor(grants), action, Resource(rule))
            entry.grant_id = decision.grant_id
            if not decision.allowed:
                raise denial(decision)
            entry.fields = list(decision.fields)
            entry.filter["grant_row_filter"] = {k: list(x) for k, x in decision.row_filter.items()}
            key, rows_left = self._limits(decision, caller, name, spent)
            limit = min(params.limit, rows_left)
            stmt = q.compile_select(
                table,
                rule,
                fields=decision.fields,
                row_filter=decision.row_filter,
                filters=params.filters,
                after=params.after,
                limit=limit,
            )
            direct = self.direct(rule.source)
            point = any(f.column == rule.primary_key and f.op in ("eq", "in") for f in params.filters)
            if point:
                columns, rows = q.fetch(direct, stmt, source=rule.source, timeout_s=self.timeout_s)
            else:
                columns, rows = await asyncio.to_thread(
                    q.fetch, direct, stmt, source=rule.source, timeout_s=self.timeout_s
                )
            items, nxt, keys, subjects = q.shape(
                rows, columns, rule, fields=decision.fields, masks=decision.masks, limit=limit
            )
            self.limiter.take_rows(key, decision.rate, len(items))  # type: ignore[arg-type]
            spent.rows = len(items)
        except NDXError as exc:
            await self._fail(entry, exc, version)
            raise
        entry.row_count, entry.keys, entry.subjects = len(items), keys, subjects
        return await self._finish(entry, dumps({"items": items, "next_cursor": nxt}), version)

    async def _verify(
        self,
        name: str,
        call: Call,
        citizen_id: str,
        claims: Mapping[str, str],
        spent: Spent,
        *,
        fresh: bool,
        checked: bool,
    ) -> Answer:
        caller, grants, version = self._authenticate(call, name, fresh=fresh, checked=checked)
        entry = self._entry("verify", call, caller, name, body={"citizen_id": citizen_id, **claims})
        entry.fields = sorted(claims)
        try:
            rule = self._rule(name)
            table = source_table(rule.source, rule.table)
            action = Action("verify", entry.at, call.purpose, tuple(sorted(claims)))
            decision = self.decisions.decide(caller.actor(grants), action, Resource(rule))
            entry.grant_id = decision.grant_id
            if not decision.allowed:
                raise denial(decision)
            entry.filter = {
                "subject": citizen_id,
                "grant_row_filter": {k: list(x) for k, x in decision.row_filter.items()},
            }
            key, _ = self._limits(decision, caller, name, spent)
            fields = list(claims)
            stmt = v.compile_lookup(table, rule, citizen_id=citizen_id, fields=fields, row_filter=decision.row_filter)
            engine = self.sources.engine(rule.source)
            run = q.run
            if rule.subject_column == rule.primary_key:
                rows = run(engine, stmt, source=rule.source, timeout_s=self.timeout_s)
            else:
                rows = await asyncio.to_thread(run, engine, stmt, source=rule.source, timeout_s=self.timeout_s)
            maps = [dict(r._mapping) for r in rows]
            match, per_field = v.compare(maps, claims)
            self.limiter.take_rows(key, decision.rate, len(maps))  # type: ignore[arg-type]
            spent.rows = len(maps)
        except NDXError as exc:
            await self._fail(entry, exc, version)
            raise
        entry.row_count = len(maps)
        entry.keys = [str(m[rule.primary_key]) for m in maps]
        entry.subjects = [citizen_id] if maps else []
        entry.detail = {"match": match}
        return await self._finish(entry, dumps({"match": match, "fields": per_field}), version)
