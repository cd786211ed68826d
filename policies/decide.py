"""The access decision: a pure function of who asks, what they want to do and to what. No I/O, no clock.

``decide(actor, action, resource)`` turns the dataset's rules and the actor's grants into a Decision: allowed
or not (with the HTTP status and a reason a person can act on), and for data reads the projection, the
masks, the row filter and the rate that apply. Everything is denied unless a clause below allows it.
The caller loads the actor's grants fresh on every call, so a revoked or expired grant stops working on
the very next call; ``action.at`` is the moment of the call (the function never reads the clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from policies.rules_model import DatasetRule, Mask, RateRule

Role = Literal["developer", "steward", "admin"]
ActionKind = Literal[
    "query",  # read records of a dataset
    "verify",  # yes/no per field about one subject
    "request",  # ask for access to a dataset
    "view_request",  # see an access request or a grant
    "decide_request",  # approve, narrow or reject a request
    "manage_grant",  # revoke, suspend or resume a grant
    "read_audit",  # list audit records (scope in the decision)
    "read_subject",  # who read one citizen's records
    "admin",  # platform administration (policy reloads, users)
]
AuditScope = Literal["none", "all", "owner_and_org", "org"]
DATA_ROLES: frozenset[str] = frozenset({"developer", "steward"})
RowFilter = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class GrantView:
    """What decide needs to know about one grant."""

    id: int
    org: str
    dataset: str
    fields: frozenset[str]
    purposes: frozenset[str]
    row_filter: RowFilter
    status: str
    starts_at: datetime
    expires_at: datetime

    def usable_at(self, at: datetime) -> bool:
        return self.status == "active" and self.starts_at <= at < self.expires_at


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller: anonymous when ``user_id`` is None. ``grants`` are its organization's grants."""

    user_id: int | None = None
    org: str | None = None
    role: Role | None = None
    grants: tuple[GrantView, ...] = ()

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None and self.org is not None and self.role is not None


ANONYMOUS = Actor()


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    at: datetime
    purpose: str | None = None
    fields: tuple[str, ...] = ()  # query: the projection asked for (empty: all granted); verify: compared fields
    filters: tuple[str, ...] = ()  # columns the call filters on


@dataclass(frozen=True, slots=True)
class Resource:
    """The dataset (its rules) and, for requests and grants, the organization they belong to."""

    rule: DatasetRule | None = None
    org: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    status: int = 200
    grant_id: int | None = None
    fields: tuple[str, ...] = ()
    masks: Mapping[str, Mask] = field(default_factory=dict)
    row_filter: RowFilter = field(default_factory=dict)
    rate: RateRule | None = None
    denied_fields: tuple[str, ...] = ()
    scope: AuditScope = "none"


def _deny(status: int, reason: str, **kw: object) -> Decision:
    return Decision(False, reason, status, **kw)  # type: ignore[arg-type]


def _names(values: object) -> str:
    return ", ".join(sorted(str(v) for v in values))  # type: ignore[attr-defined]


def decide(actor: Actor, action: Action, resource: Resource) -> Decision:
    """Allowed or not, and on what terms. Deny by default."""
    if not actor.authenticated:
        return _deny(401, "authentication required: send 'Authorization: Bearer <token>'")
    kind = action.kind
    if kind in ("query", "verify"):
        return _decide_read(actor, action, resource)
    if kind == "request":
        if resource.rule is None:
            return _deny(404, "no such dataset")
        if actor.role not in DATA_ROLES:
            return _deny(403, "only developers and stewards of an agency request access")
        if actor.org == resource.rule.owner:
            return _deny(403, f"your organization {actor.org!r} owns dataset {resource.rule.name!r}")
        return Decision(True, "may request access")
    if kind == "view_request":
        if actor.role == "admin" or actor.org == resource.org:
            return Decision(True, "visible")
        if actor.role == "steward" and resource.rule is not None and actor.org == resource.rule.owner:
            return Decision(True, "visible to the owning steward")
        return _deny(404, "not found")
    if kind in ("decide_request", "manage_grant"):
        rule = resource.rule
        if rule is None:
            return _deny(404, "no such dataset")
        if actor.role == "admin" and (kind == "manage_grant" or "admin" in rule.approvers):
            return Decision(True, "platform administrator")
        if (
            actor.role == "steward"
            and actor.org == rule.owner
            and (kind == "manage_grant" or "steward" in rule.approvers)
        ):
            return Decision(True, "steward of the owning organization")
        return _deny(403, f"only a steward of {rule.owner!r} may do this for dataset {rule.name!r}")
    if kind == "read_audit":
        if actor.role == "admin":
            return Decision(True, "administrator sees every record", scope="all")
        if actor.role == "steward":
            return Decision(True, "own calls and the datasets the organization owns", scope="owner_and_org")
        return Decision(True, "own organization's calls", scope="org")
    if kind == "read_subject":
        if actor.role == "admin":
            return Decision(True, "administrator", scope="all")
        if actor.role == "steward":
            return Decision(True, "reads of the datasets the organization owns", scope="owner_and_org")
        return _deny(403, "only administrators and stewards of the owning organizations see who read a person's data")
    if kind == "admin":
        if actor.role == "admin":
            return Decision(True, "administrator")
        return _deny(403, "administrators only")
    return _deny(403, f"unknown action {kind!r}")  # pragma: no cover  (Literal: unreachable when typed)


