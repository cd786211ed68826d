"""docker/entrypoint.sh run directly (no container): wait for the database, migrate, serve; clear failures."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from ndx.migrate import MIGRATIONS
from tests.conftest import PostgresDatabases

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent  # the interpreter running the tests is the one with `ndx`


def entrypoint_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without any NDX_ setting, plus these; `ndx` and python first on PATH."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NDX_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["NDX_DATA_DIR"] = str(tmp_path / "data")
    env.update(settings)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error" in line.lower()]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Holds the started entrypoint processes; any still running at the end is stopped, then killed."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.mark.postgres
def test_waits_migrates_and_serves(
    postgres_databases: PostgresDatabases, tmp_path: Path, served: list[subprocess.Popen[bytes]]
) -> None:
    url = postgres_databases.create("ndx_entrypoint")
    port = free_port()
    log = tmp_path / "entrypoint.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["sh", str(ENTRYPOINT), "--port", str(port)],
            env=entrypoint_env(tmp_path, NDX_DATABASE_URL=url, NDX_DB_WAIT_S="10"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so cleanup reaches uvicorn too
        )
    served.append(proc)

    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"entrypoint exited with {proc.returncode}:\n{log.read_text()}"
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            status = response.status_code
            if status == 200:
                assert response.json() == {"status": "ok"}
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    assert status == 200, f"/healthz never answered 200 within 30 s:\n{log.read_text()}"

    heads = set(ScriptDirectory(str(MIGRATIONS)).get_heads())
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert set(MigrationContext.configure(conn).get_current_heads()) == heads
        assert {"alembic_version", "organization"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

    # `exec ndx serve`: the entrypoint's pid is the server, which stops cleanly on SIGTERM.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) in (0, -signal.SIGTERM)
    text = log.read_text()
    assert "platform database migrated" in text
    assert "Traceback" not in text


def test_unreachable_database_fails_fast_naming_it(tmp_path: Path) -> None:
    env = entrypoint_env(
        tmp_path, NDX_DATABASE_URL="postgresql+psycopg://ndx:secret@127.0.0.1:1/ndx_platform", NDX_DB_WAIT_S="2"
    )
    started = time.monotonic()
    proc = subprocess.run(
        ["sh", str(ENTRYPOINT), "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=30
    )
    elapsed = time.monotonic() - started
    assert proc.returncode != 0
    assert 1.5 < elapsed < 15
    errors = error_lines(proc.stderr)
    assert len(errors) == 1, proc.stderr
    assert "127.0.0.1:1/ndx_platform" in errors[0]
    assert "NDX_DATABASE_URL" in errors[0]
    assert "secret" not in proc.stderr, "the password must not be printed"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("NDX_PORT", "abc"), ("NDX_DB_WAIT_S", "soon"), ("NDX_DATABASE_URL", "mysql://x@localhost/ndx")],
)
def test_bad_setting_is_one_line_naming_it(tmp_path: Path, variable: str, value: str) -> None:
    proc = subprocess.run(
        ["sh", str(ENTRYPOINT)],
        env=entrypoint_env(tmp_path, **{variable: value}),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0
    errors = error_lines(proc.stderr)
    assert len(errors) == 1, proc.stderr
    assert variable in errors[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "data").exists(), "nothing may be created before the settings are valid"


@pytest.mark.postgres
def test_migration_failure_is_one_line_and_stops(postgres_databases: PostgresDatabases, tmp_path: Path) -> None:
    """A role that may connect but not create tables: the database is up, the migration fails."""
    url = make_url(postgres_databases.create("ndx_entrypoint_denied"))
    role = f"ndx_denied_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_databases.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        proc = subprocess.run(
            ["sh", str(ENTRYPOINT), "--port", str(free_port())],
            env=entrypoint_env(
                tmp_path, NDX_DATABASE_URL=url.set(username=role, password=None).render_as_string(), NDX_DB_WAIT_S="5"
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
    assert proc.returncode != 0
    errors = error_lines(proc.stderr)
    assert len(errors) == 1, proc.stderr
    assert "NDX_DATABASE_URL" in errors[0] and "migration failed" in errors[0]
    assert "serving" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_migration_failure_stops_before_serving(tmp_path: Path) -> None:
    """A platform database that cannot be migrated (here: a SQLite path under a file) is a non-zero exit."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    proc = subprocess.run(
        ["sh", str(ENTRYPOINT), "--port", str(free_port())],
        env=entrypoint_env(tmp_path, NDX_DATABASE_URL=f"sqlite:///{blocker}/platform.db"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "serving" not in proc.stderr
