"""The gateway's memo of decide() answers exactly as decide() would, call after call: across grant starts
and expiries, a revoked or narrowed grant, and a policy reload."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.decide import Action, Resource, decide
from policies.decide_memo import DecisionMemo, window
from policies.rules_model import load_dataset_rules
from tests.policies.test_decide import ALL_FIELDS, CITIZEN, NOW, R, actor, grant, query

hours = st.integers(min_value=-48, max_value=48).map(lambda h: NOW + timedelta(hours=h))


@settings(max_examples=200, deadline=None)
@given(
    bounds=st.lists(st.tuples(hours, hours), min_size=0, max_size=3),
    calls=st.lists(
        st.tuples(hours, st.sets(st.sampled_from(ALL_FIELDS), max_size=3), st.sampled_from(["social-assistance", "x"])),
        min_size=1,
        max_size=12,
    ),
)
def test_memo_answers_as_decide_at_every_moment(
    bounds: list[tuple[object, object]], calls: list[tuple[object, set[str], str]]
) -> None:
    grants = tuple(
        grant(i + 1, fields=("citizen_id", "full_name"), starts=min(a, b), expires=max(a, b))  # type: ignore[type-var]
        for i, (a, b) in enumerate(bounds)
    )
    who = actor("developer", "ubnd-hcm", *grants)
    memo = DecisionMemo()
    for at, fields, purpose in calls:
        action = query(*sorted(fields), purpose=purpose, at=at)  # type: ignore[arg-type]
        assert memo.decide(who, action, R) == decide(who, action, R)


def test_a_changed_grant_is_never_answered_from_the_old_decision() -> None:
    memo = DecisionMemo()
    who = actor("developer", "ubnd-hcm", grant(1))
    assert memo.decide(who, query("full_name"), R).allowed
    assert memo.decide(replace(who), query("full_name"), R).allowed  # a new actor, the same grants tuple
    assert memo.hits == 1
    revoked = replace(who, grants=(replace(who.grants[0], status="revoked"),))  # the select returns a new tuple
    assert not memo.decide(revoked, query("full_name"), R).allowed


def test_expiry_ends_the_remembered_decision_at_once() -> None:
    memo = DecisionMemo()
    grants = (grant(1, expires=NOW + timedelta(seconds=1)),)
    who = actor("developer", "ubnd-hcm", *grants)
    assert memo.decide(who, query("full_name"), R).allowed
    assert not memo.decide(who, query("full_name", at=NOW + timedelta(seconds=1)), R).allowed


def test_a_policy_reload_is_never_answered_from_the_old_rules() -> None:
    memo = DecisionMemo()
    who = actor("developer", "ubnd-hcm", grant(1))
    assert memo.decide(who, query("full_name"), R).allowed
    reloaded = load_dataset_rules()["population-citizen"].model_copy(update={"purposes": []})
    assert not memo.decide(who, query("full_name"), Resource(reloaded)).allowed
    assert CITIZEN.purposes  # the old rule object is untouched


def test_window_is_bounded_by_the_nearest_boundaries() -> None:
    g = grant(1, starts=NOW - timedelta(hours=2), expires=NOW + timedelta(hours=3))
    h = grant(2, starts=NOW + timedelta(hours=1), expires=NOW + timedelta(hours=5))
    assert window((g, h), NOW) == (NOW - timedelta(hours=2), NOW + timedelta(hours=1))
    assert window((g, h), NOW - timedelta(hours=2)) == (NOW - timedelta(hours=2), NOW + timedelta(hours=1))


def test_other_actions_pass_through() -> None:
    memo = DecisionMemo()
    action = Action("read_audit", NOW)
    steward = actor("steward", "bca")
    assert memo.decide(steward, action, Resource()) == decide(steward, action, Resource())
