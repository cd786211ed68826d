"""Evidence bundles: the audit records of one request and the chain segment that ties them to an anchor.

``export_bundle`` writes ``manifest.json`` and ``records.jsonl``: the records from the first one of the
request up to the first anchor at or after its last one (``policies.audit_anchors``: every 10,000th record,
published; the head while the chain has not reached it), so a bundle holds at most 10,000 records besides
the request's own, however long the chain. The request's records carry their payloads, every other one
(another agency's call) only the sha256 of its payload, which its hash covers (``hash_v`` 2; a record
written before migration p0004, ``hash_v`` 1, must show its payload). ``verify_bundle`` checks such a
folder with nothing but the standard library's sha256 and JSON: every record's hash, every link, that the
request's records are in the segment with their payloads, and that the segment ends at the hash the
manifest names (``end``), which an auditor compares with their copy of that anchor (or of the head).
Bundles of formats /1 and /2 (which ended at the head, named ``head``) still verify.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from ndx.errors import Invalid, NotFound
from policies.audit import GENESIS, HEAD, RECORDS, sha256_hex
from policies.audit_anchors import anchor_for, compare_copies
from policies.audit_verify import Problem, StoredRecord, check_chain

FORMAT = "ndx-audit-bundle/3"
# /1: every line with its payload, all hashed over the text; /1 and /2 end at the head (``head``), /3 at ``end``
FORMATS = ("ndx-audit-bundle/1", "ndx-audit-bundle/2", FORMAT)
README = """NDX audit evidence bundle

