"""Benchmark of the query API: a point lookup by citizen_id through the full stack against the same SQL bare.

    python bench/query.py [--people 1000000] [--duration 5] [--connections 32] [--workers 1 2] [--keep DIR]
                          [--rounds 3]
                          [--bare first|last]

Builds a population source of N synthetic citizens (plain executemany), a platform database with a consumer
agency, its developer's token and an approved grant, then serves the app with uvicorn over loopback and loads
it with wrk (Debian package `wrk`):

- full: ``GET /api/v1/datasets/population-citizen/records?citizen_id=...`` with the bearer token and
  ``X-NDX-Purpose``: token check, grant loaded, ``decide``, rate limit, bound select, masking, and the audit
  record committed durably (SQLite WAL, synchronous=FULL, group commit) before the answer;
- bare: ``GET /bench/bare/{citizen_id}``, mounted by this script's app factory only, and matched before
  every other route (``--bare last``: after them): the same compiled select on the same engine and direct
  connection, serialised the same way, nothing else.

Prints requests/s, p50 and p99 for each, and the time ratio bare/full (= full req/s over bare req/s inverted:
how many times longer a full call takes), for one worker and for two. Also checks the audit chain afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIELDS = ["citizen_id", "full_name", "date_of_birth", "sex", "address"]
PURPOSE = "social-assistance"
LUA = """
math.randomseed(os.time())
local n = {n}
local path = "{path}"
request = function()
  local id = string.format("07909%07d", math.random(0, n - 1))
  return wrk.format("GET", string.format(path, id), {headers})
