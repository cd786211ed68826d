"""HTTP routes of the controlled query and verification APIs (thin: the gateway does the work).

The records route is the hot path: an ``async def`` with a single path parameter and the raw request, so
FastAPI's per-call machinery stays small; its query parameters and headers are documented through
``openapi_extra`` and parsed by ``connectors.query``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from connectors.gateway import Answer, Call, DataGateway
from ndx.observability import request_id_of
from ndx.web import error_responses

router = APIRouter(prefix="/api/v1", tags=["data"])
DatasetName = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]
ClaimValue = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=255)]
PURPOSE_DOC = "Purpose of the call: one of the grant's purposes (a purpose code of the dataset)."
CASE_DOC = "Optional case or file reference the call is made for; kept in the audit record."


class RecordPage(BaseModel):
    items: list[dict[str, Any]] = Field(description="Records: granted fields only, masked fields masked.")
    next_cursor: str | None = Field(description="Opaque cursor of the next page, null on the last page.")


class VerifyIn(BaseModel):
    """The citizen_id to look up and the claimed value of each field to check."""

    model_config = ConfigDict(
        extra="allow", strict=True, json_schema_extra={"additionalProperties": {"type": "string"}}
    )
    __pydantic_extra__: dict[str, ClaimValue] = Field(init=False)

    citizen_id: Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]{12}$")]


class VerifyOut(BaseModel):
    match: bool = Field(description="A record was found and every claimed field matches it.")
    fields: dict[str, bool] = Field(description="Per claimed field: does it match.")


def _header(name: str, doc: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": doc, "schema": {"type": "string"}}


def _query(name: str, doc: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": doc, "schema": schema}


RECORDS_PARAMETERS = [
    _query("fields", "Comma-separated fields to return (default: every granted field).", {"type": "string"}),
    _query("limit", "Records per page (1-1000, default 100).", {"type": "integer", "minimum": 1, "maximum": 1000}),
    _query("cursor", "The next_cursor of the previous page.", {"type": "string"}),
    _header("X-NDX-Purpose", PURPOSE_DOC),
    _header("X-NDX-Case", CASE_DOC),
]
ANSWER_HEADERS = {
    "X-NDX-Request-Id": {"description": "Id of this call in the audit log", "schema": {"type": "string"}},
    "X-NDX-Request-Hash": {"description": "sha256 of the canonical request", "schema": {"type": "string"}},
    "X-NDX-Response-Hash": {
        "description": "sha256(request hash + body): binds answer to request",
        "schema": {"type": "string"},
    },
    "X-NDX-Audit-Seq": {"description": "Sequence number of the audit record", "schema": {"type": "integer"}},
}


_WANTED = {b"authorization": 0, b"x-ndx-purpose": 1, b"x-ndx-case": 2}


def _query_items(qs: str) -> list[tuple[str, str]]:
    """``parse_qsl(qs, keep_blank_values=True)``; without escapes (no ``%`` or ``+``) by plain splitting,
    which gives the same pairs."""
    if "%" in qs or "+" in qs:
        return parse_qsl(qs, keep_blank_values=True)
    return [(k, v) for k, _, v in (part.partition("=") for part in qs.split("&") if part)]


def _call(request: Request) -> Call:
    """The call, read straight from the ASGI scope with Starlette's rules (first header of a name wins,
    latin-1; the query string parsed as ``request.query_params``; the path as ``request.url.path``),
    without building the request's URL, header and query-parameter objects."""
    scope = request.scope
    found: list[str | None] = [None, None, None]
    for key, value in scope["headers"]:
        i = _WANTED.get(key)
        if i is not None and found[i] is None:
            found[i] = value.decode("latin-1")
    path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    return Call(
        request_id=request_id_of(scope) or "",
        method=scope["method"],
        path=path,
        query=_query_items(scope.get("query_string", b"").decode("latin-1")),
        authorization=found[0],
        purpose=found[1],
        case=found[2],
    )


class _Answered(Response):
    """``Response(answer.body, media_type="application/json", headers=answer.headers)``, its raw headers
    built directly (the same list, in the same order, as Starlette's ``init_headers`` builds)."""

    media_type = "application/json"

    def __init__(self, answer: Answer) -> None:
        self.status_code = 200
        self.background = None
        self.body = answer.body
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
        raw.append((b"content-length", str(len(answer.body)).encode("latin-1")))
        raw.append((b"content-type", b"application/json"))
        self.raw_headers = raw


def _respond(answer: Answer) -> Response:
    return _Answered(answer)


_DATASET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")  # DatasetName's rule, matched in full


class _RecordsRoute(APIRoute):
    """The records route: a valid dataset name goes straight to the endpoint, without FastAPI's dependency
    solving (the endpoint takes the name and the raw request, nothing else); anything else goes through
    FastAPI's own handler, so a bad name is the same 422. The route documents itself as any other."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        if self.dependencies:  # pragma: no cover  (none today; with dependencies, FastAPI must solve them)
            return standard

        async def handler(request: Request) -> Response:
            name = request.scope.get("path_params", {}).get("name")
            if isinstance(name, str) and _DATASET_NAME.fullmatch(name):
                return await query_records(name, request)
            return await standard(request)

        return handler


async def query_records(name: DatasetName, request: Request) -> Response:
    """Records of a dataset under the caller's grant. Filter with `<column>=<value>` on the dataset's filter
    columns (`a,b` or a repeated parameter for a list; `<column>__gte=` / `__gt` / `__lte` / `__lt` on dates
    and numbers). Unknown or ungranted fields are a 403 naming them."""
    gateway: DataGateway = request.app.state.gateway
    return _respond(await gateway.query(name, _call(request)))


router.add_api_route(
    "/datasets/{name}/records",
    query_records,
    methods=["GET"],
    response_class=Response,
    responses={
        200: {"model": RecordPage, "description": "A page of records", "headers": ANSWER_HEADERS},
        **error_responses(400, 401, 403, 404, 422, 429, 503),
    },
    openapi_extra={"parameters": RECORDS_PARAMETERS},
    route_class_override=_RecordsRoute,
)


@router.post(
    "/datasets/{name}/verify",
    response_model=VerifyOut,
    responses={
        200: {"description": "Yes or no per field", "headers": ANSWER_HEADERS},
        **error_responses(400, 401, 403, 404, 422, 429, 503),
    },
)
async def verify_record(
    name: DatasetName,
    body: VerifyIn,
    request: Request,
    x_ndx_purpose: Annotated[str | None, Header(description=PURPOSE_DOC)] = None,
    x_ndx_case: Annotated[str | None, Header(description=CASE_DOC)] = None,
) -> Response:
    """Does the person with this citizen_id have these field values? Yes or no per field; no data returned.
    Needs a grant with a purpose of kind `verify` covering the compared fields."""
    gateway: DataGateway = request.app.state.gateway
    claims = dict(body.__pydantic_extra__ or {})
    return _respond(await gateway.verify(name, _call(request), body.citizen_id, claims))
