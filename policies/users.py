"""Organizations, users and their tokens, as the CLI and the pages manage them (no web framework)."""

from __future__ import annotations

import re
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ndx.errors import Conflict, Invalid, NotFound
from policies import auth
from policies.audit_actions import By, record_action
from policies.auth import check_password, create_token, hash_password
from policies.decide import Role
from policies.models import ROLES, ApiToken, Organization, User, utcnow
from policies.schemas import ORG_CODE

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")


def add_organization(
    *, session: Session, by: By, code: str, name: str, name_en: str | None = None, kind: str = "consumer"
) -> Organization:
    """Create an organization (codes are lower-case ASCII, DESIGN.md), audited as done ``by``; the caller
    commits."""
    code = code.strip().lower()
    if not re.match(ORG_CODE, code):
        raise Invalid(f"organization code {code!r}: lower-case letters, digits and '-' only")
    if kind not in ("owner", "consumer", "platform"):
        raise Invalid(f"kind {kind!r}: owner, consumer or platform")
    if session.get(Organization, code) is not None:
        raise Conflict(f"organization {code!r} already exists")
    org = Organization(code=code, name_vi=name, name_en=name_en or name, kind=kind, created_at=utcnow())
    session.add(org)
    record_action(session, by, action="add-organization", detail={"org": code, "kind": kind, "name": name})
    return org


def add_user(*, session: Session, by: By, email: str, org: str, role: str, password: str | None = None) -> User:
    """Create a user of an organization with a role, audited as done ``by``; the caller commits."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise Invalid(f"email {email!r} is not an e-mail address")
    if role not in ROLES:
        raise Invalid(f"role {role!r}: one of {', '.join(ROLES)}")
    if session.get(Organization, org.strip().lower()) is None:
        raise NotFound(f"organization {org!r} does not exist (ndx orgs add CODE --name NAME)")
    if user_by_email(session=session, email=email) is not None:
        raise Conflict(f"user {email} already exists")
    user = User(
        email=email,
        org_code=org.strip().lower(),
        role=role,
        password_hash=hash_password(password) if password else None,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    record_action(
        session,
        by,
        action="add-user",
        detail={"email": email, "org": user.org_code, "role": role, "password": password is not None},
    )
    return user


def set_password(*, session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)


def user_by_email(*, session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def login(*, session: Session, email: str, password: str) -> User | None:
    """The user whose password this is, or None (same answer for an unknown e-mail and a wrong password)."""
    user = user_by_email(session=session, email=email)
    if user is None or not user.active:
        check_password(None, password)
        return None
    return user if check_password(user.password_hash, password) else None


def issue_token(*, session: Session, by: By, email: str, days: int, label: str = "") -> tuple[ApiToken, str]:
    """A new API token for the user, audited as done ``by`` (its id and expiry, never the token)."""
    user = user_by_email(session=session, email=email)
    if user is None:
        raise NotFound(f"user {email} does not exist")
    row, token = create_token(session=session, user=user, days=days, label=label)
    detail = {"token_id": row.id, "email": user.email, "expires_at": row.expires_at.isoformat(), "label": label}
    record_action(session, by, action="create-token", detail=detail)
    return row, token


def revoke_token(*, session: Session, by: By, token_id: int, user_id: int | None = None) -> ApiToken:
    """Revoke a token (of ``user_id`` when given: users revoke only their own), audited as done ``by``; it
    stops working on the next call. The caller commits."""
    row = auth.revoke_token(session=session, token_id=token_id, user_id=user_id)
    record_action(session, by, action="revoke-token", detail={"token_id": token_id, "user_id": row.user_id})
    return row


def tokens_of(*, session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())))


def role_of(user: User) -> Role:
    return cast(Role, user.role)
