"""FastAPI dependencies of the policies routes: the authenticated caller of an API call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ndx.deps import SessionDep
from ndx.errors import Unauthenticated
from policies.auth import Caller, bearer_token, caller_for_token
from policies.models import utcnow

NO_CREDENTIALS = "authentication required: send 'Authorization: Bearer <token>'"
BAD_CREDENTIALS = "the token is unknown, expired or revoked"


def get_caller(request: Request, session: SessionDep) -> Caller:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated(NO_CREDENTIALS)
    caller = caller_for_token(session.connection(), token, now=utcnow())
    if caller is None:
        raise Unauthenticated(BAD_CREDENTIALS)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