def _decide_read(actor: Actor, action: Action, resource: Resource) -> Decision:
    rule = resource.rule
    if rule is None:
        return _deny(404, "no such dataset")
    if actor.role not in DATA_ROLES:
        return _deny(403, "administrators manage the platform; reading data needs a developer or steward account")
    bad_filters = [c for c in action.filters if c not in rule.filter_columns]
    if bad_filters:
        return _deny(
            422,
            f"cannot filter on {_names(bad_filters)}: "
            f"filter columns of {rule.name} are {', '.join(rule.filter_columns)}",
        )
    unknown = [f for f in action.fields if f not in rule.fields]
    if unknown:
        return _deny(403, f"unknown fields of {rule.name}: {_names(unknown)}", denied_fields=tuple(sorted(unknown)))
    if action.purpose is None or action.purpose == "":
        return _deny(422, "the X-NDX-Purpose header is required: it names the purpose of the call")
    purpose = rule.purpose(action.purpose)
    if purpose is None:
        return _deny(403, f"purpose {action.purpose!r} is not a purpose of dataset {rule.name}")
    if purpose.kind != action.kind:
        return _deny(403, f"purpose {purpose.code!r} is for {purpose.kind} calls, not {action.kind}")
    if rule.classification == "open":
        fields = action.fields or tuple(rule.fields)
        return _allow(rule, None, fields, {}, "open dataset")
    mine = [g for g in actor.grants if g.org == actor.org and g.dataset == rule.name]
    usable = [g for g in mine if g.usable_at(action.at)]
    if not usable:
        if mine:
            states = _names({("expired" if g.status == "active" else g.status) for g in mine})
            return _deny(403, f"the grant of {actor.org} on {rule.name} is no longer active ({states})")
        return _deny(403, f"{actor.org} has no grant on dataset {rule.name}: request access first")
    usable = [g for g in usable if purpose.code in g.purposes]
    if not usable:
        return _deny(403, f"purpose {purpose.code!r} is not granted to {actor.org} on {rule.name}")
    usable.sort(key=lambda g: g.id)
    if action.kind == "verify" and not action.fields:
        return _deny(422, "name at least one field to compare")
    if not action.fields:
        g = usable[0]
        return _allow(rule, g, tuple(f for f in rule.fields if f in g.fields), g.row_filter, "granted")
    wanted = set(action.fields)
    for g in usable:
        if wanted <= g.fields:
            return _allow(rule, g, tuple(dict.fromkeys(action.fields)), g.row_filter, "granted")
    best = max(usable, key=lambda g: (len(wanted & g.fields), -g.id))
    missing = tuple(sorted(wanted - best.fields))
    return _deny(403, f"fields not granted on {rule.name}: {', '.join(missing)}", denied_fields=missing)


def _allow(
    rule: DatasetRule, grant: GrantView | None, fields: tuple[str, ...], row_filter: RowFilter, reason: str
) -> Decision:
    masks = {f: m for f in fields if (m := rule.fields[f].mask) is not None}
    return Decision(
        True,
        reason,
        200,
        grant_id=grant.id if grant else None,
        fields=fields,
        masks=masks,
        row_filter=row_filter,
        rate=rule.rate,
    )