manifest.json   the request id, the sequence numbers of its records, and where the segment ends (end: seq,
                hash, and whether that record is a published anchor or was the chain's head at export)
records.jsonl   one record per line, in order: seq, prev_hash, hash, hash_v, and either payload
                (canonical JSON: the request's own records) or payload_sha256 (other calls, not shown)

With hash_v 2 a record's hash is sha256(prev_hash + "\\n" + payload_sha256), where payload_sha256 is the
sha256 of the payload's UTF-8 text; with hash_v 1 (older records) sha256(prev_hash + "\\n" + payload). All
in hex; each prev_hash is the hash of the line before; the last hash is the end's. Compare the end with your
copy of that anchor (GET /api/v1/audit/anchors lists every 10,000th record as it is written). Check with
`ndx audit verify --bundle DIR` or any sha256 tool.
"""


def build_bundle(conn: Connection, request_id: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The bundle of ``request_id``: its manifest and its files (name -> content), built in memory (at most
    ``ANCHOR_EVERY`` records besides the request's own, a few MB)."""
    seqs = [
        int(s)
        for s in conn.scalars(select(RECORDS.c.seq).where(RECORDS.c.request_id == request_id).order_by(RECORDS.c.seq))
    ]
    if not seqs:
        raise NotFound(f"no audit record has request id {request_id!r}")
    head = int(conn.execute(select(HEAD.c.seq).where(HEAD.c.id == 1)).scalar_one())
    end = min(anchor_for(seqs[-1]), head)
    rows = conn.execute(
        select(RECORDS.c.seq, RECORDS.c.prev_hash, RECORDS.c.hash, RECORDS.c.hash_v, RECORDS.c.payload)
        .where(RECORDS.c.seq >= seqs[0], RECORDS.c.seq <= end)
        .order_by(RECORDS.c.seq)
    ).all()
    if not rows or int(rows[-1].seq) != end:
        raise Invalid(f"the audit chain has no record {end}: run `ndx audit verify`")
    own = set(seqs)
    hidden = 0
    lines = []
    for r in rows:
        line: dict[str, Any] = {"seq": r.seq, "prev_hash": r.prev_hash, "hash": r.hash, "hash_v": r.hash_v}
        if r.seq in own or r.hash_v == 1:
            line["payload"] = r.payload
        else:
            line["payload_sha256"] = sha256_hex(r.payload)
            hidden += 1
        lines.append(json.dumps(line) + "\n")
    manifest = {
        "format": FORMAT,
        "request_id": request_id,
        "records": seqs,
        "end": {"seq": end, "hash": str(rows[-1].hash), "anchor": end == anchor_for(seqs[-1])},
        "hash": {"2": 'sha256(prev_hash + "\\n" + payload_sha256)', "1": 'sha256(prev_hash + "\\n" + payload)'},
        "shown_by_digest_only": hidden,
        "exported_at": datetime.now(UTC).isoformat(),
    }
    files = {
        "manifest.json": (json.dumps(manifest, indent=2) + "\n").encode("utf-8"),
        "records.jsonl": "".join(lines).encode("utf-8"),
        "README.txt": README.encode("utf-8"),
    }
    return manifest, files


def export_bundle(engine: Engine, request_id: str, out_dir: Path) -> dict[str, Any]:
    """Write the bundle of ``request_id`` into the folder ``out_dir``; returns the manifest."""
    with engine.connect() as conn:
        manifest, files = build_bundle(conn, request_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out_dir / name).write_bytes(content)
    return manifest


def bundle_zip(files: dict[str, bytes]) -> bytes:
    """The bundle's files as one zip archive (what the API and the audit page hand out)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _read_records(text: str, where: str) -> list[StoredRecord]:
    records = []
    for n, line in enumerate(text.splitlines(), start=1):
        try:
            d = json.loads(line)
            payload, digest = d.get("payload"), d.get("payload_sha256")
            records.append(
                StoredRecord(
                    int(d["seq"]),
                    str(d["prev_hash"]),
                    str(d["hash"]),
                    None if payload is None else str(payload),
                    hash_v=int(d.get("hash_v", 1)),
                    payload_sha256=None if digest is None else str(digest),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Invalid(f"{where}:{n}: not a bundle record") from None
    return records


def _read_bundle(path: Path) -> tuple[str, str]:
    """The texts of manifest.json and records.jsonl, from a bundle folder or its zip archive."""
    if not path.exists():
        raise Invalid(f"{path}: no such folder or file")
    if path.is_file():
        try:
            with zipfile.ZipFile(path) as archive:
                return (
                    archive.read("manifest.json").decode("utf-8"),
                    archive.read("records.jsonl").decode("utf-8"),
                )
        except zipfile.BadZipFile:
            raise Invalid(f"{path}: not an audit bundle (neither a folder nor a zip archive)") from None
        except KeyError as exc:
            raise Invalid(f"{path}: not an audit bundle ({exc.args[0]})") from None
        except UnicodeDecodeError:
            raise Invalid(f"{path}: not an audit bundle (not UTF-8 text)") from None
    try:
        return (
            (path / "manifest.json").read_text(encoding="utf-8"),
            (path / "records.jsonl").read_text(encoding="utf-8"),
        )
    except OSError as exc:
        raise Invalid(f"{path}: not an audit bundle ({exc.strerror}: {exc.filename})") from None
    except UnicodeDecodeError:
        raise Invalid(f"{path}: not an audit bundle (not UTF-8 text)") from None


def verify_bundle(folder: Path, copies: Mapping[int, str] | None = None) -> tuple[Problem | None, dict[str, Any]]:
    """Check a bundle (a folder, or its zip archive), and its records against the anchor ``copies`` that
    fall in its segment (``anchors_covered`` says which); the first problem (None when it holds) and the
    manifest."""
    manifest_text, records_text = _read_bundle(folder)
    try:
        manifest = json.loads(manifest_text)
    except ValueError:
        raise Invalid(f"{folder}/manifest.json: not JSON") from None
    records = _read_records(records_text, f"{folder}/records.jsonl")
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS:
        raise Invalid(f"{folder}/manifest.json: not an {FORMAT} manifest")
    wanted: list[int] = list(manifest.get("records") or [])
    if not records:
        return Problem(wanted[0] if wanted else 0, "the bundle holds no records"), manifest
    first = records[0]
    first_prev = GENESIS if first.seq == 1 else None
    problem, last_seq, last_hash = check_chain(records, first_seq=first.seq, first_prev=first_prev)
    if problem is not None:
        return problem, manifest
    by_seq = {r.seq: r for r in records}
    for seq in wanted:
        rec = by_seq.get(seq)
        if (
            rec is None
            or rec.payload is None
            or json.loads(rec.payload).get("request_id") != manifest.get("request_id")
        ):
            return Problem(seq, f"record {seq} of request {manifest.get('request_id')} is not in the bundle"), manifest
    end = bundle_end(manifest)
    if end.get("seq") != last_seq or end.get("hash") != last_hash:
        return Problem(
            last_seq + 1, f"the segment ends at {last_seq}, the manifest names record {end.get('seq')}"
        ), manifest
    if copies:
        covered = {seq: copies[seq] for seq in anchors_covered(manifest, copies)}
        return compare_copies({r.seq: r.hash for r in records if r.seq in covered}, covered), manifest
    return None, manifest


def anchors_covered(manifest: dict[str, Any], copies: Mapping[int, str]) -> list[int]:
    """The anchors among ``copies`` that a bundle's segment spans (from its request's first record to its end)."""
    first = min(manifest.get("records") or [0])
    last = bundle_end(manifest).get("seq")
    if not isinstance(last, int):
        return []
    return sorted(seq for seq in copies if first <= seq <= last)


def bundle_end(manifest: dict[str, Any]) -> dict[str, Any]:
    """Where a bundle's segment ends: ``end`` (format /3) or ``head`` (formats /1 and /2)."""
    end = manifest.get("end" if manifest.get("format") == FORMAT else "head")
    return end if isinstance(end, dict) else {}
