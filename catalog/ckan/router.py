"""CKAN's Action API: ``/api/action/{name}`` and ``/api/3/action/{name}``, GET or POST (JSON or form).

Thin: read the arguments and the key, validate them with the action's schema, run the action in the thread
pool with its own session, and wrap the answer in CKAN's envelope; every failure leaves through
``envelope.as_action_error``. The key is the raw token in ``Authorization`` (or ``X-CKAN-API-Key``), as
ckanapi sends it; ``Bearer <token>`` is accepted too.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from catalog.ckan.access import Context, check_access
from catalog.ckan.envelope import (
    ActionError,
    BadRequest,
    SearchQueryError,
    as_action_error,
    failure,
    pydantic_fields,
    success,
)
from catalog.ckan.registry import ACTIONS, Action
from catalog.ckan.schemas import PackageSearchIn
from policies.auth import caller_for_token
from policies.models import utcnow

router = APIRouter(include_in_schema=False)


def api_key(request: Request) -> str | None:
    for header in ("authorization", "x-ckan-api-key"):
        value = request.headers.get(header, "").strip()
        if value:
            scheme, _, rest = value.partition(" ")
            return rest.strip() if scheme.lower() == "bearer" and rest.strip() else value
    return None


async def arguments(request: Request) -> dict[str, Any]:
    """The action's arguments: the query string on GET, the JSON object or form on POST."""
    if request.method == "GET":
        return dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "form" in content_type:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadRequest("Bad request - JSON Error: could not read the request body") from None
    if not isinstance(data, dict):
        raise BadRequest("Bad request - JSON Error: the request body must be a JSON object")
    return data


def validate(name: str, action: Action, args: dict[str, Any]) -> Any:
    try:
        return action.schema.model_validate(args)
    except ValidationError as exc:
        if action.schema is PackageSearchIn:
            problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in pydantic_fields(exc).items())
            raise SearchQueryError(f"Invalid search parameters: {problems}") from None
        raise as_action_error(exc) from None


def execute(request: Request, name: str, action: Action, args: dict[str, Any], key: str | None, base_url: str) -> Any:
    """Who calls, may they (before anything about the input is said), is the input valid, then the action."""
    with request.app.state.sessionmaker() as session:
        try:
            caller = caller_for_token(session.connection(), key, now=utcnow()) if key else None
            ctx = Context(session=session, caller=caller, base_url=base_url, bad_key=key is not None and caller is None)
            check_access(name, ctx)
            return action.fn(ctx, validate(name, action, args))
        except Exception:
            session.rollback()
            raise


async def call(name: str, request: Request) -> Response:
    base_url = str(request.base_url).rstrip("/")
    action = ACTIONS.get(name)
    try:
        if action is None:
            raise BadRequest(f"Bad request - Action name not known: {name}")
        args = await arguments(request)
        result = await run_in_threadpool(execute, request, name, action, args, api_key(request), base_url)
    except Exception as exc:  # mapped to CKAN's errors; anything unexpected is re-raised as a 500
        error: ActionError = as_action_error(exc)
        return failure(base_url, name, error)
    return success(base_url, name, result)


@router.api_route("/api/action/{name}", methods=["GET", "POST"])
async def action_route(name: str, request: Request) -> Response:
    """Run one CKAN action (the path ckanapi calls)."""
    return await call(name, request)


@router.api_route("/api/3/action/{name}", methods=["GET", "POST"])
async def action_route_v3(name: str, request: Request) -> Response:
    """Run one CKAN action (API version 3, the path most clients call)."""
    return await call(name, request)
