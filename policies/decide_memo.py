"""``decide`` remembered for the data gateway's hot path.

``decide`` is pure, and the only part of its input that moves on its own is the time of the call, which it
compares with the grants' start and expiry and nothing else. So a decision holds for every moment between
the last grant boundary (a start or an expiry) before the call and the next one after it, for the same
caller, the same grants, the same rules and the same request. ``DecisionMemo`` keeps each decision with
that window and the grants and rules objects it was made from, and answers from it only when the call falls
inside the window and the objects are the very same ones: the token select returns a new grants tuple as
soon as any grant of the caller's organization changes (revoked, suspended, narrowed), and a policy reload
makes new rule objects, so neither can be answered from an old decision.
"""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, UTC, datetime
from typing import Any

from policies.decide import Action, Actor, Decision, GrantView, Resource, decide

_BEGINNING = datetime(MINYEAR, 1, 1, tzinfo=UTC)
_END = datetime(MAXYEAR, 12, 31, tzinfo=UTC)


def window(grants: tuple[GrantView, ...], at: datetime) -> tuple[datetime, datetime]:
    """The span around ``at`` in which no grant of ``grants`` starts or ends: ``[since, until)``."""
    since, until = _BEGINNING, _END
    for g in grants:
        for moment in (g.starts_at, g.expires_at):
            if moment <= at:
                since = max(since, moment)
            else:
                until = min(until, moment)
    return since, until


class DecisionMemo:
    """``decide`` with its answers remembered for as long as they hold (see the module)."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._memo: dict[tuple[Any, ...], tuple[Actor, Resource, datetime, datetime, Decision]] = {}
        self.hits = 0

    def clear(self) -> None:
        self._memo.clear()

    def decide(self, actor: Actor, action: Action, resource: Resource) -> Decision:
        key = (
            actor.user_id,
            actor.org,
            actor.role,
            id(actor.grants),
            id(resource.rule),
            resource.org,
            action.kind,
            action.purpose,
            action.fields,
            action.filters,
        )
        hit = self._memo.get(key)
        if hit is not None:
            was, on, since, until, decision = hit
            if was.grants is actor.grants and on.rule is resource.rule and since <= action.at < until:
                self.hits += 1
                return decision
        decision = decide(actor, action, resource)
        since, until = window(actor.grants, action.at)
        if len(self._memo) >= self._size:
            self._memo.clear()
        # the actor and resource are kept so the objects named by id() in the key stay alive
        self._memo[key] = (actor, resource, since, until, decision)
        return decision
