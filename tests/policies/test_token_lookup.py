"""The query route's token check keeps its answer only while nothing about tokens, users or grants changed:
database triggers move a counter on any insert, update or delete of those tables, whoever makes it (here:
plain SQL, bypassing every service), and an expired token is dead without any change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ndx.db import make_engine
from ndx.direct_sql import DirectConnection
from policies.models import utcnow
from policies.token_lookup import TokenLookup
from tests.policies.world import World, world_fixture  # noqa: F401  (fixture)

DATASET = "population-citizen"


@pytest.fixture
def engine(world: World) -> Iterator[Engine]:
    eng = make_engine(world.database_url)
    yield eng
    eng.dispose()


def version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT n FROM access_version WHERE id = 1")))


def test_answer_is_kept_until_any_watched_row_changes(world: World, engine: Engine) -> None:
    gid = world.grant("hcm_dev", DATASET, ["full_name"], "social-assistance")
    platform = DirectConnection(engine)
    tokens = TokenLookup()
    token = world.tokens["hcm_dev"]
    first = tokens.lookup(platform, token, dataset=DATASET, now=utcnow())
    assert first is not None and [g.status for g in first[1]] == ["active"]
    assert tokens.lookup(platform, token, dataset=DATASET, now=utcnow()) is first
    assert tokens.reads == 1

    with engine.begin() as conn:  # plain SQL: no service, no API
        conn.execute(text("UPDATE access_grant SET status = 'revoked' WHERE id = :id"), {"id": gid})
    again = tokens.lookup(platform, token, dataset=DATASET, now=utcnow())
    assert again is not None and [g.status for g in again[1]] == ["revoked"]
    assert tokens.reads == 2

    with engine.begin() as conn:
        conn.execute(text("UPDATE app_user SET active = false WHERE email = 'dev@ubnd-hcm.gov.vn'"))
    assert tokens.lookup(platform, token, dataset=DATASET, now=utcnow()) is None
    platform.close()


def test_revoked_and_expired_tokens_die_on_the_next_call(world: World, engine: Engine) -> None:
    platform = DirectConnection(engine)
    tokens = TokenLookup()
    dev, thue = world.tokens["hcm_dev"], world.tokens["thue_dev"]
    assert tokens.lookup(platform, dev, dataset=DATASET, now=utcnow()) is not None
    assert tokens.lookup(platform, thue, dataset=DATASET, now=utcnow()) is not None
    later = utcnow() + timedelta(days=31)  # the world's tokens are valid for 30 days
    assert tokens.lookup(platform, dev, dataset=DATASET, now=later) is None
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_token SET revoked_at = :now"), {"now": utcnow()})
    assert tokens.lookup(platform, thue, dataset=DATASET, now=utcnow()) is None
    platform.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE api_token SET label = 'x'",
        "DELETE FROM api_token WHERE id = (SELECT MIN(id) FROM api_token)",
        "UPDATE app_user SET role = role",
        "UPDATE access_grant SET status = status",
        "INSERT INTO access_grant (request_id, dataset, owner_code, org_code, fields, purposes, row_filter,"
        " legal_basis, status, starts_at, expires_at, created_by, created_at) SELECT request_id, dataset, owner_code,"
        " org_code, fields, purposes, row_filter, legal_basis, status, starts_at, expires_at, created_by, created_at"
        " FROM access_grant",
    ],
)
def test_every_change_to_a_watched_table_moves_the_counter(world: World, engine: Engine, statement: str) -> None:
    world.grant("hcm_dev", DATASET, ["full_name"], "social-assistance")
    before = version(engine)
    with engine.begin() as conn:
        conn.execute(text(statement))
    assert version(engine) > before
