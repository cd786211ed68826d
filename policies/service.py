"""Organizations: plain functions over a session, no web framework."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ndx.errors import NotFound
from policies.audit_actions import By, record_action
from policies.models import Organization
from policies.rules_files import RULES_DIR, load_rules
from policies.schemas import OrganizationRule, OrganizationsFile


def organization_rules(path: Path | None = None) -> list[OrganizationRule]:
    return load_rules(path or RULES_DIR / "organizations.yaml", OrganizationsFile).organizations


def owner_of_source(source: str) -> OrganizationRule:
    """The agency that owns a source database, from the rules file."""
    for rule in organization_rules():
        if rule.source == source:
            return rule
    raise NotFound(f"no organization owns source {source!r} in organizations.yaml")


def upsert_organization(*, session: Session, rule: OrganizationRule) -> Organization:
    """Create the organization or bring its names and kind up to date; the caller commits."""
    org = session.get(Organization, rule.code)
    if org is None:
        org = Organization(code=rule.code, name_vi=rule.name_vi, name_en=rule.name_en, kind=rule.kind)
        session.add(org)
    else:
        org.name_vi, org.name_en, org.kind = rule.name_vi, rule.name_en, rule.kind
    return org


def seed_organizations(*, session: Session, by: By) -> list[Organization]:
    """Load every organization of the rules file; idempotent. What it creates or changes is audited, in the
    same transaction, as done by ``by``; a load that changes nothing writes no record."""
    created: list[str] = []
    updated: list[str] = []
    orgs = []
    for rule in organization_rules():
        old = session.get(Organization, rule.code)
        before = None if old is None else (old.name_vi, old.name_en, old.kind)
        orgs.append(upsert_organization(session=session, rule=rule))
        if before is None:
            created.append(rule.code)
        elif before != (rule.name_vi, rule.name_en, rule.kind):
            updated.append(rule.code)
    if created or updated:
        detail = {"file": "policies/rules/organizations.yaml", "created": created, "updated": updated}
        record_action(session, by, action="seed-organizations", detail=detail)
    session.commit()
    return orgs


def list_organizations(*, session: Session) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.code)))


def get_organization(*, session: Session, code: str) -> Organization:
    org = session.get(Organization, code)
    if org is None:
        raise NotFound(f"organization {code!r} does not exist")
    return org
