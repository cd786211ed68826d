"""Audit records of the actions that change who may do what: organizations, accounts, tokens, requests,
grants and policy reloads. Each is appended in the caller's transaction, so the change and its record
commit together or not at all."""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy.orm import Session

from policies.audit import AuditEntry, append
from policies.auth import Caller
from policies.models import utcnow

# Who acted, when it is not a signed-in user: the command line (with the operating-system account that ran
# it) or the platform itself (e.g. a grant expiring).
By = Caller | str | None


def command_line() -> str:
    """How the command line signs its actions: ``cli:<operating-system user>``."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        who = "unknown"
    return f"cli:{who}"


def record_action(session: Session, by: By, *, action: str, kind: str = "admin", status: int = 200, **kw: Any) -> None:
    """Append one record of ``action`` done by ``by`` to the audit chain, inside ``session``'s transaction."""
    caller = by if isinstance(by, Caller) else None
    entry = AuditEntry(
        kind=kind,
        at=utcnow(),
        status=status,
        user_id=caller.user_id if caller else None,
        user=caller.email if caller else (by if isinstance(by, str) else None),
        org_code=caller.org if caller else None,
        action=action,
        **kw,
    )
    append(session.connection(), [entry])