end
"""


def build_population(path: Path, people: int) -> None:
    """citizen_id = '07909' + 7 digits; plain executemany in batches."""
    from sqlalchemy import create_engine

    from connectors.schema import population

    engine = create_engine(f"sqlite:///{path}")
    population.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    rnd = random.Random(1)
    family, middle, given = ("Nguyễn", "Trần", "Lê", "Phạm"), ("Văn", "Thị", "Minh"), ("An", "Bình", "Thủy", "Hòa")
    base = date(1940, 1, 1)
    sql = "INSERT INTO citizen VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    batch: list[tuple[Any, ...]] = []
    for i in range(people):
        dob = (base + timedelta(days=rnd.randrange(0, 70 * 365))).isoformat()
        batch.append(
            (
                f"07909{i:07d}",
                f"{rnd.choice(family)} {rnd.choice(middle)} {rnd.choice(given)}",
                dob,
                rnd.choice("MF"),
                "Kinh",
                "79",
                "79",
                f"Số {i % 999} đường Lê Lợi, phường Bến Nghé, quận 1",
                None,
                "alive",
                None,
                "2025-01-01 00:00:00.000000",
            )
        )
        if len(batch) == 50_000:
            conn.executemany(sql, batch)
            batch.clear()
    conn.executemany(sql, batch)
    conn.commit()
    conn.close()


def prepare(workdir: Path, people: int) -> tuple[dict[str, str], str]:
    """Sources, migrated platform database, accounts and a grant; the environment and the token."""
    from sqlalchemy.orm import Session

    from ndx import server
    from ndx.db import make_engine
    from ndx.settings import load_settings
    from policies import access, users
    from policies import service as org_service
    from policies.auth import Caller
    from policies.schemas_access import AccessRequestIn, ApproveIn

    sources = workdir / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    build_population(sources / "population.db", people)
    print(f"population source: {people:,} citizens in {time.perf_counter() - t0:.1f}s", flush=True)
    from sqlalchemy import create_engine

    from connectors.schema import SOURCES

    for name in ("insurance", "land", "enterprise"):
        eng = create_engine(f"sqlite:///{sources / (name + '.db')}")
        SOURCES[name].create_all(eng)
        eng.dispose()
    env = {
        "NDX_DATA_DIR": str(workdir),
        "NDX_LOG_LEVEL": "warning",
        **{f"NDX_SOURCE_{n.upper()}": f"sqlite:///{sources / (n + '.db')}" for n in SOURCES},
    }
    settings = load_settings(data_dir=workdir, **{k[4:].lower(): v for k, v in env.items() if k != "NDX_DATA_DIR"})
    server.migrate(settings)
    engine = make_engine(settings.platform_url)
    with Session(engine) as session:
        org_service.seed_organizations(session=session, by="bench")
        dev = users.add_user(session=session, by="bench", email="dev@ubnd-hcm.bench", org="ubnd-hcm", role="developer")
        steward = users.add_user(session=session, by="bench", email="steward@bca.bench", org="bca", role="steward")
        _, token = users.issue_token(session=session, by="bench", email=dev.email, days=1)
        session.commit()
        as_dev = Caller(dev.id, dev.email, "ubnd-hcm", "developer")
        as_steward = Caller(steward.id, steward.email, "bca", "steward")
        body = AccessRequestIn(
            dataset="population-citizen", fields=FIELDS, purpose=PURPOSE, legal_basis="bench", days=1
        )
        req = access.create_request(session=session, caller=as_dev, body=body)
        access.approve_request(session=session, caller=as_steward, request_id=req.id, body=ApproveIn())
    engine.dispose()
    return env, token


def bench_app() -> Any:
    """The app factory uvicorn serves: NDX's app, the bench's generous rate, and the bare route."""
    import connectors.gateway as gateway
    from connectors import query as q
    from connectors.gateway import dumps
    from connectors.schema import citizen
    from ndx.app import create_app
    from policies.rules_model import RateRule, load_dataset_rules

    rules = load_dataset_rules()
    rule = rules["population-citizen"].model_copy(
        update={"rate": RateRule(requests_per_minute=10**9, rows_per_day=10**12)}
    )
    rules["population-citizen"] = rule
    gateway.dataset_rules = lambda: rules  # type: ignore[attr-defined]  # the limiter still counts every call
    app = create_app()

    @app.get("/bench/bare/{citizen_id}", include_in_schema=False)
    async def bare(citizen_id: str, request: Request) -> Response:
        params = q.parse_params(rule, citizen, [("citizen_id", citizen_id)])
        stmt = q.compile_select(citizen, rule, fields=FIELDS, row_filter={}, filters=params.filters, limit=100)
        direct = request.app.state.gateway.direct("population")
        columns, rows = q.fetch(direct, stmt, source="population", timeout_s=5)
        items, nxt, _, _ = q.shape(rows, columns, rule, fields=FIELDS, masks={}, limit=100)
        return Response(dumps({"items": items, "next_cursor": nxt}), media_type="application/json")

    # matched first: the baseline pays no routing through NDX's other routes (the full route pays its own);
    # NDX_BENCH_BARE=last matches it after every NDX route, as this bench did before (the two figures differ
    # by the cost of routing through NDX's ~50 routes, about 100 us a call on this machine)
    if os.environ.get("NDX_BENCH_BARE", "first") == "first":
        app.router.routes.insert(0, app.router.routes.pop())
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[None]:
        async with serve(a):
            yield
        w = a.state.audit_writer
        ms = w.write_seconds * 1e3 / max(w.batches, 1)
        c = w.checkpointer
        waits = w.turn_waits
        wal = f"; {c.checkpoints:,} WAL checkpoints, longest log {c.max_frames:,} pages" if c else ""
        s = w.subjects
        subjects = f"; subject index: {s.flushes} flushes, {s.merges} merges, longest step {s.longest_s * 1e3:.1f} ms"
        print(
            f"worker {os.getpid()}: {w.records:,} audit records in {w.batches:,} batches "
            f"({w.records / max(w.batches, 1):.1f} records, {ms:.2f} ms each; {waits:,} waits for a turn; "
            f"{w.stale:,} stale){wal}"
            f"{subjects}",
            file=sys.stderr,
            flush=True,
        )

    app.router.lifespan_context = lifespan
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def server_cpu_seconds(root: int) -> tuple[float, float]:
    """User and system CPU seconds of process ``root`` and all its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]) / tick, int(fields[12]) / tick)
    user = system = 0.0
    todo = [root]
    while todo:
        pid = todo.pop()
        _, u, k = stats.get(pid, (0, 0.0, 0.0))
        user, system = user + u, system + k
        todo.extend(child for child, (parent, _, _) in stats.items() if parent == pid)
    return user, system


# req/s, p50 ms, p99 ms, non-2xx, server CPU us per request, of which in the kernel (I/O, fsync, sockets)
Run = tuple[float, float, float, int, float, float]


