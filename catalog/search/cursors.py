"""Opaque keyset cursors for catalog lists: base64 JSON of the sort, the last key and a fingerprint of the
query, so a cursor cannot be replayed against another query or sort (a 422 naming ``cursor`` instead)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ndx.errors import Invalid


def query_fingerprint(toks: Sequence[str], filters: Mapping[str, Sequence[str]]) -> str:
    canon = json.dumps([list(toks), {k: sorted(v) for k, v in sorted(filters.items()) if v}], ensure_ascii=True)
    return hashlib.sha256(canon.encode()).hexdigest()[:12]


def encode_cursor(sort: str, key: list[Any], fingerprint: str) -> str:
    raw = json.dumps({"s": sort, "k": key, "f": fingerprint}, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, fingerprint: str) -> list[Any]:
    """The keyset position a cursor carries; Invalid (422, naming ``cursor``) if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        key = data["k"]
        ok = isinstance(key, list) and len(key) == 2 and isinstance(key[1], str)
    except (binascii.Error, ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise Invalid("cursor: not a cursor returned by this API", details=[{"loc": ["query", "cursor"]}])
    if data.get("s") != sort or data.get("f") != fingerprint:
        raise Invalid(
            "cursor: belongs to another query or sort; start again without a cursor",
            details=[{"loc": ["query", "cursor"]}],
        )
    if sort == "relevance" and not isinstance(key[0], int | float):
        raise Invalid("cursor: malformed relevance position", details=[{"loc": ["query", "cursor"]}])
    if sort == "metadata_modified":
        try:
            key[0] = datetime.fromisoformat(key[0])
        except (TypeError, ValueError):
            raise Invalid("cursor: malformed date position", details=[{"loc": ["query", "cursor"]}]) from None
    return list(key)


def encode_org_cursor(code: str) -> str:
    """A cursor over organizations by code (the same opaque shape as dataset cursors)."""
    return encode_cursor("code", [None, code], "organizations")


def decode_org_cursor(cursor: str) -> str:
    return str(decode_cursor(cursor, "code", "organizations")[1])
