"""The policies commands: ``ndx orgs``, ``ndx users``, ``ndx tokens``, ``ndx audit``, and the demo accounts."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ndx.console import console, fail, settings_or_exit
from ndx.db import make_engine
from ndx.errors import NDXError
from policies import service as org_service
from policies import users
from policies.audit_actions import command_line
from policies.audit_anchors import ANCHOR_EVERY, check_database, copy_line, list_anchors, read_copies
from policies.audit_bundle import anchors_covered, bundle_end, export_bundle, verify_bundle
from policies.audit_verify import verify_database
from policies.auth import TOKEN_PREFIX, token_hash
from policies.models import ApiToken, Organization, utcnow
from policies.paging import MAX_LIMIT

orgs_app = typer.Typer(help="Organizations (agencies).", no_args_is_help=True)
users_app = typer.Typer(help="Users of the platform.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
DEMO_PASSWORD = "ndx-demo-2026"  # noqa: S105  (the demo's published password, printed by `ndx demo`)
DEMO_LABEL = "demo"


@contextmanager
def _session() -> Iterator[Session]:
    settings = settings_or_exit()
    engine = make_engine(settings.platform_url)
    try:
        with Session(engine) as session:
            yield session
    except NDXError as exc:
        fail(exc.message)
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        fail(f"platform database: {str(orig).splitlines()[0]} (did you run `ndx db upgrade`?)")
    finally:
        engine.dispose()


@orgs_app.command("add")
def orgs_add(
    code: Annotated[str, typer.Argument(help="Lower-case code, e.g. so-yte-hn.")],
    name: Annotated[str, typer.Option("--name", help="Name (Vietnamese).")],
    name_en: Annotated[str | None, typer.Option("--name-en", help="Name in English (default: --name).")] = None,
    kind: Annotated[str, typer.Option(help="owner, consumer or platform.")] = "consumer",
) -> None:
    """Add an organization."""
    with _session() as session:
        org = users.add_organization(
            session=session, by=command_line(), code=code, name=name, name_en=name_en, kind=kind
        )
        session.commit()
        console.print(f"organization {org.code} added")


@orgs_app.command("list")
def orgs_list() -> None:
    """List organizations."""
    with _session() as session:
        table = Table("code", "kind", "name")
        for org in session.scalars(select(Organization).order_by(Organization.code)):
            table.add_row(org.code, org.kind, org.name_vi)
        console.print(table)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="E-mail address, the login name.")],
    org: Annotated[str, typer.Option("--org", help="Organization code.")],
    role: Annotated[str, typer.Option("--role", help="developer, steward or admin.")],
    password: Annotated[str | None, typer.Option(help="Password for the web pages (8+ characters).")] = None,
) -> None:
    """Add a user and print a new API token for them, alone on the last line."""
    settings = settings_or_exit()
    with _session() as session:
        user = users.add_user(session=session, by=command_line(), email=email, org=org, role=role, password=password)
        _, token = users.issue_token(
            session=session, by=command_line(), email=user.email, days=settings.token_days, label="cli"
        )
        session.commit()
        console.print(f"user {user.email} ({user.role} of {user.org_code}) added; API token (shown once):")
        print(token)


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    days: Annotated[int | None, typer.Option(min=1, max=3650, help="Days valid (default NDX_TOKEN_DAYS).")] = None,
    label: Annotated[str, typer.Option(help="A label to recognise it by.")] = "cli",
) -> None:
    """Create an API token; the token is printed alone on the last line, once."""
    settings = settings_or_exit()
    with _session() as session:
        row, token = users.issue_token(
            session=session, by=command_line(), email=email, days=days or settings.token_days, label=label
        )
        session.commit()
        console.print(f"token {row.id} for {email}, valid until {row.expires_at:%Y-%m-%d}:")
        print(token)


@tokens_app.command("revoke")
def tokens_revoke(token: Annotated[str, typer.Argument(help="The token's id, or the token itself.")]) -> None:
    """Revoke a token; it stops working on the next call."""
    with _session() as session:
        if token.startswith(TOKEN_PREFIX):
            row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
            if row is None:
                fail("no such token")
            token_id = row.id
        elif token.isdigit():
            token_id = int(token)
        else:
            fail(f"{token!r}: give a token id or a token ({TOKEN_PREFIX}...)")
        users.revoke_token(session=session, by=command_line(), token_id=token_id)
        session.commit()
        console.print(f"token {token_id} revoked")


@audit_app.command("verify")
def audit_verify(
    bundle: Annotated[
        Path | None,
        typer.Option(help="Check an exported bundle instead: its folder, or the zip the API or audit page gives."),
    ] = None,
    anchors: Annotated[
        Path | None,
        typer.Option(help="Also compare with your copies of anchors: a file of 'SEQ HASH' lines (ndx audit anchors)."),
    ] = None,
) -> None:
    """Check the audit hash chain; on a problem print the first bad record's sequence number and exit 1.

    With --anchors, also check that the chain still holds the anchors you copied earlier: the one check that
    catches a chain rewritten whole by whoever controls the database."""
    try:
        copies = read_copies(anchors) if anchors is not None else {}
    except NDXError as exc:
        fail(exc.message, 2)
    if bundle is not None:
        _verify_bundle(bundle, copies, given=anchors is not None)
        return
    settings = settings_or_exit()
    engine = make_engine(settings.platform_url)
    try:
        problem, checked = verify_database(engine)
        if problem is None and copies:
            with engine.connect() as conn:
                problem = check_database(conn, copies)
    except SQLAlchemyError as exc:
        fail(f"platform database: {str(getattr(exc, 'orig', exc)).splitlines()[0]}")
    finally:
        engine.dispose()
    if problem is not None:
        console.print(f"[bold red]audit chain broken at record {problem.seq}[/]: {problem.reason}")
        print(problem.seq)
        raise typer.Exit(1)
    held = f", and it holds your {len(copies)} anchor copies" if copies else ""
    console.print(f"audit chain intact: {checked} records{held}")


def _verify_bundle(bundle: Path, copies: dict[int, str], *, given: bool) -> None:
    try:
        problem, manifest = verify_bundle(bundle, copies)
    except NDXError as exc:
        fail(exc.message, 2)
    if problem is not None:
        console.print(f"[bold red]bundle of {manifest.get('request_id')} is NOT intact[/]: {problem.reason}")
        print(problem.seq)
        raise typer.Exit(1)
    end = bundle_end(manifest)
    what = "anchor" if end.get("anchor") else "head"
    covered = anchors_covered(manifest, copies)
    if covered:
        tail = f"it matches your copies of anchors {', '.join(map(str, covered))}"
    elif given:
        tail = f"none of your anchor copies falls in its segment: compare {what} {end.get('seq')} with your copy"
    else:
        tail = f"compare it with your copy of that {what}"
    console.print(
        f"bundle intact: request {manifest['request_id']}, records {manifest['records']}, "
        f"chain up to {what} {end.get('seq')} {end.get('hash')}: {tail}"
    )


@audit_app.command("export")
def audit_export(
    request_id: Annotated[str, typer.Argument(help="The X-NDX-Request-Id of the call.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the bundle into.")],
) -> None:
    """Write the evidence bundle of one call: its records and the chain segment up to the next anchor."""
    settings = settings_or_exit()
    engine = make_engine(settings.platform_url)
    try:
        manifest = export_bundle(engine, request_id, out)
    except NDXError as exc:
        fail(exc.message)
    finally:
        engine.dispose()
    end = manifest["end"]
    what = "anchor" if end["anchor"] else "head (the chain has not reached the next anchor yet)"
    console.print(f"bundle written to {out}: records {manifest['records']}, chain up to {what} {end['seq']}")


@audit_app.command("anchors")
def audit_anchors(
    after: Annotated[int, typer.Option(min=0, help="List the anchors after this record.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="How many at most.")] = 100,
) -> None:
    """Print the chain's anchors (every 10,000th record: seq, hash, time), oldest first; keep copies of them
    to check evidence bundles against."""
    settings = settings_or_exit()
    engine = make_engine(settings.platform_url)
    try:
        with engine.connect() as conn:
            anchors = list_anchors(conn, after=after, limit=limit)
    except SQLAlchemyError as exc:
        fail(f"platform database: {str(getattr(exc, 'orig', exc)).splitlines()[0]}")
    finally:
        engine.dispose()
    for a in anchors:
        print(copy_line(a), end="")
    if not anchors:
        console.print(f"no anchor after record {after} yet (one every {ANCHOR_EVERY:,} records)")


# --- the demo ----------------------------------------------------------------------------------------------

DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("steward@bca.ndx.local", "bca", "steward"),
    ("steward@bhxh.ndx.local", "bhxh", "steward"),
    ("steward@bnnmt.ndx.local", "bnnmt", "steward"),
    ("steward@dkkd.ndx.local", "dkkd", "steward"),
    ("dev@ubnd-hcm.ndx.local", "ubnd-hcm", "developer"),
    ("steward@ubnd-hcm.ndx.local", "ubnd-hcm", "steward"),
    ("dev@thue.ndx.local", "thue", "developer"),
    ("steward@thue.ndx.local", "thue", "steward"),
    ("admin@ndx.local", "ndx", "admin"),
)


def seed_demo_accounts(*, session: Session, token_days: int) -> list[tuple[str, str, str, str]]:
    """The demo's users (created once, password reset to the demo one) with a fresh token each; earlier demo
    tokens are revoked, so what is printed is exactly what works. Returns (email, org, role, token)."""
    by = command_line()
    org_service.seed_organizations(session=session, by=by)
    if session.get(Organization, "ndx") is None:
        users.add_organization(
            session=session, by=by, code="ndx", name="Nền tảng NDX", name_en="NDX platform", kind="platform"
        )
    out = []
    for email, org, role in DEMO_ACCOUNTS:
        user = users.user_by_email(session=session, email=email)
        if user is None:
            user = users.add_user(session=session, by=by, email=email, org=org, role=role, password=DEMO_PASSWORD)
        else:
            users.set_password(session=session, user=user, password=DEMO_PASSWORD)
        for old in session.scalars(
            select(ApiToken).where(
                ApiToken.user_id == user.id, ApiToken.label == DEMO_LABEL, ApiToken.revoked_at.is_(None)
            )
        ):
            old.revoked_at = utcnow()
        _, token = users.issue_token(session=session, by=by, email=email, days=token_days, label=DEMO_LABEL)
        out.append((email, org, role, token))
    session.commit()
    return out


def print_demo_accounts(accounts: list[tuple[str, str, str, str]]) -> None:
    """A table of who is who, then one plain line per account so no terminal width cuts a token short."""
    table = Table("e-mail", "organization", "role", title=f"Demo accounts (password for all: {DEMO_PASSWORD})")
    for email, org, role, _token in accounts:
        table.add_row(email, org, role)
    console.print(table)
    console.print("API tokens (send as 'Authorization: Bearer <token>'):")
    for email, _org, _role, token in accounts:
        console.print(f"  {email:<28} {token}", highlight=False, soft_wrap=True)


def ensure_demo_secret(data_dir: Path) -> None:
    """Give the demo a session secret kept in the data dir (so restarts keep logins), unless one is set."""
    if os.environ.get("NDX_SECRET_KEY"):
        return
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    os.environ["NDX_SECRET_KEY"] = path.read_text(encoding="utf-8").strip()
