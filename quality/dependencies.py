"""Who reviews a finding: the one place where quality plugs into the platform's authentication.

The API takes the bearer-token caller of policies; the pages take the signed-in user of the session
cookie, when the app has web sessions configured (``app.state.sessions``), else nobody.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ndx.deps import SessionDep
from policies.auth import SESSION_COOKIE, Caller, Sessions, caller_for_user
from policies.dependencies import get_caller

ReviewerDep = Annotated[Caller, Depends(get_caller)]


def get_page_reviewer(request: Request, session: SessionDep) -> tuple[Caller, str] | None:
    """The signed-in user and the session's CSRF token, or None when nobody is signed in."""
    sessions: Sessions | None = getattr(request.app.state, "sessions", None)
    if sessions is None:
        return None
    read = sessions.read(request.cookies.get(SESSION_COOKIE))
    if read is None:
        return None
    user_id, csrf = read
    caller = caller_for_user(session, user_id)
    return (caller, csrf) if caller is not None else None


PageReviewerDep = Annotated[tuple[Caller, str] | None, Depends(get_page_reviewer)]
