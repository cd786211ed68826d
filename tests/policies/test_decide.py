"""decide() is pure: every clause is tested here with no database, no app and no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.decide import ANONYMOUS, Action, Actor, GrantView, Resource, decide
from policies.rules_model import dataset_rules

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CITIZEN = dataset_rules()["population-citizen"]
LAND = dataset_rules()["land-land-right"]
ALL_FIELDS = tuple(CITIZEN.fields)


def grant(
    gid: int = 1,
    *,
    org: str = "ubnd-hcm",
    dataset: str = "population-citizen",
    fields: tuple[str, ...] = ("citizen_id", "full_name", "date_of_birth", "address"),
    purposes: tuple[str, ...] = ("social-assistance",),
    row_filter: dict[str, tuple[str, ...]] | None = None,
    status: str = "active",
    starts: datetime = NOW - timedelta(days=1),
    expires: datetime = NOW + timedelta(days=30),
) -> GrantView:
    return GrantView(
        gid, org, dataset, frozenset(fields), frozenset(purposes), row_filter or {}, status, starts, expires
    )


def actor(role: str = "developer", org: str = "ubnd-hcm", *grants: GrantView) -> Actor:
    return Actor(user_id=7, org=org, role=role, grants=grants)  # type: ignore[arg-type]


def query(
    *fields: str, purpose: str | None = "social-assistance", filters: tuple[str, ...] = (), at: datetime = NOW
) -> Action:
    return Action("query", at, purpose, fields, filters)


R = Resource(CITIZEN)


def test_anonymous_is_denied_everything() -> None:
    kinds = [
        "query",
        "verify",
        "request",
        "view_request",
        "decide_request",
        "manage_grant",
        "read_audit",
        "read_subject",
        "admin",
    ]
    for kind in kinds:
        d = decide(ANONYMOUS, Action(kind, NOW), R)  # type: ignore[arg-type]
        assert not d.allowed and d.status == 401, kind


def test_no_grant_is_denied_by_default() -> None:
    d = decide(actor(), query(), R)
    assert not d.allowed and d.status == 403
    assert "no grant" in d.reason and "request access" in d.reason


def test_granted_query_gets_projection_masks_row_filter_and_rate() -> None:
    g = grant(row_filter={"province_code": ("79",)})
    d = decide(actor("developer", "ubnd-hcm", g), query(), R)
    assert d.allowed and d.grant_id == 1
    assert d.fields == ("citizen_id", "full_name", "date_of_birth", "address")  # the rule's order
    assert set(d.masks) == {"citizen_id", "address"}
    assert d.masks["citizen_id"].apply("079095012345") == "0790*****345"
    assert d.row_filter == {"province_code": ("79",)}
    assert d.rate == CITIZEN.rate


def test_requested_projection_is_kept_in_the_callers_order() -> None:
    d = decide(actor("developer", "ubnd-hcm", grant()), query("full_name", "citizen_id"), R)
    assert d.allowed and d.fields == ("full_name", "citizen_id")
    assert set(d.masks) == {"citizen_id"}


def test_ungranted_and_unknown_fields_are_named() -> None:
    d = decide(actor("developer", "ubnd-hcm", grant()), query("full_name", "ethnicity"), R)
    assert not d.allowed and d.status == 403 and d.denied_fields == ("ethnicity",)
    assert "ethnicity" in d.reason
    d = decide(actor("developer", "ubnd-hcm", grant()), query("full_name", "salary"), R)
    assert not d.allowed and d.status == 403 and d.denied_fields == ("salary",)
    assert "unknown" in d.reason


def test_filter_outside_the_declared_columns_is_422_naming_it() -> None:
    d = decide(actor("developer", "ubnd-hcm", grant()), query(filters=("full_name",)), R)
    assert not d.allowed and d.status == 422 and "full_name" in d.reason


@pytest.mark.parametrize(
    ("purpose", "status", "words"),
    [
        (None, 422, "X-NDX-Purpose"),
        ("", 422, "X-NDX-Purpose"),
        ("marketing", 403, "not a purpose"),
        ("tax-administration", 403, "not granted"),
        ("identity-verification", 403, "verify calls"),
    ],
)
def test_purpose_must_be_a_granted_query_purpose(purpose: str | None, status: int, words: str) -> None:
    d = decide(actor("developer", "ubnd-hcm", grant()), query(purpose=purpose), R)
    assert not d.allowed and d.status == status and words in d.reason


@pytest.mark.parametrize(
    ("status", "starts", "expires"),
    [
        ("revoked", NOW - timedelta(days=1), NOW + timedelta(days=1)),
        ("suspended", NOW - timedelta(days=1), NOW + timedelta(days=1)),
        ("expired", NOW - timedelta(days=9), NOW - timedelta(days=1)),
        ("active", NOW - timedelta(days=9), NOW),  # expires exactly now: no longer usable
        ("active", NOW + timedelta(seconds=1), NOW + timedelta(days=1)),  # not started
    ],
)
def test_inactive_grants_stop_working_at_once(status: str, starts: datetime, expires: datetime) -> None:
    d = decide(actor("developer", "ubnd-hcm", grant(status=status, starts=starts, expires=expires)), query(), R)
    assert not d.allowed and d.status == 403 and "no longer active" in d.reason


def test_another_agencys_grant_does_not_count() -> None:
    d = decide(actor("developer", "thue", grant(org="ubnd-hcm")), query(), R)
    assert not d.allowed and d.status == 403


def test_grant_on_another_dataset_does_not_count() -> None:
    d = decide(actor("developer", "ubnd-hcm", grant(dataset="land-land-right")), query(), R)
    assert not d.allowed


def test_admins_do_not_read_data_even_with_a_grant() -> None:
    d = decide(actor("admin", "ubnd-hcm", grant()), query(), R)
    assert not d.allowed and d.status == 403


def test_of_two_grants_the_one_covering_the_fields_is_used() -> None:
    narrow = grant(1, fields=("full_name",))
    wide = grant(2, fields=("full_name", "date_of_birth"), row_filter={"province_code": ("79",)})
    d = decide(actor("developer", "ubnd-hcm", narrow, wide), query("date_of_birth"), R)
    assert d.allowed and d.grant_id == 2 and d.row_filter == {"province_code": ("79",)}
    d = decide(actor("developer", "ubnd-hcm", narrow, wide), query("full_name"), R)
    assert d.allowed and d.grant_id == 1 and d.row_filter == {}


def test_verify_needs_a_verify_purpose_covering_the_compared_fields() -> None:
    g = grant(fields=("full_name", "date_of_birth"), purposes=("identity-verification",))
    a = actor("developer", "ubnd-hcm", g)
    ok = decide(a, Action("verify", NOW, "identity-verification", ("full_name",)), R)
    assert ok.allowed and ok.grant_id == 1
    assert not decide(a, Action("verify", NOW, "identity-verification", ("sex",)), R).allowed
    assert decide(a, Action("verify", NOW, "identity-verification", ()), R).status == 422
    assert decide(a, Action("verify", NOW, "social-assistance", ("full_name",)), R).status == 403
    # a query purpose grant does not allow verification, nor the reverse
    assert not decide(a, query("full_name", purpose="identity-verification"), R).allowed


def test_open_datasets_need_no_grant() -> None:
    open_rule = CITIZEN.model_copy(update={"classification": "open"})
    d = decide(actor(), query(), Resource(open_rule))
    assert d.allowed and d.grant_id is None and d.fields == ALL_FIELDS


ROLES = ("developer", "steward", "admin")
ORGS = ("bca", "ubnd-hcm", "thue")


@pytest.mark.parametrize(("role", "org"), list(product(ROLES, ORGS)))
def test_management_matrix(role: str, org: str) -> None:
    a = actor(role, org)
    res = Resource(CITIZEN, org="ubnd-hcm")  # a request/grant of ubnd-hcm on bca's dataset
    owning_steward = role == "steward" and org == "bca"
    assert decide(a, Action("decide_request", NOW), res).allowed == owning_steward
    assert decide(a, Action("manage_grant", NOW), res).allowed == (owning_steward or role == "admin")
    visible = decide(a, Action("view_request", NOW), res)
    assert visible.allowed == (role == "admin" or org == "ubnd-hcm" or owning_steward)
    assert visible.allowed or visible.status == 404  # other agencies do not learn that it exists
    assert decide(a, Action("request", NOW), Resource(CITIZEN)).allowed == (role != "admin" and org != "bca")
    assert decide(a, Action("read_subject", NOW), R).allowed == (role in ("admin", "steward"))
    assert decide(a, Action("admin", NOW), R).allowed == (role == "admin")
    scope = decide(a, Action("read_audit", NOW), R).scope
    assert scope == {"admin": "all", "steward": "owner_and_org", "developer": "org"}[role]


def test_admins_approve_only_where_the_rule_names_them() -> None:
    admin = actor("admin", "ndx")
    assert not decide(admin, Action("decide_request", NOW), Resource(CITIZEN)).allowed
    with_admin = CITIZEN.model_copy(update={"approvers": ["steward", "admin"]})
    assert decide(admin, Action("decide_request", NOW), Resource(with_admin)).allowed
    only_admin = CITIZEN.model_copy(update={"approvers": ["admin"]})
    assert not decide(actor("steward", "bca"), Action("decide_request", NOW), Resource(only_admin)).allowed


def test_unknown_dataset_is_404() -> None:
    assert decide(actor(), query(), Resource(None)).status == 404


field_sets = st.sets(st.sampled_from(ALL_FIELDS), min_size=1)


@given(granted=field_sets, asked=st.sets(st.sampled_from(ALL_FIELDS)), role=st.sampled_from(ROLES))
def test_never_a_field_outside_the_grant(granted: set[str], asked: set[str], role: str) -> None:
    g = grant(fields=tuple(granted))
    d = decide(actor(role, "ubnd-hcm", g), query(*sorted(asked)), R)
    if d.allowed:
        assert set(d.fields) <= granted
        assert role != "admin"
        assert not asked or set(d.fields) == asked
        assert {f for f in d.fields if CITIZEN.fields[f].mask} == set(d.masks)
    else:
        assert asked - granted or role == "admin"
