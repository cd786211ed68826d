"""In-process profile of the query route: drives the ASGI app directly, no sockets, no uvicorn, no wrk.

    python bench/profile_query.py [--people 200000] [--calls 5000] [--concurrency 32] [--profile full|bare]
                                  [--profiler pyinstrument|cprofile] [--hot-first] [--bare-last] [--keep DIR]
                                  [--show-all] [--sort KEY] [--lines N] [--rounds 3]

Builds the same world as ``bench/query.py`` (population source, platform database, token, grant), serves
``bench.query:bench_app`` in this process with its lifespan running (the audit writer commits with group
commit, SQLite synchronous=FULL), and sends ``--calls`` requests to each route from ``--concurrency``
concurrent tasks. Prints microseconds per call (wall time / calls: the throughput view, what wrk sees
without the HTTP parsing) for the full and the bare route, their ratio, and the audit batches written.
With ``--profile`` the named route is run once more under pyinstrument (or cProfile) and the profile printed.
pyinstrument is a developer tool, not a dependency: ``.venv/bin/pip install pyinstrument``.

The bare route is matched before NDX's routes, as in ``bench/query.py``; ``--bare-last`` matches it after
them (the bench's former baseline) and ``--hot-first`` moves the data routes ahead of NDX's other routes
(what-if: ``ndx/app.py`` includes them after ten other routers, and FastAPI tries routes in order).
Microseconds per call are the best of ``--rounds``; compare full and bare from the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.query import PURPOSE, bench_app, prepare  # noqa: E402

Send = Callable[[dict[str, Any]], Awaitable[None]]


def scope_of(path: str, query: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: Any, scope: dict[str, Any]) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def make_scopes(route: str, token: str, people: int, n: int) -> list[dict[str, Any]]:
    rnd = random.Random(7)
    auth = [(b"authorization", f"Bearer {token}".encode()), (b"x-ndx-purpose", PURPOSE.encode())]
    scopes = []
    for _ in range(n):
        cid = f"07909{rnd.randrange(people):07d}"
        if route == "full":
            scopes.append(scope_of("/api/v1/datasets/population-citizen/records", f"citizen_id={cid}", auth))
        else:
            scopes.append(scope_of(f"/bench/bare/{cid}", "", []))
    return scopes


async def drive(app: Any, scopes: list[dict[str, Any]], concurrency: int) -> tuple[float, dict[int, int]]:
    """Send every scope from ``concurrency`` tasks; wall seconds and the count of each status (the process's
    CPU seconds in ``LAST_CPU[0]``: less sensitive than wall time to other processes on the machine)."""
    it = iter(scopes)
    statuses: dict[int, int] = {}

    async def worker() -> None:
        for scope in it:
            status = await call(app, dict(scope, state={}))
            statuses[status] = statuses.get(status, 0) + 1

    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    LAST_CPU[0] = time.process_time() - c0
    return time.perf_counter() - t0, statuses


LAST_CPU = [0.0]


async def main_async(args: argparse.Namespace, token: str) -> None:
    app = bench_app()
    if args.hot_first:  # what-if: the data router matched first (ndx/app.py includes it after six others)
        from connectors import router as data_router

        routes = app.router.routes
        hot = [r for r in routes if getattr(r, "original_router", None) is data_router.router]
        for r in hot:
            routes.remove(r)
        routes[0:0] = hot
        app.router._mark_routes_changed()
    if args.bare_last:  # the bare route matched after every NDX route (bench/query.py --bare last)
        routes = app.router.routes
        bare = [r for r in routes if getattr(r, "path", None) == "/bench/bare/{citizen_id}"]
        for r in bare:
            routes.remove(r)
        routes.extend(bare)
    writer = app.state.audit_writer
    async with app.router.lifespan_context(app):
        results: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for route in ("full", "bare"):
            await drive(app, make_scopes(route, token, args.people, 300), args.concurrency)  # warm up
        for rnd in range(args.rounds):
            for route in ("full", "bare"):
                scopes = make_scopes(route, token, args.people, args.calls)
                batches, written = writer.batches, writer.write_seconds
                wall, statuses = await drive(app, scopes, args.concurrency)
                us = wall / len(scopes) * 1e6
                results[route] = min(results.get(route, us), us)
                cpu_us = LAST_CPU[0] / len(scopes) * 1e6
                cpu[route] = min(cpu.get(route, cpu_us), cpu_us)
                extra = ""
                if route == "full":
                    n = writer.batches - batches
                    spent = (writer.write_seconds - written) * 1e3 / max(n, 1)
                    extra = f"  audit batches {n} (~{len(scopes) / max(n, 1):.1f} records, {spent:.2f} ms each)"
                print(
                    f"round {rnd + 1} {route:>4}: {us:8.1f} us/call ({cpu_us:6.1f} CPU)  {1e6 / us:7.0f} calls/s  "
                    f"{statuses}{extra}"
                )
        full, bare = results["full"], results["bare"]
        ratio = full / bare
        print(f"\nbest of {args.rounds}: full {full:.1f} us/call, bare {bare:.1f} us/call, ratio full/bare {ratio:.2f}")
        full_cpu, bare_cpu = cpu["full"], cpu["bare"]
        print(f"CPU per call: full {full_cpu:.1f} us, bare {bare_cpu:.1f} us, ratio {full_cpu / bare_cpu:.2f}")
        if args.profile:
            scopes = make_scopes(args.profile, token, args.people, args.calls)
            if args.profiler == "pyinstrument":
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0002, async_mode="disabled")
                profiler.start()
                await drive(app, scopes, args.concurrency)
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=args.show_all, short_mode=False))
            else:
                prof = cProfile.Profile()
                prof.enable()
                await drive(app, scopes, args.concurrency)
                prof.disable()
                pstats.Stats(prof).sort_stats(args.sort).print_stats(args.lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=200_000)
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--profile", choices=("full", "bare"))
    ap.add_argument("--profiler", choices=("pyinstrument", "cprofile"), default="pyinstrument")
    ap.add_argument("--show-all", action="store_true", help="pyinstrument: show library frames too.")
    ap.add_argument("--sort", default="tottime", help="cProfile: sort key (tottime, cumulative, ...).")
    ap.add_argument("--lines", type=int, default=40, help="cProfile: lines to print.")
    ap.add_argument("--hot-first", action="store_true", help="Match the data routes before every other route.")
    ap.add_argument("--bare-last", action="store_true", help="Match the bare route after every NDX route.")
    ap.add_argument("--keep", type=Path, help="Work in this folder and keep it (reused when it holds a bench).")
    args = ap.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="ndx-profile-"))
    saved = workdir / "bench.json"
    if saved.exists():  # --keep: reuse the world built by an earlier run
        env, token = json.loads(saved.read_text())
    else:
        env, token = prepare(workdir, args.people)
        saved.write_text(json.dumps([env, token]))
    os.environ.update(env)
    try:
        asyncio.run(main_async(args, token))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
