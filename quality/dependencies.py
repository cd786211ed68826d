"""Who reviews a finding: the one place where quality plugs into the platform's authentication.

The API takes the bearer-token caller of policies; the pages take the signed-in user of the session
cookie (the same reading as the access pages), when web sign-in is configured, else nobody.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ndx.deps import SessionDep
from policies.auth import Caller
from policies.dependencies import get_caller
from policies.pages_auth import page_user

ReviewerDep = Annotated[Caller, Depends(get_caller)]


def get_page_reviewer(request: Request, session: SessionDep) -> tuple[Caller, str] | None:
    """The signed-in user and the session's CSRF token, or None when nobody is signed in."""
    user = page_user(request, session)
    return (user.caller, user.csrf) if user is not None else None


PageReviewerDep = Annotated[tuple[Caller, str] | None, Depends(get_page_reviewer)]
