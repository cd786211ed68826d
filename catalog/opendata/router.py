"""Downloads of the open datasets' files: streamed from disk, with byte ranges and conditional requests.

Only a resource of an active, public, open dataset whose file was materialised by the sync is served.
Starlette's FileResponse streams the file in chunks and answers ``Range`` (206, multipart for several ranges,
416 with ``Content-Range: bytes */size``) and ``If-Range``; this route adds the strong ETag (the content's
sha256), ``Last-Modified`` from the catalog, and 304 for ``If-None-Match`` / ``If-Modified-Since``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from catalog.models import Dataset, Resource
from catalog.opendata.publish import MEDIA_TYPES, open_dir
from catalog.schemas import utc
from ndx.deps import SessionDep
from ndx.errors import NotFound

router = APIRouter(include_in_schema=False)


def etag_of(resource: Resource) -> str:
    return f'"{resource.hash}"'


def _not_modified(request: Request, etag: str, modified: datetime) -> bool:
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return modified.replace(microsecond=0) <= since
    return False


def find_file(session: SessionDep, data_dir: Path, name: str, filename: str) -> tuple[Resource, Path]:
    """The open resource named by a download path and its file; NotFound for anything else."""
    ds = session.scalar(select(Dataset).where(Dataset.name == name))
    missing = NotFound(f"no open file {filename!r} in dataset {name!r}")
    if ds is None or ds.state != "active" or ds.private or ds.classification != "open":
        raise missing
    url = f"/datasets/{name}/download/{filename}"
    resource = next((r for r in ds.resources if r.url == url and r.hash), None)
    path = open_dir(data_dir) / name / filename
    if resource is None or "/" in filename or filename.startswith(".") or not path.is_file():
        raise missing
    return resource, path


@router.api_route("/datasets/{name}/download/{filename}", methods=["GET", "HEAD"])
def download(name: str, filename: str, request: Request, session: SessionDep) -> Response:
    """A published file, whole or in ranges; 304 when the client's copy is current."""
    resource, path = find_file(session, request.app.state.settings.data_dir, name, filename)
    session.rollback()  # nothing more to read: give the connection back before streaming
    etag = etag_of(resource)
    modified = utc(resource.last_modified or datetime.now(UTC))
    headers = {
        "etag": etag,
        "last-modified": format_datetime(modified.astimezone(UTC), usegmt=True),
        "cache-control": "public, max-age=300",
        "x-checksum-sha256": resource.hash or "",
    }
    if _not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    ext = filename.rsplit(".", 1)[-1]
    media_type = MEDIA_TYPES.get(ext, "application/octet-stream")
    return FileResponse(path, media_type=media_type, filename=filename, headers=headers)
