"""Who may call which CKAN action: the check every action makes first (CKAN's ``check_access``).

Reading the catalog is public (DESIGN.md: dataset metadata is public); writing it is for administrators.
An unknown, expired or revoked key is refused on every action, so a client with a bad key learns it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from catalog.ckan.envelope import NotAuthorized
from policies.auth import Caller

WRITE_ACTIONS = frozenset(
    {"package_create", "package_update", "package_patch", "package_delete", "resource_create", "organization_create"}
)


@dataclass(frozen=True)
class Context:
    """What an action knows of its call: the session, the caller (None when anonymous), the site's base URL."""

    session: Session
    caller: Caller | None
    base_url: str
    bad_key: bool = False

    @property
    def is_admin(self) -> bool:
        return self.caller is not None and self.caller.role == "admin"


def check_access(action: str, ctx: Context) -> None:
    """Raise NotAuthorized unless the caller may run ``action``."""
    if ctx.bad_key:
        raise NotAuthorized("the API key is unknown, expired or revoked")
    if action in WRITE_ACTIONS and not ctx.is_admin:
        who = "an anonymous caller" if ctx.caller is None else f"{ctx.caller.email} ({ctx.caller.role})"
        raise NotAuthorized(f"{action}: only an administrator may change the catalog, not {who}")
