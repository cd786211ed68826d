"""`ndx orgs`, `ndx users` and `ndx tokens`: what they print, what they refuse, and the audit record each
change leaves (signed `cli:<os user>`, in the same transaction as the change, never holding a token)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ndx import migrate
from ndx.cli import app as cli
from ndx.db import make_engine
from policies import service as org_service
from policies.audit_actions import command_line
from policies.audit_verify import verify_database
from policies.auth import TOKEN_PREFIX, token_hash
from policies.models import ApiToken, AuditRecord, Organization, User


@pytest.fixture
def engine(new_database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    url = new_database_url("accounts")
    eng = make_engine(url)
    migrate.upgrade(eng)
    monkeypatch.setenv("NDX_DATABASE_URL", url)
    monkeypatch.setenv("NDX_DATA_DIR", str(tmp_path))
    yield eng
    eng.dispose()


def admin_records(engine: Engine) -> list[dict[str, object]]:
    with Session(engine) as s:
        rows = s.scalars(select(AuditRecord.payload).where(AuditRecord.kind == "admin").order_by(AuditRecord.seq))
        return [json.loads(p) for p in rows]


def test_accounts_from_the_command_line_are_made_printed_and_audited(engine: Engine) -> None:
    run = CliRunner().invoke
    org = run(cli, ["orgs", "add", "so-yte-hn", "--name", "Sở Y tế Hà Nội", "--name-en", "Hanoi Health Department"])
    assert org.exit_code == 0, org.output
    user = run(cli, ["users", "add", "Dev@So-Yte.vn", "--org", "so-yte-hn", "--role", "developer"])
    assert user.exit_code == 0, user.output
    first = user.output.strip().splitlines()[-1]
    assert first.startswith(TOKEN_PREFIX) and " " not in first  # the token alone on the last line
    made = run(cli, ["tokens", "create", "dev@so-yte.vn", "--days", "7", "--label", "batch job"])
    assert made.exit_code == 0, made.output
    second = made.output.strip().splitlines()[-1]
    assert second.startswith(TOKEN_PREFIX) and second != first
    revoked = run(cli, ["tokens", "revoke", second])
    assert revoked.exit_code == 0, revoked.output

    with Session(engine) as s:
        dev = s.scalar(select(User).where(User.email == "dev@so-yte.vn"))
        assert dev is not None and dev.org_code == "so-yte-hn" and dev.role == "developer"
        tokens = {t.token_hash: t for t in s.scalars(select(ApiToken).where(ApiToken.user_id == dev.id))}
        assert tokens[token_hash(first)].revoked_at is None
        assert tokens[token_hash(second)].revoked_at is not None

    records = admin_records(engine)
    assert [r["action"] for r in records] == [
        "add-organization",
        "add-user",
        "create-token",
        "create-token",
        "revoke-token",
    ]
    assert {r["user"] for r in records} == {command_line()}
    assert records[1]["detail"] == {
        "email": "dev@so-yte.vn",
        "org": "so-yte-hn",
        "role": "developer",
        "password": False,
    }
    assert records[3]["detail"]["label"] == "batch job"  # type: ignore[index]
    assert records[4]["detail"]["token_id"] == records[3]["detail"]["token_id"]  # type: ignore[index]
    every_payload = json.dumps(records)
    assert first not in every_payload and second not in every_payload  # tokens are never audited
    assert verify_database(engine) == (None, 5)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["users", "add", "x@y.vn", "--org", "nowhere", "--role", "developer"],
            "organization 'nowhere' does not exist",
        ),
        (["users", "add", "not-an-email", "--org", "bca", "--role", "developer"], "is not an e-mail address"),
        (["users", "add", "x@y.vn", "--org", "bca", "--role", "boss"], "role 'boss'"),
        (["orgs", "add", "Sở Y Tế", "--name", "x"], "lower-case letters, digits and '-' only"),
        (["tokens", "create", "ghost@y.vn"], "user ghost@y.vn does not exist"),
        (["tokens", "revoke", "12345"], "token 12345 does not exist"),
        (["tokens", "revoke", "secret"], "give a token id or a token"),
    ],
)
def test_bad_input_is_one_clear_line_and_writes_nothing(engine: Engine, args: list[str], words: str) -> None:
    res = CliRunner().invoke(cli, args)
    assert res.exit_code != 0
    assert words in res.output, res.output
    assert "Traceback" not in res.output
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
        assert s.scalar(select(func.count()).select_from(AuditRecord)) == 0


def test_loading_the_organizations_file_is_audited_once_and_only_when_it_changes_something(
    new_database_url: Callable[[str], str],
) -> None:
    engine = make_engine(new_database_url("seed"))
    migrate.upgrade(engine)
    with Session(engine) as session:
        codes = [o.code for o in org_service.seed_organizations(session=session, by="cli:ops")]
        org_service.seed_organizations(session=session, by="cli:ops")  # nothing changes: no record
        session.get(Organization, codes[0]).name_en = "renamed by hand"  # type: ignore[union-attr]
        session.commit()
        org_service.seed_organizations(session=session, by="cli:ops")
    with engine.connect() as conn:
        payloads = [json.loads(p) for p in conn.scalars(select(AuditRecord.payload).order_by(AuditRecord.seq))]
    engine.dispose()
    assert [(p["action"], p["user"]) for p in payloads] == [("seed-organizations", "cli:ops")] * 2
    assert sorted(payloads[0]["detail"]["created"]) == sorted(codes)
    assert payloads[1]["detail"] == {
        "file": "policies/rules/organizations.yaml",
        "created": [],
        "updated": [codes[0]],
    }
