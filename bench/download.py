"""Benchmark of open-data downloads: the enterprise register's CSV through the served app, and the server's memory.

    python bench/download.py [--rows 40000 --rows 400000] [--rounds 3] [--keep DIR]

For each size: synthesises an enterprise source of that many rows (about 40,000 enterprises per million people;
the other three sources are empty), runs the catalog sync, which materialises the open files, then serves the
app with uvicorn in a subprocess and downloads the register's CSV over loopback with httpx, streaming, while a
thread samples the server's resident memory (VmRSS in /proc/<pid>/status) every 10 ms. Prints the file size,
the materialisation time, the download throughput (best of the rounds) and the server's idle and peak memory.
Targets: >= 50 MB/s, and peak memory no more than 100 MB above idle whatever the file size.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from catalog.opendata.publish import publish_open_data  # noqa: E402
from catalog.sync import sync_catalog  # noqa: E402
from connectors.registry import Sources  # noqa: E402
from connectors.schema import SOURCES  # noqa: E402
from ndx import server  # noqa: E402
from ndx.db import make_engine  # noqa: E402
from ndx.settings import load_settings  # noqa: E402

NAME = "open-enterprise-register"
WORDS = ["THƯƠNG MẠI", "DỊCH VỤ", "XÂY DỰNG", "CÔNG NGHỆ", "VẬN TẢI", "SẢN XUẤT", "ĐẦU TƯ", "XUẤT NHẬP KHẨU"]
PLACES = ["AN PHÁT", "HÒA BÌNH", "MINH KHANG", "THÀNH ĐẠT", "PHÚ QUÝ", "ĐỨC TÍN", "HƯNG THỊNH", "VIỆT TIẾN"]
FORMS = ["TNHH1TV", "TNHH2TV", "CP", "DNTN", "HD"]
PROVINCES = ["01", "79", "48", "31", "92", "26", "75", "89"]


def write_sources(folder: Path, rows: int) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    urls = {}
    for name, metadata in SOURCES.items():
        url = f"sqlite:///{folder / (name + '.db')}"
        engine = create_engine(url)
        metadata.create_all(engine)
        engine.dispose()
        urls[f"source_{name}"] = url
    rnd = random.Random(7)
    start = date(1995, 1, 1)
    data = [
        (
            f"{PROVINCES[i % 8]}{i:07d}{i % 10}",
            f"CÔNG TY TNHH {rnd.choice(WORDS)} {rnd.choice(PLACES)} {i}",
            rnd.choice(FORMS),
            PROVINCES[i % 8],
            f"Số {i % 300 + 1} đường Lê Lợi, phường Bến Nghé, quận {i % 12 + 1}",
            f"{rnd.randint(10, 96):02d}{rnd.randint(0, 99):02d}",
            rnd.randint(1, 500) * 100_000_000,
            f"0{PROVINCES[i % 8]}0{80 + i % 20}{i % 1_000_000:06d}",
            "Nguyễn Văn An",
            (start + timedelta(days=i % 10_000)).isoformat(),
            "active" if i % 10 else "dissolved",
        )
        for i in range(rows)
    ]
    with sqlite3.connect(folder / "enterprise.db") as conn:
        conn.executemany("INSERT INTO enterprise VALUES (?,?,?,?,?,?,?,?,?,?,?)", data)
    return urls


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(rows: int, rounds: int, folder: Path) -> dict[str, float]:
    import httpx

    urls = write_sources(folder / "sources", rows)
    settings = load_settings(data_dir=folder, **urls)
    server.migrate(settings)
    engine = make_engine(settings.platform_url)
    sources = Sources(settings.source_urls(), timeout_s=60)
    started = time.perf_counter()
    with Session(engine) as session:
        sync_catalog(session=session, sources=sources)
        report = publish_open_data(session=session, sources=sources, data_dir=folder, min_cell=10)
    materialise_s = time.perf_counter() - started
    sources.dispose()
    engine.dispose()
    assert NAME in report.datasets, report.failures

    port = free_port()
    env = {
        **os.environ,
        "NDX_LOG_LEVEL": "warning",
        "NDX_DATA_DIR": str(folder),
        **{f"NDX_{k.upper()}": v for k, v in urls.items()},
    }
    cmd = [sys.executable, "-m", "uvicorn", "ndx.app:create_app", "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        url = f"{base}/datasets/{NAME}/download/{NAME}.csv"
        httpx.get(url, headers={"Range": "bytes=0-1023"})  # warm: routes, session, first query
        idle = rss_kb(proc.pid)
        peak = idle
        best = 0.0
        size = 0
        for _ in range(rounds):
            done = threading.Event()

            def sample(done: threading.Event = done) -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss_kb(proc.pid))
                    time.sleep(0.01)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            t0 = time.perf_counter()
            size = 0
            with httpx.stream("GET", url, timeout=120) as res:
                assert res.status_code == 200
                for chunk in res.iter_raw(1 << 20):
                    size += len(chunk)
            elapsed = time.perf_counter() - t0
            done.set()
            sampler.join()
            best = max(best, size / elapsed / 1e6)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return {
        "rows": rows,
        "mb": size / 1e6,
        "materialise_s": materialise_s,
        "mb_s": best,
        "idle_mb": idle / 1024,
        "peak_mb": peak / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="Enterprises (repeat for several sizes).")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Keep the data in this folder.")
    args = parser.parse_args()
    sizes = args.rows or [40_000, 400_000]
    results = []
    for rows in sizes:
        folder = (args.keep or Path(tempfile.mkdtemp(prefix="ndx-bench-download-"))) / f"rows-{rows}"
        shutil.rmtree(folder, ignore_errors=True)
        try:
            results.append(run(rows, args.rounds, folder))
        finally:
            if not args.keep:
                shutil.rmtree(folder.parent, ignore_errors=True)
    print(f"{'rows':>9} {'CSV MB':>8} {'sync s':>7} {'MB/s':>8} {'idle MB':>8} {'peak MB':>8} {'delta MB':>9}")
    for r in results:
        delta = r["peak_mb"] - r["idle_mb"]
        print(
            f"{r['rows']:>9,} {r['mb']:>8.1f} {r['materialise_s']:>7.1f} {r['mb_s']:>8.0f} "
            f"{r['idle_mb']:>8.0f} {r['peak_mb']:>8.0f} {delta:>9.1f}"
        )
    ok = all(r["mb_s"] >= 50 and r["peak_mb"] - r["idle_mb"] <= 100 for r in results)
    print("targets (>= 50 MB/s, <= 100 MB above idle):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