def run_wrk(port: int, script: Path, *, duration: int, connections: int, server: int = 0) -> Run:
    cpu0 = server_cpu_seconds(server) if server else (0.0, 0.0)
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    cpu1 = server_cpu_seconds(server) if server else (0.0, 0.0)
    per = 1e6 / max(requests, 1)
    cpu_us, sys_us = (cpu1[0] - cpu0[0] + cpu1[1] - cpu0[1]) * per, (cpu1[1] - cpu0[1]) * per
    return rps, pct("50"), pct("99"), int(non2xx.group(1)) if non2xx else 0, cpu_us, sys_us


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=3, help="Alternating full/bare runs per worker count (medians).")
    ap.add_argument("--keep", type=Path, help="Work in this folder and keep it (reused when it holds a bench).")
    ap.add_argument(
        "--bare",
        choices=("first", "last"),
        default="first",
        help="Match the bare route before NDX's routes (default) or after them (the bench's former baseline).",
    )
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="ndx-bench-"))
    saved = workdir / "bench.json"
    if saved.exists():  # --keep: reuse the sources, accounts and grant built by an earlier run
        env, token = json.loads(saved.read_text())
    else:
        env, token = prepare(workdir, args.people)
        saved.write_text(json.dumps([env, token]))
    env = {**os.environ, **env, "PYTHONPATH": str(ROOT), "NDX_BENCH_BARE": args.bare}
    headers = f'{{["Authorization"] = "Bearer {token}", ["X-NDX-Purpose"] = "{PURPOSE}"}}'
    scripts = {
        "full": LUA.format(
            n=args.people, path="/api/v1/datasets/population-citizen/records?citizen_id=%s", headers=headers
        ),
        "bare": LUA.format(n=args.people, path="/bench/bare/%s", headers="nil"),
    }
    paths = {}
    for name, lua in scripts.items():
        paths[name] = workdir / f"{name}.lua"
        paths[name].write_text(lua)
    results: dict[tuple[int, str], list[Run]] = {}
    for workers in args.workers:
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.query:bench_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
        try:
            wait_up(port)
            for name in ("full", "bare"):
                run_wrk(port, paths[name], duration=1, connections=args.connections)  # warm up
            for _ in range(args.rounds):  # alternating, so a burst of load elsewhere hits both routes alike
                for name in ("full", "bare"):
                    runs = results.setdefault((workers, name), [])
                    run = run_wrk(
                        port, paths[name], duration=args.duration, connections=args.connections, server=proc.pid
                    )
                    runs.append(run)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(
        f"\npoint lookup by citizen_id, {args.people:,} citizens, wrk -t2 -c{args.connections} -d{args.duration}s, "
        f"median of {args.rounds} alternating runs"
    )
    print(
        f"{'workers':>7} {'route':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'CPU us/req':>10}"
        f" {'(kernel)':>8}"
        "  runs (req/s)"
    )
    for (workers, name), runs in results.items():
        rps, p50, p99 = (statistics.median(r[i] for r in runs) for i in range(3))
        cpu = statistics.median(r[4] for r in runs)
        kernel = statistics.median(r[5] for r in runs)
        bad = sum(r[3] for r in runs)
        each = " ".join(f"{r[0]:,.0f}" for r in runs)
        print(
            f"{workers:>7} {name:>5} {rps:>9,.0f} {p50:>8.2f} {p99:>8.2f} {bad:>8} {cpu:>10.0f} {kernel:>8.0f}  {each}"
        )
    for workers in args.workers:
        full = statistics.median(r[0] for r in results[(workers, "full")])
        bare = statistics.median(r[0] for r in results[(workers, "bare")])
        pairs = " ".join(
            f"{b[0] / f[0]:.2f}" for f, b in zip(results[(workers, "full")], results[(workers, "bare")], strict=True)
        )
        cpu_full = statistics.median(r[4] for r in results[(workers, "full")])
        cpu_bare = statistics.median(r[4] for r in results[(workers, "bare")])
        print(
            f"{workers} worker(s): time ratio full/bare = {bare / full:.2f} (bare {bare:,.0f} / full {full:,.0f} "
            f"req/s; per round {pairs}); server CPU per request full/bare = {cpu_full / max(cpu_bare, 1e-9):.2f}"
        )
    from ndx.db import make_engine
    from ndx.settings import load_settings
    from policies.audit_verify import verify_database

    engine = make_engine(load_settings(data_dir=workdir).platform_url)
    problem, checked = verify_database(engine)
    engine.dispose()
    print(f"audit chain after the run: {checked:,} records, {'intact' if problem is None else problem}")
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
